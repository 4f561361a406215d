"""The one units layer reads laboratory spellings and converts like a clinical chemist would."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialdesk.clinical import UNITS, UnitError, compatible_units, convert, parse_unit
from trialdesk.errors import TrialdeskError

# Molar masses used below: creatinine 113.12 g/mol (PubChem CID 588), bilirubin 584.66 g/mol
# (PubChem CID 5280352), haemoglobin monomer 16 114.5 g/mol (Hb(Fe) convention).
CREATININE = 113.12
BILIRUBIN = 584.66
HAEMOGLOBIN_MONOMER = 16_114.5


@pytest.mark.parametrize(
    "spelling",
    [
        "10^9/L",
        "x10^9/L",
        "×10^9/L",
        "× 10⁹/L",
        "10*9/L",
        "10^9/l",
        "10E9/L",
        "10^9 cells/L",
    ],
)
def test_giga_per_litre_spellings(spelling: str) -> None:
    assert parse_unit(spelling, field="anc") == "10^9/L"


@pytest.mark.parametrize(
    "spelling", ["10^3/µL", "10^3/μL", "10^3/uL", "10*3/uL", "x10^3/uL", "K/uL", "10³/µL"]
)
def test_thousand_per_microlitre_spellings(spelling: str) -> None:
    # µ is U+00B5 (micro sign) in one case and U+03BC (Greek mu) in another: both are typed.
    assert parse_unit(spelling, field="platelets") == "10^3/µL"


@pytest.mark.parametrize(
    ("spelling", "symbol"),
    [
        ("umol/L", "µmol/L"),
        ("μmol/l", "µmol/L"),
        ("IU/L", "U/L"),
        ("[IU]/L", "U/L"),
        ("cells/uL", "/µL"),
        ("{cells}/uL", "/µL"),
        ("cells/mm³", "/mm3"),
        ("[lb_av]", "lb"),
        ("lbs", "lb"),
        ("ml/min", "mL/min"),
        ("G/DL", "g/dL"),
        ("", "1"),
        ("{INR}", "1"),
        ("a", "years"),
        ("sec", "s"),
    ],
)
def test_human_and_ucum_spellings(spelling: str, symbol: str) -> None:
    assert parse_unit(spelling, field="x") == symbol


def test_known_conversions() -> None:
    assert convert(8.2, "g/dL", "g/L", field="hb") == pytest.approx(82.0)
    assert convert(1500, "/µL", "10^9/L", field="anc") == 1.5
    assert convert(1500, "/mm3", "10^9/L", field="anc") == 1.5
    assert convert(1.5, "10^3/µL", "10^9/L", field="anc") == 1.5
    assert convert(4.5, "10^6/µL", "10^12/L", field="rbc") == 4.5
    # 1 lb = 0.45359237 kg exactly (International Yard and Pound Agreement, 1959).
    assert convert(154, "lb", "kg", field="weight") == pytest.approx(69.853, abs=1e-3)
    assert convert(1.75, "m", "cm", field="height") == pytest.approx(175.0)
    assert convert(70, "in", "cm", field="height") == pytest.approx(177.8)


def test_exact_values_stay_exact_at_thresholds() -> None:
    # A threshold "ANC >= 1.5 x10^9/L" must pass 1500 /µL; raw float arithmetic gives 1.4999...
    assert convert(1500, "/µL", "10^9/L", field="anc") >= 1.5
    assert convert(8.0, "g/dL", "g/L", field="hb") >= 80


def test_mass_molar_conversions_use_the_molar_mass() -> None:
    # Creatinine: 1 mg/dL = 88.4 µmol/L (NCT06021067 listing: "µmol/L ÷ 88.4 → mg/dL").
    assert convert(1, "mg/dL", "µmol/L", field="scr", molar_mass_g_per_mol=CREATININE) == (
        pytest.approx(88.4, abs=0.01)
    )
    assert convert(97, "µmol/L", "mg/dL", field="scr", molar_mass_g_per_mol=CREATININE) == (
        pytest.approx(1.097, abs=1e-3)
    )
    # Bilirubin: 1 mg/dL = 17.1 µmol/L (the factor printed in SI conversion tables, e.g. AMA
    # Manual of Style, SI conversion calculator).
    assert convert(1, "mg/dL", "µmol/L", field="tbil", molar_mass_g_per_mol=BILIRUBIN) == (
        pytest.approx(17.1, abs=0.01)
    )
    # Haemoglobin monomer: 1 g/dL = 0.6206 mmol/L.
    assert convert(1, "g/dL", "mmol/L", field="hb", molar_mass_g_per_mol=HAEMOGLOBIN_MONOMER) == (
        pytest.approx(0.6206, abs=1e-4)
    )


def test_mass_to_molar_without_molar_mass_is_refused() -> None:
    with pytest.raises(UnitError, match=r"^labs\.hb:"):
        convert(5, "mmol/L", "g/L", field="labs.hb")


def test_unknown_unit_names_field_and_lists_units_of_that_quantity() -> None:
    with pytest.raises(UnitError) as caught:
        convert(1, "furlongs", "g/L", field="labs.haemoglobin")
    message = str(caught.value)
    assert caught.value.field == "labs.haemoglobin"
    assert message.startswith("labs.haemoglobin:")
    assert "furlongs" in message
    for unit in ("g/L", "g/dL", "mg/dL"):
        assert unit in message
    assert "kg" not in message  # only units of a mass concentration are offered
    assert isinstance(caught.value, TrialdeskError)


def test_incompatible_unit_is_refused() -> None:
    with pytest.raises(UnitError, match=r"does not fit.*10\^9/L"):
        convert(1.5, "g/L", "10^9/L", field="anc")


def test_every_spelling_is_unambiguous_and_every_unit_converts_to_itself() -> None:
    for spec in UNITS:
        assert parse_unit(spec.symbol, field="x") == spec.symbol
        assert convert(3.25, spec.symbol, spec.symbol, field="x") == 3.25
        assert spec.symbol in compatible_units(spec.symbol)


PAIRS = [
    (a, b, None)
    for spec in UNITS
    for a in [spec.symbol]
    for b in compatible_units(spec.symbol)
    if a not in ("%", "1") and b not in ("%", "1")
] + [
    ("mg/dL", "µmol/L", CREATININE),
    ("µmol/L", "mg/dL", BILIRUBIN),
    ("g/dL", "mmol/L", HAEMOGLOBIN_MONOMER),
]


@given(
    pair=st.sampled_from(PAIRS),
    value=st.floats(min_value=1e-3, max_value=1e6, allow_nan=False, allow_infinity=False),
)
def test_round_trip(pair: tuple[str, str, float | None], value: float) -> None:
    first, second, molar_mass = pair
    there = convert(value, first, second, field="x", molar_mass_g_per_mol=molar_mass)
    back = convert(there, second, first, field="x", molar_mass_g_per_mol=molar_mass)
    assert back == pytest.approx(value, rel=1e-9)
