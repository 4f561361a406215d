"""The catalogue of what trialdesk screens on, and conversion of reported values to canonical units.

Each :class:`Analyte` has a stable code used throughout trialdesk (protocol criteria, FHIR
mapping, stored results), its LOINC codes, one canonical unit in which thresholds are written,
the units a laboratory may report it in, and a plausible range. The range only rejects values
no living patient can have (a negative count, haemoglobin 800 g/L, creatinine 0): it is a typo
catcher, not a reference range, and never replaces the laboratory's own limits.

LOINC codes are from the LOINC database (loinc.org, Regenstrief Institute).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

from trialdesk.clinical.errors import ClinicalValueError
from trialdesk.clinical.units import convert, parse_unit

__all__ = [
    "ANALYTES",
    "Analyte",
    "Measurement",
    "analyte",
    "analyte_for_loinc",
    "to_canonical",
]

COUNT_UNITS = ("10^9/L", "10^3/µL", "/µL", "/mm3")

# Molar masses (g/mol) for mass <-> substance conversions.
# Creatinine C4H7N3O, 113.12 g/mol (PubChem CID 588): 1 mg/dL = 88.4 µmol/L, the factor the
# NCT06021067 listing and most laboratory manuals use.
CREATININE_G_PER_MOL = 113.12
# Bilirubin C33H36N4O6, 584.66 g/mol (PubChem CID 5280352): 1 mg/dL = 17.1 µmol/L.
BILIRUBIN_G_PER_MOL = 584.66
# Haemoglobin reported in mmol/L counts the monomer, Hb(Fe): one haem with one globin chain,
# 16 114.5 g/mol (a quarter of the 64 458 g/mol tetramer), so 1 g/dL = 0.6206 mmol/L; the
# convention of laboratories that report Hb in mmol/L (e.g. in the Netherlands).
HAEMOGLOBIN_MONOMER_G_PER_MOL = 16_114.5


@dataclass(frozen=True)
class Analyte:
    """One screened quantity; ``minimum``/``maximum`` bound plausible values (canonical unit)."""

    code: str
    name_en: str
    name_zh: str
    loinc: tuple[str, ...]
    canonical_unit: str
    accepted_units: tuple[str, ...]
    minimum: float
    maximum: float
    molar_mass_g_per_mol: float | None = None
    integer: bool = False


@dataclass(frozen=True)
class Measurement:
    """A value in its analyte's canonical unit, keeping what was reported for the audit trail."""

    analyte: str
    value: float
    unit: str
    original_value: float
    original_unit: str

    def describe(self) -> str:
        """``"1.5 10^9/L (reported 1500 /µL)"``, for eligibility evidence."""
        shown = _with_unit(self.value, self.unit)
        if parse_unit(self.original_unit, field=self.analyte) == self.unit:
            return shown
        return f"{shown} (reported {_with_unit(self.original_value, self.original_unit)})"


ANALYTES: tuple[Analyte, ...] = (
    Analyte(
        "anc",
        "Absolute neutrophil count",
        "中性粒细胞绝对值",
        ("751-8",),
        "10^9/L",
        COUNT_UNITS,
        0.0,
        1_000.0,
    ),
    Analyte(
        "wbc",
        "White blood cell count",
        "白细胞计数",
        ("6690-2",),
        "10^9/L",
        COUNT_UNITS,
        0.0,
        2_000.0,
    ),
    Analyte(
        "platelets",
        "Platelet count",
        "血小板计数",
        ("777-3",),
        "10^9/L",
        COUNT_UNITS,
        0.0,
        5_000.0,
    ),
    Analyte(
        "haemoglobin",
        "Haemoglobin",
        "血红蛋白",
        ("718-7",),
        "g/L",
        ("g/L", "g/dL", "mmol/L"),
        10.0,
        300.0,
        molar_mass_g_per_mol=HAEMOGLOBIN_MONOMER_G_PER_MOL,
    ),
    Analyte(
        "bilirubin_total",
        "Total bilirubin",
        "总胆红素",
        ("1975-2", "14631-6"),
        "mg/dL",
        ("mg/dL", "µmol/L"),
        0.0,
        100.0,
        molar_mass_g_per_mol=BILIRUBIN_G_PER_MOL,
    ),
    Analyte(
        "alt",
        "Alanine aminotransferase (ALT)",
        "丙氨酸氨基转移酶（ALT）",
        ("1742-6",),
        "U/L",
        ("U/L",),
        0.0,
        50_000.0,
    ),
    Analyte(
        "ast",
        "Aspartate aminotransferase (AST)",
        "天门冬氨酸氨基转移酶（AST）",
        ("1920-8",),
        "U/L",
        ("U/L",),
        0.0,
        50_000.0,
    ),
    Analyte(
        "creatinine",
        "Serum creatinine",
        "血清肌酐",
        ("2160-0", "14682-9"),
        "mg/dL",
        ("mg/dL", "µmol/L", "mmol/L"),
        0.05,
        40.0,
        molar_mass_g_per_mol=CREATININE_G_PER_MOL,
    ),
    Analyte(
        "inr",
        "International normalised ratio",
        "国际标准化比值",
        ("6301-6",),
        "1",
        ("1",),
        0.5,
        30.0,
    ),
    Analyte("pt", "Prothrombin time", "凝血酶原时间", ("5902-2",), "s", ("s",), 5.0, 300.0),
    Analyte(
        "aptt",
        "Activated partial thromboplastin time",
        "活化部分凝血活酶时间",
        ("3173-2",),
        "s",
        ("s",),
        10.0,
        300.0,
    ),
    Analyte(
        "lvef",
        "Left ventricular ejection fraction",
        "左心室射血分数",
        ("10230-1",),
        "%",
        ("%",),
        5.0,
        95.0,
    ),
    Analyte("weight", "Body weight", "体重", ("29463-7",), "kg", ("kg", "lb"), 0.2, 650.0),
    Analyte("height", "Body height", "身高", ("8302-2",), "cm", ("cm", "m", "in"), 20.0, 280.0),
    Analyte("age", "Age", "年龄", ("30525-0",), "years", ("years",), 0.0, 130.0),
    Analyte(
        "ecog",
        "ECOG performance status",
        "ECOG体能状态评分",
        ("89247-1",),
        "1",
        ("1",),
        0.0,
        5.0,
        integer=True,
    ),
)
"""The catalogue, in screening order."""

_BY_CODE = {item.code: item for item in ANALYTES}
_BY_LOINC = {code: item for item in ANALYTES for code in item.loinc}


def analyte(code: str) -> Analyte:
    """The analyte with stable ``code``; a ``KeyError`` lists the known codes."""
    try:
        return _BY_CODE[code]
    except KeyError:
        raise KeyError(f"unknown analyte {code!r}; known: {', '.join(_BY_CODE)}") from None


def analyte_for_loinc(loinc_code: str) -> Analyte | None:
    """The analyte a LOINC code measures, or ``None`` when trialdesk does not screen on it."""
    return _BY_LOINC.get(loinc_code.strip())


def _format(number: float) -> str:
    return f"{number:g}"


def _with_unit(number: float, unit: str) -> str:
    return _format(number) if unit in ("1", "") else f"{_format(number)} {unit}"


def _fix_hint(item: Analyte, value: float, canonical_value: float) -> str:
    """Suggest the likely slip: a wrong unit (g/dL entered as g/L) or a fraction for a percent."""
    if value < 0:
        return "a measured value cannot be negative"
    if item.code == "lvef" and 0 < canonical_value <= 1:
        return f"enter the ejection fraction as a percent ({_format(canonical_value * 100)} %)"
    for other in item.accepted_units:
        in_other = convert(
            value,
            other,
            item.canonical_unit,
            field=item.code,
            molar_mass_g_per_mol=item.molar_mass_g_per_mol,
        )
        if item.minimum <= in_other <= item.maximum:
            return f"was it reported in {other}? Then enter that unit"
    if item.accepted_units == ("1",):
        return "check the value"
    return f"check the value and its unit (accepted: {', '.join(item.accepted_units)})"


def to_canonical(
    analyte_code: str, value: float, unit: str, *, field: str | None = None
) -> Measurement:
    """Convert a reported ``value`` in ``unit`` to the analyte's canonical unit, checking it.

    ``unit`` may be any spelling :mod:`trialdesk.clinical.units` knows (``"x10^9/L"``,
    ``"10*3/uL"``, ``"umol/L"``); ``""`` or ``"1"`` for unitless INR and ECOG.

    Raises :class:`UnitError` for a unit the analyte cannot be reported in and
    :class:`ClinicalValueError` for a value outside the plausible range. ``field`` names the
    input in error messages (defaults to the analyte code).
    """
    item = analyte(analyte_code)
    where = field or item.code
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ClinicalValueError(f"{value!r} is not a number; enter a finite number", field=where)
    source = parse_unit(unit, field=where, accepted=item.accepted_units)
    canonical = convert(
        float(value),
        source,
        item.canonical_unit,
        field=where,
        molar_mass_g_per_mol=item.molar_mass_g_per_mol,
    )
    if item.integer and canonical != int(canonical):
        raise ClinicalValueError(
            f"{item.name_en} is a whole number from {_format(item.minimum)} to "
            f"{_format(item.maximum)}, got {_format(value)}",
            field=where,
        )
    if not item.minimum <= canonical <= item.maximum:
        raise ClinicalValueError(
            f"{item.name_en} of {_with_unit(value, source)} is not possible (plausible range "
            f"{_format(item.minimum)}–{_with_unit(item.maximum, item.canonical_unit)}); "
            f"{_fix_hint(item, float(value), canonical)}",
            field=where,
        )
    return Measurement(item.code, canonical, item.canonical_unit, float(value), unit)
