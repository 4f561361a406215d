"""Patient facts as whole columns, under the protocol's screening rules.

The column-wise twin of :class:`trialdesk.eligibility.facts.Facts`: each function returns a Polars
expression holding, for every patient at once, what ``Facts`` returns for one (a null where
``Facts`` says :class:`~trialdesk.eligibility.facts.Missing`). The arithmetic is written in the
same order and rounded the same way (12 significant digits) so that values at a threshold
compare identically.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from trialdesk.clinical import analyte
from trialdesk.clinical.body_weight import ADJUSTMENT_FACTOR, CM_PER_INCH
from trialdesk.clinical.renal import FEMALE_FACTOR
from trialdesk.clinical.units import convert
from trialdesk.eligibility.columnar.layout import (
    Layout,
    lab_columns,
    medication_columns,
)
from trialdesk.eligibility.columnar.units import SIGNIFICANT_DIGITS, canonical_expression
from trialdesk.protocol.models import Protocol

__all__ = ["ON", "ColumnFacts", "UnitTables"]

ON = "__on"
"""Column of the effective screening date of each row."""


@dataclass(frozen=True)
class UnitTables:
    """Conversion factors per distinct unit found in the table (see :mod:`.units`)."""

    to_canonical: dict[str, dict[str, float]]
    uln_to_value_unit: dict[str, dict[str, float]]


def _round(expr: pl.Expr, digits: int = SIGNIFICANT_DIGITS) -> pl.Expr:
    return expr.round_sig_figs(digits)


def uln_pair_key(value_unit: pl.Expr, uln_unit: pl.Expr) -> pl.Expr:
    """One string per (value unit, ULN unit) pair, to look up its factor."""
    return pl.concat_str([value_unit, uln_unit.fill_null(value_unit)], separator="\x1f")


def uln_pair_factor(code: str, value_unit: str, uln_unit: str) -> float:
    """Factor taking a ULN in ``uln_unit`` to ``value_unit`` (as ``uln_multiple`` converts)."""
    molar = analyte(code).molar_mass_g_per_mol
    return convert(1.0, uln_unit, value_unit, field=code, molar_mass_g_per_mol=molar)


class ColumnFacts:
    """Expressions for the facts of a typed patient frame (see :mod:`.read`)."""

    def __init__(
        self, protocol: Protocol, layout: Layout, units: UnitTables, present: set[str]
    ) -> None:
        self.protocol = protocol
        self.layout = layout
        self.units = units
        self.present = present
        self.on = pl.col(ON)

    # -- helpers -------------------------------------------------------------------------------
    def _unit_column(self, name: str) -> str | None:
        return name if name in self.present else None

    def canonical(self, code: str, value: str, unit: str) -> pl.Expr:
        return canonical_expression(value, self._unit_column(unit), self.units.to_canonical[code])

    # -- numbers -------------------------------------------------------------------------------
    def age(self) -> pl.Expr:
        """Completed years at the screening date (a 29 February birthday counts on 1 March)."""
        born = pl.col("birth_date")
        years = self.on.dt.year().cast(pl.Int32) - born.dt.year().cast(pl.Int32)
        on_day = self.on.dt.month().cast(pl.Int32) * 100 + self.on.dt.day().cast(pl.Int32)
        born_day = born.dt.month().cast(pl.Int32) * 100 + born.dt.day().cast(pl.Int32)
        return (years - (on_day < born_day).cast(pl.Int32)).cast(pl.Float64)

    def body(self, name: str) -> pl.Expr:
        return self.canonical(name, f"{name}_value", f"{name}_unit")

    def lab(self, code: str) -> pl.Expr:
        """The canonical value when the result is usable: recent enough, and no sample rule's
        treatment was given in the days before the sample; null otherwise."""
        names = lab_columns(code)
        taken = pl.col(names["taken_on"])
        usable = (self.on - taken).dt.total_days() <= self.protocol.screening.labs_within_days
        for rule in self.protocol.screening.sample_rules:
            if code not in rule.analytes:
                continue
            start_window = taken - pl.duration(days=rule.days_before)
            for category in rule.categories:
                med = medication_columns(category)
                start, end = pl.col(med["start"]), pl.col(med["end"])
                last = pl.min_horizontal(end.fill_null(taken), taken)
                given = start.is_not_null() & (start <= taken) & (last >= start_window)
                usable = usable & ~given.fill_null(False)
        value = self.canonical(code, names["value"], names["unit"])
        return pl.when(usable).then(value).otherwise(None)

    def uln_multiple(self, code: str) -> pl.Expr:
        """``significant(value / ULN)`` with the ULN in the value's unit; null when unusable."""
        names = lab_columns(code)
        value_unit = (
            pl.col(names["unit"])
            if names["unit"] in self.present
            else pl.lit(analyte(code).canonical_unit)
        )
        uln_unit = pl.col(names["uln_unit"]) if names["uln_unit"] in self.present else value_unit
        factor = uln_pair_key(value_unit, uln_unit).replace_strict(
            self.units.uln_to_value_unit[code], default=None, return_dtype=pl.Float64
        )
        uln = _round(pl.col(names["uln"]) * factor)
        multiple = _round(pl.col(names["value"]) / uln)
        return pl.when(self.lab(code).is_not_null()).then(multiple).otherwise(None)

    def crcl(self) -> pl.Expr:
        """Cockcroft-Gault in mL/min, null when an input is missing."""
        basis = self.protocol.screening.crcl_weight
        sex = pl.col("sex")
        weight = self.body("weight")
        if basis != "actual":
            height = self.body("height")
            base = pl.when(sex == "female").then(45.5).otherwise(50.0)
            ideal = base + 2.3 * pl.max_horizontal(height / CM_PER_INCH - 60.0, pl.lit(0.0))
            if basis == "ideal":
                weight = _round(ideal, 4)
            else:
                adjusted = (
                    pl.when(weight <= ideal)
                    .then(weight)
                    .otherwise(ideal + ADJUSTMENT_FACTOR * (weight - ideal))
                )
                weight = _round(adjusted, 4)
        factor = pl.when(sex == "female").then(FEMALE_FACTOR).otherwise(1.0)
        clearance = (140 - self.age()) * weight / (72 * self.lab("creatinine")) * factor
        return _round(pl.when(sex.is_not_null()).then(clearance).otherwise(None))

    def number(self, name: str) -> pl.Expr:
        if name in self.layout.labs:
            return self.lab(name)
        if name == "age":
            return self.age()
        if name in ("weight", "height"):
            return self.body(name)
        if name == "crcl":
            return self.crcl()
        if name == "ecog":
            return pl.col("ecog")
        if name == "lvef":
            return pl.col("lvef_percent")
        if name == "pneumonitis_grade":
            return pl.col("pneumonitis_grade")
        raise KeyError(f"no numeric fact {name!r}")

    # -- categories ------------------------------------------------------------------------------
    def category(self, name: str) -> pl.Expr:
        """As ``Facts.category``: pregnancy and lactation are false for a man."""
        value = pl.col(name)
        if name in ("pregnant", "lactating"):
            return pl.when(value.is_null() & (pl.col("sex") == "male")).then(False).otherwise(value)
        return value
