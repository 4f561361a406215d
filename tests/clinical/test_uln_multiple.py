"""Multiples of the laboratory's upper limit of normal (criteria such as "ALT <= 2.5 x ULN")."""

from __future__ import annotations

import pytest

from trialdesk.clinical import ClinicalValueError, UnitError, uln_multiple


def test_same_units() -> None:
    result = uln_multiple(100, 40, "U/L", field="labs.alt")
    assert result.multiple == pytest.approx(2.5)
    assert (result.value, result.uln, result.unit) == (100, 40, "U/L")
    assert result.explain() == "100 / ULN 40 U/L = 2.50 x ULN"


def test_uln_in_another_mass_unit_is_converted() -> None:
    # Bilirubin 1.8 mg/dL against a ULN of 12 mg/L (= 1.2 mg/dL): 1.5 x ULN.
    result = uln_multiple(1.8, 12, "mg/dL", "mg/L")
    assert result.uln == pytest.approx(1.2)
    assert result.multiple == pytest.approx(1.5)
    assert (result.uln_as_reported, result.uln_unit_as_reported) == (12, "mg/L")


def test_bilirubin_molar_result_against_mass_uln() -> None:
    # 25.65 µmol/L against ULN 1.0 mg/dL (= 17.1 µmol/L at 584.66 g/mol): 1.5 x ULN.
    result = uln_multiple(25.65, 1.0, "µmol/L", "mg/dL", analyte_code="bilirubin_total")
    assert result.uln == pytest.approx(17.104, abs=1e-3)
    assert result.multiple == pytest.approx(1.4996, abs=1e-3)


def test_molar_to_mass_needs_the_analyte() -> None:
    with pytest.raises(UnitError) as caught:
        uln_multiple(25.65, 1.0, "umol/L", "mg/dL", field="labs.tbil")
    assert caught.value.field == "labs.tbil.uln_unit"


@pytest.mark.parametrize("uln", [0, -40])
def test_uln_must_be_above_zero(uln: float) -> None:
    with pytest.raises(ClinicalValueError) as caught:
        uln_multiple(40, uln, "U/L", field="labs.ast")
    assert caught.value.field == "labs.ast.uln"
    assert "above 0" in str(caught.value)


def test_negative_value_is_rejected() -> None:
    with pytest.raises(ClinicalValueError, match="negative"):
        uln_multiple(-1, 40, "U/L", field="labs.ast")


def test_unknown_unit_names_the_field() -> None:
    with pytest.raises(UnitError) as caught:
        uln_multiple(40, 40, "Units", field="labs.ast")
    assert caught.value.field == "labs.ast.unit"
