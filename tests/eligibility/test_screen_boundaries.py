"""Every threshold of NCT06021067 at its boundary: the value on the line passes, one step past
it fails. Thresholds are the registry's (shared/docs/NCT06021067.md, Eligibility table)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eligibility_patients import set_lab

from trialdesk.eligibility import ScreeningResult

Run = Callable[[dict[str, Any]], ScreeningResult]


def _status(run: Run, data: dict[str, Any], criterion_id: str) -> str:
    return run(data).criterion(criterion_id).status


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "criterion", "expected"),
    [
        ("anc", 1.5, "10^9/L", "I4a.anc", "met"),
        ("anc", 1.49, "10^9/L", "I4a.anc", "not_met"),
        ("anc", 1500, "/µL", "I4a.anc", "met"),  # 1500 /µL = 1.5×10^9/L
        ("anc", 1490, "/µL", "I4a.anc", "not_met"),
        ("platelets", 80, "10^9/L", "I4a.plt", "met"),
        ("platelets", 79, "10^9/L", "I4a.plt", "not_met"),
        ("haemoglobin", 80, "g/L", "I4a.hgb", "met"),
        ("haemoglobin", 8.0, "g/dL", "I4a.hgb", "met"),
        ("haemoglobin", 7.9, "g/dL", "I4a.hgb", "not_met"),  # 7.9 g/dL = 79 g/L
        ("haemoglobin", 79, "g/L", "I4a.hgb", "not_met"),
    ],
)
def test_blood_count_thresholds(
    run: Run,
    patient: dict[str, Any],
    analyte: str,
    value: float,
    unit: str,
    criterion: str,
    expected: str,
) -> None:
    set_lab(patient, analyte, value, unit)
    result = run(patient)
    assert result.criterion(criterion).status == expected
    assert result.verdict == ("eligible" if expected == "met" else "ineligible")
    if expected == "not_met":
        assert result.failing == ("I4a",)
        assert criterion in result.reason


@pytest.mark.parametrize(
    ("value", "expected"),
    [(1.8, "met"), (1.81, "not_met")],  # ULN 1.2 mg/dL: 1.5×ULN = 1.8
)
def test_total_bilirubin_at_one_and_a_half_times_uln(
    run: Run, patient: dict[str, Any], value: float, expected: str
) -> None:
    set_lab(patient, "bilirubin_total", value, "mg/dL", uln=1.2)
    assert _status(run, patient, "I4b.tbil") == expected


def test_bilirubin_in_micromoles_against_a_uln_in_milligrams(
    run: Run, patient: dict[str, Any]
) -> None:
    # 1 mg/dL bilirubin = 17.1 µmol/L, so a ULN of 1.2 mg/dL is 20.5 µmol/L and 1.5×ULN is
    # 30.8 µmol/L: 30 µmol/L passes, 31 fails.
    set_lab(patient, "bilirubin_total", 30, "µmol/L", uln=1.2, uln_unit="mg/dL")
    result = run(patient).criterion("I4b.tbil")
    assert result.status == "met"
    assert result.evidence["bilirubin_total"]["multiple_of_uln"] == pytest.approx(1.462, abs=1e-3)
    set_lab(patient, "bilirubin_total", 31, "µmol/L", uln=1.2, uln_unit="mg/dL")
    assert _status(run, patient, "I4b.tbil") == "not_met"


@pytest.mark.parametrize("analyte", ["alt", "ast"])
def test_transaminases_at_two_and_a_half_times_uln(
    run: Run, patient: dict[str, Any], analyte: str
) -> None:
    set_lab(patient, analyte, 100, "U/L", uln=40)  # exactly 2.5×ULN
    on_line = run(patient)
    assert on_line.criterion(f"I4b.{analyte}").status == "met"
    assert on_line.criterion(f"E8.{analyte}").status == "not_met"
    assert on_line.verdict == "eligible"
    set_lab(patient, analyte, 101, "U/L", uln=40)
    past = run(patient)
    assert past.criterion(f"I4b.{analyte}").status == "not_met"
    assert past.criterion(f"E8.{analyte}").status == "met"
    assert past.failing == ("I4b", "E8")


@pytest.mark.parametrize(
    ("sex", "creatinine", "expected"),
    [
        # Cockcroft-Gault at 68 years, 60 kg: (140-68) x 60 / (72 x SCr) [x 0.85 for women].
        ("male", 1.0, "met"),  # 4320 / 72 = 60.0 mL/min
        ("male", 1.01, "not_met"),  # 59.4 mL/min
        ("female", 0.85, "met"),  # 4320 / 61.2 x 0.85 = 60.0 mL/min
        ("female", 0.86, "not_met"),  # 59.3 mL/min
    ],
)
def test_creatinine_clearance_of_60_by_sex(
    run: Run, patient: dict[str, Any], sex: str, creatinine: float, expected: str
) -> None:
    patient.update(sex=sex, birth_date="1957-06-01")  # 68 at screening on 2026-03-10
    set_lab(patient, "creatinine", creatinine, "mg/dL")
    result = run(patient).criterion("I4b.crcl")
    assert result.status == expected
    assert result.evidence["crcl"]["age_years"] == 68
    if expected == "met":
        assert result.evidence["crcl"]["value"] == 60.0


@pytest.mark.parametrize(
    ("sex", "creatinine", "expected"),
    [
        ("female", 1.4, "not_met"),
        ("female", 1.41, "met"),
        ("male", 1.4, "not_met"),
        ("male", 1.5, "not_met"),
        ("male", 1.51, "met"),
    ],
)
def test_serum_creatinine_exclusion_by_sex(
    run: Run, patient: dict[str, Any], sex: str, creatinine: float, expected: str
) -> None:
    patient["sex"] = sex
    set_lab(patient, "creatinine", creatinine, "mg/dL")
    assert _status(run, patient, "E8.creatinine") == expected


def test_creatinine_in_micromoles_is_converted(run: Run, patient: dict[str, Any]) -> None:
    set_lab(patient, "creatinine", 97, "µmol/L", uln=106)
    evidence = run(patient).criterion("E8.creatinine").evidence["creatinine"]
    assert evidence["value"] == pytest.approx(1.097, abs=0.001)  # 97 / 88.4
    assert evidence["reported"] == "97 µmol/L"


def test_haemoglobin_in_grams_per_decilitre_is_converted(run: Run, patient: dict[str, Any]) -> None:
    set_lab(patient, "haemoglobin", 8.2, "g/dL")
    evidence = run(patient).criterion("I4a.hgb").evidence["haemoglobin"]
    assert (evidence["value"], evidence["unit"], evidence["reported"]) == (82, "g/L", "8.2 g/dL")


@pytest.mark.parametrize(
    ("birth_date", "age", "expected"),
    [
        ("2008-03-10", 18, "met"),  # 18th birthday on the screening date
        ("2008-03-11", 17, "not_met"),  # one day short of 18
        ("1951-03-10", 75, "met"),  # 75th birthday on the screening date
        ("1950-03-11", 75, "met"),  # the day before the 76th birthday
        ("1950-03-10", 76, "not_met"),  # 76th birthday on the screening date
    ],
)
def test_age_18_to_75_in_completed_years(
    run: Run, patient: dict[str, Any], birth_date: str, age: int, expected: str
) -> None:
    patient["birth_date"] = birth_date
    result = run(patient).criterion("I8")
    assert result.status == expected
    assert result.evidence["age"]["value"] == age


@pytest.mark.parametrize(
    ("onset", "expected"),
    [
        ("2026-01-10", "not_met"),  # exactly 2 calendar months before 2026-03-10
        ("2026-01-11", "met"),
        ("2025-12-31", "not_met"),
    ],
)
def test_radiation_lung_injury_under_two_calendar_months(
    run: Run, patient: dict[str, Any], onset: str, expected: str
) -> None:
    patient["history"][1]["onset"] = onset
    result = run(patient).criterion("I5")
    assert result.status == expected
    assert result.evidence["history.radiation_lung_injury"][0]["onset"] == onset


def test_two_calendar_months_clamp_at_the_end_of_february(
    run: Run, patient: dict[str, Any]
) -> None:
    # Screening 2026-04-30: two months earlier is 2026-02-28 (February has 28 days in 2026).
    patient["screening_date"] = "2026-04-30"
    patient["history"][1]["onset"] = "2026-02-28"
    for lab in patient["labs"]:
        lab["taken_on"] = "2026-04-28"
    assert _status(run, patient, "I5") == "not_met"
    patient["history"][1]["onset"] = "2026-03-01"
    assert _status(run, patient, "I5") == "met"


@pytest.mark.parametrize(
    ("onset", "expected"),
    [("2025-09-10", "met"), ("2025-09-09", "not_met")],  # 6 months before 2026-03-10
)
def test_myocardial_infarction_within_six_months(
    run: Run, patient: dict[str, Any], onset: str, expected: str
) -> None:
    patient["history"].append(
        {"system": "icd10", "code": "I21.4", "display": "NSTEMI", "onset": onset}
    )
    result = run(patient)
    assert result.criterion("E7.mi").status == expected
    assert result.verdict == ("ineligible" if expected == "met" else "eligible")


@pytest.mark.parametrize(
    ("taken_on", "expected"),
    [("2026-03-03", "met"), ("2026-03-02", "unknown")],  # 7 and 8 days before screening
)
def test_labs_must_be_within_seven_days_of_screening(
    run: Run, patient: dict[str, Any], taken_on: str, expected: str
) -> None:
    set_lab(patient, "anc", 3.2, "10^9/L", taken_on=taken_on)
    result = run(patient)
    assert result.criterion("I4a.anc").status == expected
    if expected == "unknown":
        assert result.verdict == "incomplete"
        assert result.missing == ("anc",)
        assert "8 days old" in result.criterion("I4a.anc").reason


def test_the_latest_result_is_used(run: Run, patient: dict[str, Any]) -> None:
    patient["labs"].append(
        {"analyte": "anc", "value": 1.2, "unit": "10^9/L", "taken_on": "2026-03-08"}
    )
    assert _status(run, patient, "I4a.anc") == "not_met"


@pytest.mark.parametrize(
    ("given_on", "expected"),
    [
        ("2026-02-28", "unknown"),  # 6 days before the sample of 2026-03-06
        ("2026-02-27", "unknown"),  # 7 days before: still within "the 7 days before"
        ("2026-02-26", "met"),  # 8 days before
    ],
)
def test_no_growth_factor_in_the_seven_days_before_the_sample(
    run: Run, patient: dict[str, Any], given_on: str, expected: str
) -> None:
    patient["medications"].append(
        {"category": "growth_factor", "display": "filgrastim", "start": given_on, "end": given_on}
    )
    result = run(patient)
    for count in ("I4a.anc", "I4a.plt", "I4a.hgb"):
        assert result.criterion(count).status == expected
    assert result.criterion("I4b.alt").status == "met"  # the rule is for blood counts only
    if expected == "unknown":
        assert "growth_factor" in result.criterion("I4a.anc").reason


def test_a_coded_growth_factor_or_transfusion_counts_too(run: Run, patient: dict[str, Any]) -> None:
    patient["medications"].append(
        {
            "system": "atc",
            "code": "L03AA02",
            "display": "filgrastim",
            "start": "2026-03-01",
            "end": "2026-03-03",
        }
    )
    assert _status(run, patient, "I4a.anc") == "unknown"
    patient["medications"][-1] = {
        "category": "transfusion",
        "display": "red cells",
        "start": "2026-03-04",
        "end": "2026-03-04",
    }
    assert _status(run, patient, "I4a.hgb") == "unknown"


def test_lvef_50_percent_and_ecog_3(run: Run, patient: dict[str, Any]) -> None:
    patient.update(lvef_percent=50, ecog=3)
    result = run(patient)
    assert (result.criterion("I4d.lvef").status, result.criterion("I2").status) == ("met", "met")
    patient.update(lvef_percent=49, ecog=4)
    result = run(patient)
    assert (result.criterion("I4d.lvef").status, result.criterion("I2").status) == (
        "not_met",
        "not_met",
    )


@pytest.mark.parametrize(
    ("grade", "expected"), [(1, "not_met"), (2, "met"), (3, "met"), (4, "not_met")]
)
def test_pneumonitis_grade_2_to_3(
    run: Run, patient: dict[str, Any], grade: int, expected: str
) -> None:
    patient["pneumonitis_grade"] = grade
    assert _status(run, patient, "I3.grade") == expected
