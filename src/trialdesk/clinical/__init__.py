"""WHAT medicine knows: units, analytes, age, renal function, ULN multiples and clinical scales.

Pure functions and reference data; no I/O beyond packaged data. Everything here raises a
:class:`ClinicalError` (a :class:`~trialdesk.errors.TrialdeskError`) naming the field at fault.

Typical use by eligibility screening::

    anc = to_canonical("anc", 1500, "/µL")                  # Measurement(value=1.5, unit="10^9/L")
    scr = to_canonical("creatinine", 97, "µmol/L")          # value ≈ 1.097 mg/dL
    crcl = cockcroft_gault(age_years=62, weight_kg=58, creatinine_mg_dl=scr.value, sex="female")
    alt = uln_multiple(80, 40, "U/L")                       # multiple = 2.0
    age = age_in_completed_years(date(1960, 2, 29), date(2026, 3, 1))
"""

from trialdesk.clinical.age import age_in_completed_years
from trialdesk.clinical.analytes import (
    ANALYTES,
    Analyte,
    Measurement,
    analyte,
    analyte_for_loinc,
    to_canonical,
)
from trialdesk.clinical.errors import ClinicalError, ClinicalValueError, UnitError
from trialdesk.clinical.renal import CreatinineClearance, Sex, cockcroft_gault
from trialdesk.clinical.scales import ECOG, MMRC, NYHA, SCALES, Scale, ScaleGrade, scale
from trialdesk.clinical.uln import UlnMultiple, uln_multiple
from trialdesk.clinical.units import UNITS, UnitSpec, compatible_units, convert, parse_unit, ureg

__all__ = [
    "ANALYTES",
    "ECOG",
    "MMRC",
    "NYHA",
    "SCALES",
    "UNITS",
    "Analyte",
    "ClinicalError",
    "ClinicalValueError",
    "CreatinineClearance",
    "Measurement",
    "Scale",
    "ScaleGrade",
    "Sex",
    "UlnMultiple",
    "UnitError",
    "UnitSpec",
    "age_in_completed_years",
    "analyte",
    "analyte_for_loinc",
    "cockcroft_gault",
    "compatible_units",
    "convert",
    "parse_unit",
    "scale",
    "to_canonical",
    "uln_multiple",
    "ureg",
]
