"""Each exclusion of NCT06021067 firing alone on the eligible patient: only it fails."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eligibility_patients import answer, set_lab

from trialdesk.eligibility import ScreeningResult

Run = Callable[[dict[str, Any]], ScreeningResult]
Change = Callable[[dict[str, Any]], None]


def _history(system: str, code: str, onset: str, **extra: Any) -> Change:
    def change(data: dict[str, Any]) -> None:
        data["history"].append({"system": system, "code": code, "onset": onset, **extra})

    return change


def _answer_yes(judgement: str) -> Change:
    def change(data: dict[str, Any]) -> None:
        data["judgements"][judgement] = answer("yes")

    return change


def _pregnant(data: dict[str, Any]) -> None:
    data.update(pregnant=True, childbearing_potential=True, will_use_contraception=True)


def _lactating(data: dict[str, Any]) -> None:
    data["lactating"] = True


def _no_contraception(data: dict[str, Any]) -> None:
    data.update(childbearing_potential=True, will_use_contraception=False)


def _male_no_contraception(data: dict[str, Any]) -> None:
    data.update(sex="male", pregnant=None, lactating=None)
    data.update(childbearing_potential=True, will_use_contraception=False)


def _high_creatinine_heavy_woman(data: dict[str, Any]) -> None:
    # 1.45 mg/dL > 1.4 for a woman; at 100 kg CrCl stays >= 60 so I4b.crcl still passes:
    # (140-63) x 100 / (72 x 1.45) x 0.85 = 62.7 mL/min.
    data["weight"] = {"value": 100, "unit": "kg"}
    set_lab(data, "creatinine", 1.45, "mg/dL")


EXCLUSIONS: list[tuple[str, str, Change]] = [
    ("E1", "E1.pregnant", _pregnant),
    ("E1", "E1.lactating", _lactating),
    ("E1", "E1.contraception", _no_contraception),
    ("E1", "E1.contraception", _male_no_contraception),
    ("E2", "E2.coded", _history("icd10", "J43.9", "2019-04-01")),
    ("E2", "E2.coded", _history("snomed", "83291003", "2021-01-15")),
    ("E2", "E2.investigator", _answer_yes("E2.investigator")),
    ("E3", "E3.coded", _history("icd10", "Z90.2", "2018-09-01")),
    ("E4", "E4", _answer_yes("E4")),
    ("E5", "E5", _answer_yes("E5")),
    ("E6", "E6", _answer_yes("E6")),
    ("E7", "E7.mi", _history("icd10", "I21.0", "2026-01-02")),
    ("E7", "E7.cerebral_infarction", _history("icd10", "I63.9", "2025-12-01")),
    ("E7", "E7.cerebral_haemorrhage", _history("snomed", "274100004", "2025-11-20")),
    ("E7", "E7.unstable_angina", _history("icd10", "I20.0", "2026-02-01")),
    ("E7", "E7.arrhythmia", _history("icd10", "I47.2", "2025-10-01", abatement="2025-10-03")),
    ("E7", "E7.investigator", _answer_yes("E7.investigator")),
    ("E8", "E8.creatinine", _high_creatinine_heavy_woman),
    ("E9", "E9.tuberculosis", _history("icd10", "A15.0", "2026-01-20")),
    ("E9", "E9.hiv", _history("icd10", "B20", "2010-01-01")),
    ("E9", "E9.influenza", _history("icd10", "J10.1", "2026-03-08")),
    ("E9", "E9.investigator", _answer_yes("E9.investigator")),
    ("E10", "E10.haemorrhage_thrombosis", _history("icd10", "I26.9", "2026-03-01")),
    ("E10", "E10.bleeding_tendency", _history("icd10", "D68.9", "2024-01-01")),
    ("E11", "E11.cachexia", _history("icd10", "R64", "2026-02-15")),
    ("E11", "E11.investigator", _answer_yes("E11.investigator")),
    ("E12", "E12.shock", _history("icd10", "R57.0", "2026-03-09")),
    ("E12", "E12.investigator", _answer_yes("E12.investigator")),
    ("E13", "E13", _answer_yes("E13")),
    ("E14", "E14", _answer_yes("E14")),
    ("E15", "E15", _answer_yes("E15")),
]


@pytest.mark.parametrize(
    ("criterion", "part", "change"), EXCLUSIONS, ids=[f"{c}-{p}" for c, p, _ in EXCLUSIONS][:]
)
def test_each_exclusion_fires_alone(
    run: Run, patient: dict[str, Any], criterion: str, part: str, change: Change
) -> None:
    change(patient)
    result = run(patient)
    assert result.criterion(part).status == "met"
    assert result.criterion(criterion).status == "met"
    assert result.verdict == "ineligible"
    assert result.failing == (criterion,), result.reason
    assert part in result.reason or part == criterion


def test_every_exclusion_has_a_case_above() -> None:
    assert {c for c, _, _ in EXCLUSIONS} == {f"E{n}" for n in range(1, 16)}


@pytest.mark.parametrize(
    ("code", "onset", "abatement"),
    [
        ("A15.0", "2024-01-01", "2024-07-01"),  # tuberculosis treated and over: not current
        ("I63.9", "2025-09-01", None),  # cerebral infarction more than 6 months ago
        ("I26.9", "2025-01-01", "2025-02-01"),  # pulmonary embolism that has resolved
    ],
)
def test_past_conditions_outside_their_window_do_not_exclude(
    run: Run, patient: dict[str, Any], code: str, onset: str, abatement: str | None
) -> None:
    _history("icd10", code, onset, abatement=abatement)(patient)
    assert run(patient).verdict == "eligible"


def test_heart_failure_excludes_only_when_the_investigator_says_nyha_3_or_4(
    run: Run, patient: dict[str, Any]
) -> None:
    _history("icd10", "I50.0", "2025-06-01")(patient)
    pending = run(patient)
    assert pending.criterion("E7.heart_failure").status == "needs_confirmation"
    assert pending.verdict == "incomplete" and pending.pending == ("E7.nyha_3_4",)
    patient["judgements"]["E7.nyha_3_4"] = answer("no")
    assert run(patient).verdict == "eligible"
    patient["judgements"]["E7.nyha_3_4"] = answer("yes")
    assert run(patient).failing == ("E7",)


def test_an_unanswered_exclusion_judgement_leaves_the_screening_incomplete(
    run: Run, patient: dict[str, Any]
) -> None:
    del patient["judgements"]["E14"]
    result = run(patient)
    assert result.criterion("E14").status == "needs_confirmation"
    assert result.verdict == "incomplete" and result.pending == ("E14",)
    assert "stem cells" in result.criterion("E14").reason
