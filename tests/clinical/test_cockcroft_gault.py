"""Cockcroft-Gault creatinine clearance, with its working shown.

The equation is the one published by Cockcroft DW, Gault MH, Nephron 1976;16(1):31-41:
CrCl = (140 - age) x weight[kg] / (72 x SCr[mg/dL]), and 15 % less (x 0.85) for women; the same
form is in the NCT06021067 listing's organ-function criterion (CrCl >= 60 mL/min). The expected
values below are worked by hand from that equation.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialdesk.clinical import ClinicalValueError, Sex, cockcroft_gault, to_canonical


def test_male_worked_example() -> None:
    # (140 - 70) x 72 / (72 x 1.0) = 70 mL/min.
    result = cockcroft_gault(age_years=70, weight_kg=72, creatinine_mg_dl=1.0, sex="male")
    assert result.ml_per_min == pytest.approx(70.0)
    assert result.sex_factor == 1.0


def test_female_worked_example() -> None:
    # (140 - 60) x 60 / (72 x 0.8) x 0.85 = 4800 / 57.6 x 0.85 = 83.333... x 0.85 = 70.83 mL/min.
    result = cockcroft_gault(age_years=60, weight_kg=60, creatinine_mg_dl=0.8, sex="female")
    assert result.ml_per_min == pytest.approx(70.833, abs=1e-3)
    assert result.sex_factor == 0.85


def test_result_carries_its_inputs_for_evidence() -> None:
    result = cockcroft_gault(age_years=65, weight_kg=58.5, creatinine_mg_dl=1.2, sex=Sex.FEMALE)
    assert (result.age_years, result.weight_kg, result.creatinine_mg_dl) == (65, 58.5, 1.2)
    assert result.sex is Sex.FEMALE
    # (140 - 65) x 58.5 / (72 x 1.2) x 0.85 = 4387.5 / 86.4 x 0.85 = 43.16 mL/min.
    assert result.explain() == (
        "Cockcroft-Gault: (140 - 65) x 58.5 kg / (72 x 1.2 mg/dL) x 0.85 = 43.2 mL/min"
    )


def test_creatinine_reported_in_micromol_per_litre() -> None:
    # 88.4 µmol/L = 1.0 mg/dL (listing: "µmol/L ÷ 88.4 → mg/dL"), so this is the male example.
    creatinine = to_canonical("creatinine", 88.4, "µmol/L").value
    result = cockcroft_gault(age_years=70, weight_kg=72, creatinine_mg_dl=creatinine, sex="Male")
    assert result.ml_per_min == pytest.approx(70.0, abs=0.01)


@pytest.mark.parametrize(
    ("inputs", "field"),
    [
        ({"weight_kg": 0}, "weight_kg"),
        ({"weight_kg": -60}, "weight_kg"),
        ({"creatinine_mg_dl": 0}, "creatinine_mg_dl"),
        ({"creatinine_mg_dl": float("nan")}, "creatinine_mg_dl"),
        ({"age_years": 140}, "age_years"),
        ({"age_years": -1}, "age_years"),
        ({"sex": "unknown"}, "sex"),
    ],
)
def test_invalid_inputs_name_the_field(inputs: dict[str, object], field: str) -> None:
    arguments: dict[str, object] = {
        "age_years": 50,
        "weight_kg": 70,
        "creatinine_mg_dl": 1.0,
        "sex": "male",
        **inputs,
    }
    with pytest.raises(ClinicalValueError) as caught:
        cockcroft_gault(**arguments)  # type: ignore[arg-type]
    assert caught.value.field == field


def test_sex_error_says_what_to_use() -> None:
    with pytest.raises(ClinicalValueError, match="'male' or 'female'"):
        cockcroft_gault(age_years=50, weight_kg=70, creatinine_mg_dl=1.0, sex="M")


@given(
    age=st.floats(min_value=18, max_value=100),
    weight=st.floats(min_value=30, max_value=200),
    creatinine=st.floats(min_value=0.2, max_value=15),
)
def test_female_is_085_of_male_and_clearance_falls_with_creatinine(
    age: float, weight: float, creatinine: float
) -> None:
    male = cockcroft_gault(age_years=age, weight_kg=weight, creatinine_mg_dl=creatinine, sex="male")
    female = cockcroft_gault(
        age_years=age, weight_kg=weight, creatinine_mg_dl=creatinine, sex="female"
    )
    assert female.ml_per_min == pytest.approx(0.85 * male.ml_per_min)
    doubled = cockcroft_gault(
        age_years=age, weight_kg=weight, creatinine_mg_dl=2 * creatinine, sex="male"
    )
    assert doubled.ml_per_min == pytest.approx(male.ml_per_min / 2)
