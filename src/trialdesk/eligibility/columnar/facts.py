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

__all__ = ["AGE", "CRCL", "ON", "ColumnFacts", "UnitTables", "canonical_column", "uln_pair_factor"]

ON = "__on"
"""Column of the effective screening date of each row."""


@dataclass(frozen=True)
class UnitTables:
    """Conversion factors per distinct unit found in the table (see :mod:`.units`)."""

    to_canonical: dict[str, dict[str, float]]
    uln_to_value_unit: dict[str, dict[tuple[str, str], float]]
    """Per lab: (value unit, ULN unit) -> factor taking the ULN to the value's unit."""


def _round(expr: pl.Expr, digits: int = SIGNIFICANT_DIGITS) -> pl.Expr:
    return expr.round_sig_figs(digits)


def uln_pair_factor(code: str, value_unit: str, uln_unit: str) -> float:
    """Factor taking a ULN in ``uln_unit`` to ``value_unit`` (as ``uln_multiple`` converts)."""
    molar = analyte(code).molar_mass_g_per_mol
    return convert(1.0, uln_unit, value_unit, field=code, molar_mass_g_per_mol=molar)


def _pair_factor(
    value_unit: pl.Expr, uln_unit: pl.Expr, factors: dict[tuple[str, str], float]
) -> pl.Expr:
    """The factor of each row's (value unit, ULN unit) pair; a short chain of equality tests,
    since a table holds only a handful of distinct pairs."""
    chain: pl.Expr = pl.lit(None, dtype=pl.Float64)
    for (value_spelling, uln_spelling), factor in factors.items():
        chain = (
            pl.when((value_unit == value_spelling) & (uln_unit == uln_spelling))
            .then(pl.lit(factor, dtype=pl.Float64))
            .otherwise(chain)
        )
    return chain


def canonical_column(code: str) -> str:
    """Column of an analyte's (or body measurement's) value in its canonical unit."""
    return f"__canonical_{code}"


def _usable_column(code: str) -> str:
    return f"__usable_{code}"


def _lab_column(code: str) -> str:
    return f"__lab_{code}"


def _uln_multiple_column(code: str) -> str:
    return f"__uln_multiple_{code}"


AGE = "__age"
CRCL = "__crcl"


class ColumnFacts:
    """Expressions for the facts of a typed patient frame (see :mod:`.read`).

    Every derived fact (canonical values, usable-result masks, ULN multiples, age, CrCl) is
    computed once as a column by the stages of :meth:`derived_stages`; the facts the criteria
    read are then plain column references, however many rules read them.
    """

    def __init__(
        self, protocol: Protocol, layout: Layout, units: UnitTables, present: set[str]
    ) -> None:
        self.protocol = protocol
        self.layout = layout
        self.units = units
        self.present = present
        self.on = pl.col(ON)

    # -- the derived columns -------------------------------------------------------------------
    def _unit_column(self, name: str) -> str | None:
        return name if name in self.present else None

    def _canonical(self, code: str) -> pl.Expr:
        names = lab_columns(code) if code in self.layout.labs else _body_columns(code)
        unit = self._unit_column(names["unit"])
        return canonical_expression(names["value"], unit, self.units.to_canonical[code])

    def canonical_stage(self) -> list[pl.Expr]:
        """Stage 1: canonical values of every lab and body measurement, and the usable masks."""
        exprs = [
            self._canonical(code).alias(canonical_column(code))
            for code in (*self.layout.body, *self.layout.labs)
        ]
        exprs += [self._usable(code).alias(_usable_column(code)) for code in self.layout.labs]
        if "birth_date" in self.present:
            exprs.append(self._age().alias(AGE))
        return exprs

    def fact_stages(self) -> list[list[pl.Expr]]:
        """Stages 2 and 3 (each reads the previous): usable lab values, then ULN multiples and
        CrCl."""
        labs = [
            pl.when(pl.col(_usable_column(code)))
            .then(pl.col(canonical_column(code)))
            .otherwise(None)
            .alias(_lab_column(code))
            for code in self.layout.labs
        ]
        multiples = [
            self._uln_multiple(code).alias(_uln_multiple_column(code))
            for code in self.layout.labs
            if code in self.units.uln_to_value_unit
        ]
        second = multiples + ([self._crcl().alias(CRCL)] if self._needs_crcl() else [])
        return [labs, second] if second else [labs]

    def _needs_crcl(self) -> bool:
        return (
            "creatinine" in self.layout.labs
            and "weight" in self.layout.body
            and ("birth_date" in self.present and "sex" in self.present)
        )

    def _age(self) -> pl.Expr:
        """Completed years at the screening date (a 29 February birthday counts on 1 March)."""
        born = pl.col("birth_date")
        years = self.on.dt.year().cast(pl.Int32) - born.dt.year().cast(pl.Int32)
        on_day = self.on.dt.month().cast(pl.Int32) * 100 + self.on.dt.day().cast(pl.Int32)
        born_day = born.dt.month().cast(pl.Int32) * 100 + born.dt.day().cast(pl.Int32)
        return (years - (on_day < born_day).cast(pl.Int32)).cast(pl.Float64)

    def _usable(self, code: str) -> pl.Expr:
        """Recent enough, and no sample rule's treatment given in the days before the sample."""
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
        return usable

    def _uln_multiple(self, code: str) -> pl.Expr:
        """``significant(value / ULN)`` with the ULN in the value's unit; null when unusable."""
        names = lab_columns(code)
        value_unit = (
            pl.col(names["unit"])
            if names["unit"] in self.present
            else pl.lit(analyte(code).canonical_unit)
        )
        uln_unit = pl.col(names["uln_unit"]) if names["uln_unit"] in self.present else value_unit
        factor = _pair_factor(
            value_unit, uln_unit.fill_null(value_unit), self.units.uln_to_value_unit[code]
        )
        uln = _round(pl.col(names["uln"]) * factor)
        multiple = _round(pl.col(names["value"]) / uln)
        return pl.when(pl.col(_lab_column(code)).is_not_null()).then(multiple).otherwise(None)

    def _crcl(self) -> pl.Expr:
        """Cockcroft-Gault in mL/min, null when an input is missing."""
        basis = self.protocol.screening.crcl_weight
        sex = pl.col("sex")
        weight = pl.col(canonical_column("weight"))
        if basis != "actual":
            height = pl.col(canonical_column("height"))
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
        creatinine = pl.col(_lab_column("creatinine"))
        clearance = (140 - pl.col(AGE)) * weight / (72 * creatinine) * factor
        return _round(pl.when(sex.is_not_null()).then(clearance).otherwise(None))

    # -- the facts the criteria read -------------------------------------------------------------
    def uln_multiple(self, code: str) -> pl.Expr:
        return pl.col(_uln_multiple_column(code))

    def number(self, name: str) -> pl.Expr:
        if name in self.layout.labs:
            return pl.col(_lab_column(name))
        if name == "age":
            return pl.col(AGE)
        if name in ("weight", "height"):
            return pl.col(canonical_column(name))
        if name == "crcl":
            return pl.col(CRCL)
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


def _body_columns(code: str) -> dict[str, str]:
    return {"value": f"{code}_value", "unit": f"{code}_unit"}
