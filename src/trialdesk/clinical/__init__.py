"""WHAT medicine knows: units, analytes, age, renal function, ULN multiples and clinical scales.

Pure functions and reference data; no I/O beyond packaged data. Everything here raises a
:class:`ClinicalError` (a :class:`~trialdesk.errors.TrialdeskError`) naming the field at fault.
"""

from trialdesk.clinical.analytes import (
    ANALYTES,
    Analyte,
    Measurement,
    analyte,
    analyte_for_loinc,
    to_canonical,
)
from trialdesk.clinical.errors import ClinicalError, ClinicalValueError, UnitError
from trialdesk.clinical.units import UNITS, UnitSpec, compatible_units, convert, parse_unit, ureg

__all__ = [
    "ANALYTES",
    "UNITS",
    "Analyte",
    "ClinicalError",
    "ClinicalValueError",
    "Measurement",
    "UnitError",
    "UnitSpec",
    "analyte",
    "analyte_for_loinc",
    "compatible_units",
    "convert",
    "parse_unit",
    "to_canonical",
    "ureg",
]
