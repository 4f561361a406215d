"""Multiples of the upper limit of normal (ULN), as criteria like "ALT <= 2.5 x ULN" need.

The ULN is the reporting laboratory's own, stored with each result. When the result and its ULN
come in different units (bilirubin in µmol/L, ULN in mg/dL) the ULN is converted to the result's
unit first; mass <-> molar conversion needs the analyte so its molar mass is known.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Real

from trialdesk.clinical.analytes import analyte
from trialdesk.clinical.errors import ClinicalValueError
from trialdesk.clinical.units import convert, parse_unit

__all__ = ["UlnMultiple", "uln_multiple"]


@dataclass(frozen=True)
class UlnMultiple:
    """A result as a multiple of its ULN; ``uln`` is in ``unit`` (converted when needed)."""

    value: float
    uln: float
    unit: str
    multiple: float
    uln_as_reported: float
    uln_unit_as_reported: str

    def explain(self) -> str:
        """The calculation in one line, for eligibility evidence."""
        return f"{self.value:g} / ULN {self.uln:g} {self.unit} = {self.multiple:.2f} x ULN"


def _number(value: float, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ClinicalValueError(f"{value!r} is not a number; enter a finite number", field=field)
    return float(value)


def uln_multiple(
    value: float,
    uln: float,
    unit: str,
    uln_unit: str | None = None,
    *,
    analyte_code: str | None = None,
    field: str = "value",
) -> UlnMultiple:
    """``value / uln`` with both in ``unit``; ``uln_unit`` defaults to ``unit``.

    Raises :class:`ClinicalValueError` when the ULN is not above 0 (field ``<field>.uln``) or the
    value is negative, and :class:`UnitError` for units that do not convert.
    """
    number = _number(value, field)
    limit = _number(uln, f"{field}.uln")
    if limit <= 0:
        raise ClinicalValueError(
            f"the upper limit of normal must be above 0, got {limit:g}; "
            "take it from the laboratory's reference range",
            field=f"{field}.uln",
        )
    if number < 0:
        raise ClinicalValueError(
            f"a measured value cannot be negative, got {number:g}", field=field
        )
    result_unit = parse_unit(unit, field=f"{field}.unit")
    reported_uln_unit = result_unit if uln_unit is None else uln_unit
    molar_mass = analyte(analyte_code).molar_mass_g_per_mol if analyte_code else None
    limit_in_result_unit = convert(
        limit,
        reported_uln_unit,
        result_unit,
        field=f"{field}.uln_unit",
        molar_mass_g_per_mol=molar_mass,
    )
    return UlnMultiple(
        value=number,
        uln=limit_in_result_unit,
        unit=result_unit,
        multiple=number / limit_in_result_unit,
        uln_as_reported=limit,
        uln_unit_as_reported=reported_uln_unit,
    )
