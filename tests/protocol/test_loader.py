"""Loading protocol files: every problem located and explained; nothing silently accepted."""

from __future__ import annotations

import pytest
import yaml

from trialdesk.protocol import ProtocolError, load_protocol_text
from trialdesk.protocol.loader import builtin_protocol_text, format_location


def _builtin_data() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load(builtin_protocol_text())  # type: ignore[no-any-return]


def _problems(data: object) -> list[str]:
    with pytest.raises(ProtocolError) as caught:
        load_protocol_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "test.yaml")
    return caught.value.problems


def test_location_format() -> None:
    assert format_location(("doses", 2, "amount")) == "doses[2].amount"
    assert format_location(()) == "(top level)"


def test_negative_dose_names_the_field_and_line() -> None:
    data = _builtin_data()
    data["doses"][2]["amount"] = -1
    problems = _problems(data)
    assert len(problems) == 1
    assert problems[0].startswith("doses[2].amount (line ")
    assert "must be > 0" in problems[0]


def test_every_problem_is_reported_at_once() -> None:
    data = _builtin_data()
    data["dlt"]["window_days"] = 0
    data["population"]["sex"] = "unknown"
    data["registry"]["enrolment"] = 15  # British spelling of a field that is spelled enrollment
    problems = "\n".join(_problems(data))
    assert "dlt.window_days" in problems and "must be > 0" in problems
    assert "population.sex" in problems and "'ALL', 'FEMALE' or 'MALE'" in problems
    assert "registry.enrolment" in problems and "check its spelling" in problems


def test_dose_levels_must_increase() -> None:
    data = _builtin_data()
    data["doses"][1]["amount"] = 1e5
    assert any("larger than the level below" in p for p in _problems(data))


def test_assumption_without_note_is_refused() -> None:
    data = _builtin_data()
    del data["doses"][2]["note"]
    assert any(p.startswith("doses[2]") and "needs a note" in p for p in _problems(data))


def test_duplicate_criterion_ids_are_refused() -> None:
    data = _builtin_data()
    data["criteria"][1]["id"] = "I1"
    assert any("'I1' appears more than once" in p for p in _problems(data))


def test_yaml_syntax_error_gives_line_and_column() -> None:
    with pytest.raises(ProtocolError) as caught:
        load_protocol_text("id: X\nregistry: [unclosed\n", "bad.yaml")
    assert "line 3" in str(caught.value) or "line 2" in str(caught.value)
    assert "not valid YAML" in str(caught.value)


def test_active_protocol_needs_design_and_doses() -> None:
    data = _builtin_data()
    del data["design"]
    data["doses"] = []
    problems = "\n".join(_problems(data))
    assert "an active protocol needs doses, design" in problems
    assert "status: draft" in problems


def test_same_text_same_hash_changed_text_new_hash() -> None:
    text = builtin_protocol_text()
    assert load_protocol_text(text).sha256 == load_protocol_text(text).sha256
    assert load_protocol_text(text + "\n# comment\n").sha256 != load_protocol_text(text).sha256
