"""Unit conversion of whole columns: one factor per distinct unit, computed once.

A hospital extract reports a lab in whatever unit each laboratory used, so a value column comes
with a unit column (or with none, meaning the analyte's canonical unit). Every unit spelling in
the column is converted once by :mod:`trialdesk.clinical.units`; the column is then multiplied by
the factor of its row's unit. Results are rounded to 12 significant digits exactly as
:func:`trialdesk.clinical.units.convert` rounds them, so a value at a threshold (1500 /µL against
1.5 x10^9/L) compares the same in a batch as for one patient.
"""

from __future__ import annotations

from collections.abc import Iterable

import polars as pl

from trialdesk.clinical.analytes import Analyte, analyte
from trialdesk.clinical.errors import UnitError
from trialdesk.clinical.units import convert
from trialdesk.eligibility.columnar.lookup import lookup
from trialdesk.eligibility.columnar.read import BatchError

__all__ = ["SIGNIFICANT_DIGITS", "canonical_expression", "unit_factors"]

SIGNIFICANT_DIGITS = 12
"""As :mod:`trialdesk.clinical.units` rounds every converted value."""


def unit_factors(
    spellings: Iterable[str | None], analyte_code: str, *, column: str
) -> dict[str, float]:
    """Factor to the canonical unit for each distinct non-empty spelling in a unit column.

    Raises :class:`BatchError` naming ``column``, the spelling and the units that would work.
    """
    item = analyte(analyte_code)
    factors: dict[str, float] = {}
    for spelling in spellings:
        if spelling is None or spelling in factors:
            continue
        try:
            factors[spelling] = _factor(item, spelling)
        except UnitError as exc:
            message = str(exc).removeprefix(f"{exc.field}: ") if exc.field else str(exc)
            raise BatchError(
                f"{message} ({item.name_en}); correct those cells", field=column
            ) from None
    return factors


def _factor(item: Analyte, spelling: str) -> float:
    return convert(
        1.0,
        spelling,
        item.canonical_unit,
        field=item.code,
        molar_mass_g_per_mol=item.molar_mass_g_per_mol,
    )


def canonical_expression(
    value_column: str, unit_column: str | None, factors: dict[str, float]
) -> pl.Expr:
    """The values of ``value_column`` in the canonical unit (``factors`` from :func:`unit_factors`).

    Without a unit column the values already are in the canonical unit (and are only rounded).
    """
    value = pl.col(value_column).cast(pl.Float64)
    if unit_column is not None:
        value = value * lookup(pl.col(unit_column), factors, pl.Float64())
    return value.round_sig_figs(SIGNIFICANT_DIGITS)
