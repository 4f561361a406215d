"""Reported lab values become canonical measurements; impossible values are stopped at the door."""

from __future__ import annotations

from typing import cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialdesk.clinical import (
    ANALYTES,
    ClinicalValueError,
    Measurement,
    UnitError,
    analyte,
    analyte_for_loinc,
    to_canonical,
)


def test_required_conversions() -> None:
    assert to_canonical("haemoglobin", 8.2, "g/dL").value == pytest.approx(82.0)
    # 97 µmol/L / 88.4 = 1.097 mg/dL (NCT06021067 listing: "µmol/L ÷ 88.4 → mg/dL").
    assert to_canonical("creatinine", 97, "µmol/L").value == pytest.approx(1.097, abs=1e-3)
    assert to_canonical("anc", 1500, "/µL").value == 1.5
    assert to_canonical("anc", 1.5, "10^3/µL").value == 1.5
    assert to_canonical("platelets", 80, "10*3/uL").value == 80
    assert to_canonical("weight", 154, "lb").value == pytest.approx(69.85, abs=0.01)
    # Bilirubin 25.65 µmol/L = 1.5 mg/dL at 17.1 µmol/L per mg/dL.
    assert to_canonical("bilirubin_total", 25.65, "umol/L").value == pytest.approx(1.5, abs=1e-3)
    assert to_canonical("haemoglobin", 5.0, "mmol/L").value == pytest.approx(80.6, abs=0.1)


def test_measurement_keeps_what_was_reported() -> None:
    measurement = to_canonical("creatinine", 97, "umol/L", field="labs.creatinine")
    assert measurement == Measurement("creatinine", measurement.value, "mg/dL", 97.0, "umol/L")


def test_unitless_analytes() -> None:
    assert to_canonical("inr", 1.2, "").value == 1.2
    assert to_canonical("ecog", 2, "1").value == 2
    with pytest.raises(ClinicalValueError, match="whole number"):
        to_canonical("ecog", 1.5, "")


@pytest.mark.parametrize(
    ("code", "value", "unit", "hint"),
    [
        ("weight", -70, "kg", "negative"),
        ("creatinine", 0, "mg/dL", "check the value"),
        ("haemoglobin", 800, "g/L", "check the value"),
        ("anc", -1, "10^9/L", "negative"),
        ("haemoglobin", 8.2, "g/L", "g/dL"),  # a g/dL value typed with g/L
        ("creatinine", 97, "mg/dL", "µmol/L"),  # a µmol/L value typed with mg/dL
        ("lvef", 0.55, "%", "55 %"),
        ("ecog", 6, "", "check the value"),
    ],
)
def test_impossible_values_are_rejected_with_field_and_hint(
    code: str, value: float, unit: str, hint: str
) -> None:
    with pytest.raises(ClinicalValueError) as caught:
        to_canonical(code, value, unit, field=f"labs.{code}")
    assert caught.value.field == f"labs.{code}"
    assert str(caught.value).startswith(f"labs.{code}:")
    assert "not possible" in str(caught.value)
    assert hint in str(caught.value)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_numbers_are_rejected(value: float) -> None:
    with pytest.raises(ClinicalValueError, match="platelets"):
        to_canonical("platelets", value, "10^9/L")


def test_wrong_unit_for_analyte_lists_its_units() -> None:
    with pytest.raises(UnitError) as caught:
        to_canonical("haemoglobin", 8.2, "mg/dL", field="hgb")
    assert caught.value.field == "hgb"
    for unit in ("g/L", "g/dL", "mmol/L"):
        assert unit in str(caught.value)


def test_unknown_unit_names_field_and_lists_units() -> None:
    with pytest.raises(UnitError) as caught:
        to_canonical("alt", 40, "ukat/L")
    assert str(caught.value) == "alt: unknown unit 'ukat/L'; use one of: U/L"


def test_loinc_lookup() -> None:
    # LOINC codes from loinc.org: 14682-9 Creatinine [Moles/volume] in Serum or Plasma,
    # 14631-6 Bilirubin.total [Moles/volume], 751-8 Neutrophils [#/volume] in Blood.
    expected = {
        "751-8": "anc",
        "777-3": "platelets",
        "718-7": "haemoglobin",
        "1975-2": "bilirubin_total",
        "14631-6": "bilirubin_total",
        "1742-6": "alt",
        "1920-8": "ast",
        "2160-0": "creatinine",
        "14682-9": "creatinine",
        "6301-6": "inr",
        "5902-2": "pt",
        "10230-1": "lvef",
        "29463-7": "weight",
        "8302-2": "height",
        "89247-1": "ecog",
    }
    for code, analyte_code in expected.items():
        found = analyte_for_loinc(code)
        assert found is not None and found.code == analyte_code
    assert analyte_for_loinc("0000-0") is None


def test_catalogue_is_consistent() -> None:
    codes = [item.code for item in ANALYTES]
    assert len(codes) == len(set(codes))
    for item in ANALYTES:
        assert item.canonical_unit in item.accepted_units
        assert item.name_zh and item.name_en
        assert item.minimum < item.maximum
    with pytest.raises(KeyError, match="known: anc"):
        analyte("neutrophils")


@given(
    item=st.sampled_from(ANALYTES),
    fraction=st.floats(min_value=0, max_value=1),
    data=st.data(),
)
def test_plausible_values_round_trip_through_any_accepted_unit(
    item: object, fraction: float, data: st.DataObject
) -> None:
    from trialdesk.clinical import convert
    from trialdesk.clinical.analytes import Analyte

    assert isinstance(item, Analyte)
    canonical_value = item.minimum + fraction * (item.maximum - item.minimum)
    if item.integer:
        canonical_value = round(canonical_value)
    unit = data.draw(st.sampled_from(item.accepted_units))
    reported = convert(
        canonical_value,
        item.canonical_unit,
        unit,
        field=item.code,
        molar_mass_g_per_mol=item.molar_mass_g_per_mol,
    )
    measurement = to_canonical(item.code, reported, unit)
    assert measurement.value == pytest.approx(canonical_value, rel=1e-9, abs=1e-9)


def test_measurement_describes_itself_for_evidence() -> None:
    assert to_canonical("anc", 1500, "/µL").describe() == "1.5 10^9/L (reported 1500 /µL)"
    assert to_canonical("platelets", 120, "10^9/L").describe() == "120 10^9/L"
    assert to_canonical("inr", 1.1, "").describe() == "1.1"


def test_numpy_numbers_are_numbers() -> None:
    import numpy as np

    # Arrays from pandas/numpy hand over numpy scalars; the API is typed float but accepts them.
    count = cast(float, np.int64(120))
    assert to_canonical("platelets", count, "10^9/L").value == 120
    assert to_canonical("haemoglobin", np.float64(8.2), "g/dL").value == pytest.approx(82)
