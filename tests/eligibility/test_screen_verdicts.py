"""Verdict precedence: ineligible > needs_review (protocol tension) > incomplete > eligible."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from eligibility_patients import answer, drop_lab, set_lab

from trialdesk.eligibility import ScreeningResult

Run = Callable[[dict[str, Any]], ScreeningResult]

WARFARIN = {"system": "atc", "code": "B01AA03", "display": "warfarin", "start": "2025-12-01"}


def _anticoagulated(data: dict[str, Any], *, pt_in_range: str | None = "yes") -> None:
    data["medications"].append(dict(WARFARIN))
    set_lab(data, "inr", 2.5, "1", uln=1.2)  # therapeutic INR: 2.1×ULN
    set_lab(data, "pt", 28.0, "s", uln=13.5)  # 2.1×ULN
    if pt_in_range is not None:
        data["judgements"]["I4c.pt_in_range"] = answer(pt_in_range)


def test_anticoagulant_under_i4c_versus_e10_needs_review(run: Run, patient: dict[str, Any]) -> None:
    _anticoagulated(patient)
    result = run(patient)
    assert result.verdict == "needs_review"
    assert result.tensions == ("anticoagulant_I4c_E10",)
    assert result.criterion("I4c").status == "met"  # through I4c.anticoagulated
    assert result.criterion("I4c.anticoagulated").status == "met"
    held = result.criterion("E10.anticoagulant")
    assert held.status == "needs_confirmation"
    assert held.evidence["tension"]["between"] == ["I4c", "E10"]
    assert "warfarin" in held.reason and "I4c" in held.reason
    assert result.criterion("E10").status == "needs_confirmation"
    assert "I4c" in result.reason and "E10" in result.reason


def test_an_anticoagulant_recorded_by_category_counts_too(
    run: Run, patient: dict[str, Any]
) -> None:
    patient["medications"].append(
        {"category": "anticoagulant", "display": "rivaroxaban", "start": "2026-01-05"}
    )
    assert run(patient).verdict == "needs_review"


def test_a_stopped_anticoagulant_is_no_tension(run: Run, patient: dict[str, Any]) -> None:
    patient["medications"].append({**WARFARIN, "end": "2026-02-01"})
    assert run(patient).verdict == "eligible"


def test_ineligible_wins_over_a_tension(run: Run, patient: dict[str, Any]) -> None:
    _anticoagulated(patient)
    set_lab(patient, "platelets", 60, "10^9/L")
    result = run(patient)
    assert result.verdict == "ineligible" and result.failing == ("I4a",)


def test_pt_out_of_the_drugs_range_fails_i4c(run: Run, patient: dict[str, Any]) -> None:
    _anticoagulated(patient, pt_in_range="no")
    result = run(patient)
    assert result.verdict == "ineligible"
    assert result.failing == ("I4c",)


def test_needs_review_wins_over_incomplete(run: Run, patient: dict[str, Any]) -> None:
    _anticoagulated(patient, pt_in_range=None)
    del patient["ecog"]
    result = run(patient)
    assert result.verdict == "needs_review"
    assert result.missing == ("ecog",)
    assert "I4c.pt_in_range" in result.pending


def test_ineligible_wins_over_missing_facts_and_names_every_failure(
    run: Run, patient: dict[str, Any]
) -> None:
    drop_lab(patient, "platelets")
    del patient["judgements"]["E15"]
    set_lab(patient, "anc", 1.0, "10^9/L")
    patient["birth_date"] = "2010-01-01"  # 16 years old
    patient["judgements"]["E14"] = answer("yes")
    result = run(patient)
    assert result.verdict == "ineligible"
    assert result.failing == ("I4a", "I8", "E14")
    assert result.reason == "Ineligible: fails I4a (I4a.anc), I8, E14."
    assert result.criterion("I4a.plt").status == "unknown"


def test_incomplete_names_missing_facts_and_unanswered_items(
    run: Run, patient: dict[str, Any]
) -> None:
    drop_lab(patient, "platelets")
    del patient["judgements"]["I6"]
    result = run(patient)
    assert result.verdict == "incomplete"
    assert result.missing == ("platelets",)
    assert result.pending == ("I6",)
    assert "platelets" in result.reason and "I6" in result.reason


def test_an_abnormal_ecg_goes_to_the_investigator(run: Run, patient: dict[str, Any]) -> None:
    patient["ecg"] = "abnormal"
    result = run(patient)
    assert result.criterion("I4d.ecg").status == "needs_confirmation"
    assert result.pending == ("I4d.ecg_not_significant",)
    patient["judgements"]["I4d.ecg_not_significant"] = answer("yes")
    assert run(patient).verdict == "eligible"
    patient["judgements"]["I4d.ecg_not_significant"] = answer("no")
    assert run(patient).failing == ("I4d",)


def test_a_missing_uln_is_named(run: Run, patient: dict[str, Any]) -> None:
    set_lab(patient, "alt", 32, "U/L")
    for lab in patient["labs"]:
        if lab["analyte"] == "alt":
            del lab["uln"]
    result = run(patient)
    assert result.criterion("I4b.alt").status == "unknown"
    assert "alt.uln" in result.missing


def test_a_lung_injury_without_onset_date_is_unknown(run: Run, patient: dict[str, Any]) -> None:
    del patient["history"][1]["onset"]
    result = run(patient)
    assert result.criterion("I5").status == "unknown"
    assert result.missing == ("history[1].onset",)
