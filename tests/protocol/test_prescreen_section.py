"""The protocol's pre-screening section: it names real criteria and repeats their limits."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from trialdesk.protocol import ProtocolError, builtin_protocol, load_protocol_text
from trialdesk.protocol.loader import builtin_protocol_text


def _with_prescreen(change: dict[str, Any]) -> str:
    data = yaml.safe_load(builtin_protocol_text())
    data["prescreen"]["questions"][0].update(change)
    return yaml.safe_dump(data, allow_unicode=True)


def test_builtin_questions_stand_for_patient_answerable_criteria() -> None:
    prescreen = builtin_protocol().protocol.prescreen
    assert prescreen is not None
    # NCT06021067.md: I8 age, I1 chest radiotherapy, I3 diagnosis, I5 onset < 2 months,
    # E1 pregnancy/lactation, E3 lung resection, E2 chronic lung disease, E14 stem-cell study.
    assert set(prescreen.criteria_ids()) == {"I8", "I1", "I3", "I5", "E1", "E3", "E2", "E14"}


def test_age_question_repeats_the_population_limits() -> None:
    protocol = builtin_protocol().protocol
    assert protocol.prescreen is not None
    age = next(q for q in protocol.prescreen.questions if q.id == "age")
    limits = {(b.op, b.value) for b in age.accept}
    pop = protocol.population
    assert limits == {(">=", pop.min_age_years), ("<=", pop.max_age_years)}


def test_onset_question_repeats_criterion_i5() -> None:
    protocol = builtin_protocol().protocol
    assert protocol.prescreen is not None
    onset = next(q for q in protocol.prescreen.questions if q.id == "injury_began")
    i5 = next(c for c in protocol.criteria if c.id == "I5")
    assert i5.rule is not None and onset.since is not None
    assert onset.since.model_dump() == i5.rule.onset.model_dump()  # type: ignore[union-attr]


def test_unknown_criterion_is_refused() -> None:
    with pytest.raises(ProtocolError, match="prescreen names unknown criteria"):
        load_protocol_text(_with_prescreen({"criteria": ["I99"]}), "x.yaml")


def test_number_question_needs_accept_not_fails_when() -> None:
    with pytest.raises(ProtocolError, match="judged by 'accept' alone"):
        load_protocol_text(_with_prescreen({"fails_when": "yes"}), "x.yaml")


def test_ask_if_must_name_an_earlier_yes_no_question() -> None:
    with pytest.raises(ProtocolError, match="must be an earlier yes/no question"):
        load_protocol_text(_with_prescreen({"ask_if": {"lung_injury": "yes"}}), "x.yaml")
