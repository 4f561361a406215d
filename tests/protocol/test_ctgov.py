"""Import of a ClinicalTrials.gov API v2 record (a record written by hand to the public schema)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from trialdesk.errors import TrialdeskError
from trialdesk.protocol import load_protocol_text
from trialdesk.protocol.ctgov import TRANSLATION_NEEDED, draft_yaml, split_eligibility

RECORD = Path(__file__).parent / "data" / "ctgov_record.json"


def test_eligibility_text_is_split_into_items() -> None:
    inclusion, exclusion = split_eligibility(
        "Inclusion Criteria:\n\n* A;\n* B continues\n  on the next line\n\n"
        "Exclusion Criteria:\n\n1. C\n2. D"
    )
    assert inclusion == ["A;", "B continues on the next line"]
    assert exclusion == ["C", "D"]


def test_record_becomes_a_valid_draft() -> None:
    text = draft_yaml(json.loads(RECORD.read_text()))
    protocol = load_protocol_text(text).protocol
    assert protocol.status == "draft"
    assert protocol.id == "NCT09999991"
    assert protocol.registry.phases == ["PHASE1"]
    assert protocol.registry.enrollment == 18
    assert protocol.registry.sponsor == "Example University"
    assert (protocol.population.min_age_years, protocol.population.max_age_years) == (18, 70)
    assert [c.id for c in protocol.criteria] == ["I1", "I2", "I3", "E1", "E2"]
    assert (
        protocol.criteria[1].registry_text
        == "ANC ≥ 1.5 x 10^9 / L, PLT ≥ 80 x 10^9 / L measured within 7 days;"
    )
    assert not any(c.computable for c in protocol.criteria)
    assert all(c.text.zh.startswith(TRANSLATION_NEEDED) for c in protocol.criteria)
    assert protocol.arms[0].interventions[0].type == "BIOLOGICAL"
    assert [e.kind for e in protocol.endpoints] == ["primary", "secondary"]
    assert protocol.registry.sites[0].city == "Chengdu"


def test_draft_says_what_is_missing() -> None:
    text = draft_yaml(json.loads(RECORD.read_text()))
    assert "add doses, schedule, dlt, design" in text
    data = yaml.safe_load(text)
    data["status"] = "active"
    with pytest.raises(TrialdeskError, match="an active protocol needs doses"):
        load_protocol_text(yaml.safe_dump(data, allow_unicode=True))


def test_not_a_study_record() -> None:
    with pytest.raises(TrialdeskError, match="protocolSection"):
        draft_yaml({"studies": []})
