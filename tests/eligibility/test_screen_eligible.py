"""The fully eligible patient, the JSON shape of a result, and what an empty record gives."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from trialdesk.eligibility import (
    ScreeningRecord,
    ScreeningResult,
    judgement_questions,
    load_record,
    screen,
)
from trialdesk.protocol.models import Protocol

Run = Callable[[dict[str, Any]], ScreeningResult]


def _all_ids(protocol: Protocol) -> list[str]:
    return [i for c in protocol.criteria for i in c.ids]


def test_the_eligible_patient_is_eligible_on_every_criterion(
    run: Run, patient: dict[str, Any]
) -> None:
    result = run(patient)
    assert result.verdict == "eligible", result.reason
    tops = [c for c in result.criteria if c.parent is None]
    assert {c.status for c in tops if c.kind == "inclusion"} == {"met"}
    assert {c.status for c in tops if c.kind == "exclusion"} == {"not_met"}
    assert result.failing == result.missing == result.pending == result.tensions == ()


def test_to_json_has_exactly_verdict_and_every_criterion_id(
    run: Run, patient: dict[str, Any], protocol: Protocol
) -> None:
    payload = run(patient).to_json()
    assert set(payload) == {"verdict", "criteria"}
    assert [c["id"] for c in payload["criteria"]] == _all_ids(protocol)
    for item in payload["criteria"]:
        assert set(item) == {"id", "status", "reason", "evidence"}
        assert item["status"] in ("met", "not_met", "unknown", "needs_confirmation")
        assert item["reason"].strip()
    assert json.loads(json.dumps(payload)) == payload


def test_sub_criteria_carry_ids_under_their_parent(protocol: Protocol) -> None:
    ids = _all_ids(protocol)
    for expected in (
        "I4a.anc",
        "I4a.plt",
        "I4a.hgb",
        "I4b.tbil",
        "I4b.alt",
        "I4b.ast",
        "I4b.crcl",
        "I4c.inr",
        "I4c.pt",
        "I4d.ecg",
        "I4d.lvef",
        "E8.ast",
        "E8.alt",
        "E8.creatinine",
    ):
        assert expected in ids


def test_a_record_with_only_a_screening_date_is_incomplete_and_says_what_is_missing(
    protocol: Protocol,
) -> None:
    result = screen(protocol, ScreeningRecord.from_data({"screening_date": "2026-03-10"}))
    assert result.verdict == "incomplete"
    assert [c["id"] for c in result.to_json()["criteria"]] == _all_ids(protocol)
    # CrCl names its own missing inputs: weight, creatinine, sex (and age).
    for fact in ("anc", "platelets", "haemoglobin", "age", "ecog", "lvef", "weight", "sex"):
        assert fact in result.missing, fact
    assert "I6" in result.pending and "E15" in result.pending
    assert "anc" in result.reason and "E15" in result.reason


def test_screening_is_deterministic(run: Run, patient: dict[str, Any]) -> None:
    first, second = run(patient), run(patient)
    assert json.dumps(first.to_json(), sort_keys=True) == json.dumps(
        second.to_json(), sort_keys=True
    )


def test_crcl_evidence_shows_the_formula_and_its_inputs(run: Run, patient: dict[str, Any]) -> None:
    evidence = run(patient).criterion("I4b.crcl").evidence
    # Cockcroft-Gault: (140 - 63) x 60 / (72 x 0.8) x 0.85 = 68.2 mL/min
    assert evidence["crcl"]["value"] == 68.2
    assert evidence["crcl"]["age_years"] == 63
    assert evidence["crcl"]["weight_kg"] == 60
    assert evidence["crcl"]["creatinine_mg_dl"] == 0.8
    assert evidence["crcl"]["sex_factor"] == 0.85
    assert evidence["crcl"]["weight_basis"] == "actual"


def test_uln_evidence_shows_the_limit_and_the_multiple(run: Run, patient: dict[str, Any]) -> None:
    evidence = run(patient).criterion("I4b.alt").evidence["alt"]
    assert (evidence["value"], evidence["uln"], evidence["multiple_of_uln"]) == (32, 40, 0.8)
    assert evidence["taken_on"] == "2026-03-06" and evidence["days_before_screening"] == 4


def test_load_record_reads_yaml_files_and_json_text(tmp_path: Any, patient: dict[str, Any]) -> None:
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(patient), encoding="utf-8")
    from_file = load_record(path)
    from_text = load_record(json.dumps(patient))
    assert from_file == from_text == ScreeningRecord.from_data(patient)
    yaml_text = (
        "screening_date: 2026-03-10\nsex: male\njudgements:\n"
        "  I6: {answer: yes, answered_by: Dr Li, answered_on: 2026-03-10}\n"
    )
    record = load_record(yaml_text)
    assert record.sex == "male" and record.judgements["I6"].answer == "yes"


def test_a_record_round_trips_through_json(patient: dict[str, Any], protocol: Protocol) -> None:
    record = ScreeningRecord.from_data(patient)
    again = ScreeningRecord.from_data(json.loads(record.model_dump_json()))
    assert again == record
    assert screen(protocol, again).to_json() == screen(protocol, record).to_json()


def test_judgement_questions_list_every_item_in_both_languages(
    protocol: Protocol, patient: dict[str, Any]
) -> None:
    questions = judgement_questions(protocol)
    assert set(patient["judgements"]) <= set(questions)
    assert {"I6", "I4d.ecg_not_significant", "I4c.pt_in_range", "E7.nyha_3_4"} <= set(questions)
    for question in questions.values():
        assert question.en.endswith("?") and question.zh.endswith("？")
