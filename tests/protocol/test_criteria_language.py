"""The criteria language: what a protocol file may say, and the mistakes it refuses."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml

from trialdesk.protocol import ProtocolError, builtin_protocol, load_protocol_text
from trialdesk.protocol.loader import builtin_protocol_text


def _data() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(builtin_protocol_text()))


def _problems(data: dict[str, Any]) -> str:
    with pytest.raises(ProtocolError) as caught:
        load_protocol_text(yaml.safe_dump(data, allow_unicode=True))
    return "\n".join(caught.value.problems)


def _criterion(data: dict[str, Any], criterion_id: str) -> dict[str, Any]:
    return next(c for c in data["criteria"] if c["id"] == criterion_id)


def test_every_nct06021067_criterion_is_computable_or_routed_to_the_investigator() -> None:
    protocol = builtin_protocol().protocol
    assert all(c.computable for c in protocol.criteria)
    for criterion in protocol.criteria:
        assert criterion.facts, criterion.id
        for item in criterion.sub:
            assert item.text.en.strip() and item.text.zh.strip()


def test_the_age_criterion_matches_the_population_ages() -> None:
    protocol = builtin_protocol().protocol
    rule = next(c for c in protocol.criteria if c.id == "I8").rule
    values = sorted(node.value for node in rule.of)  # type: ignore[union-attr]
    assert values == [protocol.population.min_age_years, protocol.population.max_age_years]


def test_code_sets_and_screening_rules_are_assumptions_with_notes() -> None:
    places = dict(builtin_protocol().protocol.assumptions())
    assert "screening" in places
    assert all(
        f"code_sets[{i}]" in places for i in range(len(builtin_protocol().protocol.code_sets))
    )


def test_a_rule_naming_an_undeclared_code_set_is_refused() -> None:
    data = _data()
    _criterion(data, "E3")["sub"][0]["rule"]["code_set"] = "lung_surgery"
    assert "code set 'lung_surgery'" in _problems(data)


def test_a_duplicate_judgement_id_is_refused() -> None:
    data = _data()
    _criterion(data, "E14")["rule"]["id"] = "E15"
    assert "judgement id 'E15' appears more than once" in _problems(data)


def test_a_sub_criterion_id_must_sit_under_its_parent() -> None:
    data = _data()
    _criterion(data, "I4a")["sub"][0]["id"] = "I4.anc"
    assert "must start with 'I4a.'" in _problems(data)


def test_unknown_facts_units_and_kinds_are_refused() -> None:
    data = _data()
    _criterion(data, "I2")["rule"]["of"][0]["fact"] = "karnofsky"
    assert "unknown fact 'karnofsky'" in _problems(data)
    data = _data()
    _criterion(data, "I4a")["sub"][0]["rule"]["unit"] = "mg/dL"
    assert "anc threshold" in _problems(data)
    data = _data()
    _criterion(data, "I6")["rule"]["kind"] = "guess"
    assert "criteria[" in _problems(data)


def test_computable_without_a_rule_is_refused() -> None:
    data = _data()
    criterion = _criterion(data, "E15")
    del criterion["rule"]
    criterion["computable"] = True
    assert "no rule or sub-criteria" in _problems(data)


def test_a_tension_must_name_existing_criteria() -> None:
    data = _data()
    data["tensions"][0]["hold"] = ["E10.anticoagulants"]
    assert "unknown criteria ['E10.anticoagulants']" in _problems(data)
