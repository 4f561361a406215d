"""Feasibility screening of a whole patient table: "how many of our patients could this trial take?"

The protocol's criteria are compiled once to Polars column expressions
(:mod:`trialdesk.eligibility.columnar.compile`) and evaluated for every row at once: no
per-patient Python. Each row gets the statuses and the verdict :func:`trialdesk.eligibility.screen`
gives the same patient as a :class:`~trialdesk.eligibility.ScreeningRecord` (the flat column
layout is in :mod:`trialdesk.eligibility.columnar.layout` and ``docs/screening-batch.md``).
A table the record format would refuse stops the whole batch with an error naming the column
and the first row; nothing is written.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from trialdesk.clinical.errors import UnitError
from trialdesk.eligibility.columnar.attrition import Attrition, attrition
from trialdesk.eligibility.columnar.checks import record_checks
from trialdesk.eligibility.columnar.compile import (
    MET,
    NOT_MET,
    STATUSES,
    VERDICTS,
    compile_protocol,
)
from trialdesk.eligibility.columnar.facts import (
    ON,
    ColumnFacts,
    UnitTables,
    canonical_column,
    uln_pair_factor,
)
from trialdesk.eligibility.columnar.layout import (
    PATIENT_ID,
    SCREENING_DATE,
    Layout,
    lab_columns,
    layout_for,
)
from trialdesk.eligibility.columnar.read import BatchError, first_failure, read_patients
from trialdesk.eligibility.columnar.tables import scan_table
from trialdesk.eligibility.columnar.units import unit_factors
from trialdesk.protocol.models import Protocol

__all__ = ["BatchError", "BatchResult", "screen_file", "screen_table"]

STATUS_TYPE = pl.Enum(list(STATUSES))
VERDICT_TYPE = pl.Enum(list(VERDICTS))


@dataclass(frozen=True)
class BatchResult:
    """Per patient: ``patient_id``, ``verdict``, ``failing`` (ids joined by ``;``) and one status
    column per criterion and sub-criterion id; and the attrition table."""

    patients: pl.DataFrame
    attrition: Attrition
    criterion_ids: tuple[str, ...]


def _unit_column(code: str, layout: Layout) -> str:
    return lab_columns(code)["unit"] if code in layout.labs else f"{code}_unit"


def _units(typed: pl.DataFrame, layout: Layout, present: set[str]) -> UnitTables:
    """Factors for every distinct unit (and value/ULN unit pair) in the table, computed once.

    Only the distinct spellings of each unit column are read from the data (one pass); a pair
    of spellings that does not convert is an error only if some row with a ULN really holds it.
    """
    codes = (*layout.body, *layout.labs)
    uln_units = [
        lab_columns(code)["uln_unit"]
        for code in layout.labs
        if lab_columns(code)["uln"] in present and lab_columns(code)["uln_unit"] in present
    ]
    listed = [
        c for c in {*(_unit_column(code, layout) for code in codes), *uln_units} if c in present
    ]
    distinct: dict[str, list[str | None]] = (
        typed.select([pl.col(c).unique().implode() for c in listed]).row(0, named=True)
        if listed
        else {}
    )
    to_canonical: dict[str, dict[str, float]] = {}
    for code in codes:
        column = _unit_column(code, layout)
        to_canonical[code] = unit_factors(distinct.get(column) or [], code, column=column)
    uln_pairs: dict[str, dict[tuple[str, str], float]] = {}
    for code in layout.labs:
        names = lab_columns(code)
        if names["uln"] not in present:
            continue
        value_spellings = (
            [u for u in distinct.get(names["unit"]) or [] if u is not None]
            if names["unit"] in present
            else [_canonical(code)]
        )
        factors: dict[tuple[str, str], float] = {}
        for value_spelling in value_spellings:
            uln_spellings = {value_spelling}
            if names["uln_unit"] in present:
                uln_spellings |= {u for u in distinct.get(names["uln_unit"]) or [] if u is not None}
            for uln_spelling in sorted(uln_spellings):
                try:
                    factors[(value_spelling, uln_spelling)] = uln_pair_factor(
                        code, value_spelling, uln_spelling
                    )
                except UnitError as exc:
                    _refuse_pair_if_used(typed, names, present, value_spelling, uln_spelling, exc)
        uln_pairs[code] = factors
    return UnitTables(to_canonical, uln_pairs)


def _refuse_pair_if_used(
    typed: pl.DataFrame,
    names: dict[str, str],
    present: set[str],
    value_spelling: str,
    uln_spelling: str,
    exc: UnitError,
) -> None:
    """Raise for a (value unit, ULN unit) pair that does not convert, if a row with a ULN has it."""
    value_unit = pl.col(names["unit"]) if names["unit"] in present else pl.lit(value_spelling)
    uln_unit = (
        pl.col(names["uln_unit"]).fill_null(value_unit)
        if names["uln_unit"] in present
        else value_unit
    )
    used = (
        pl.col(names["uln"]).is_not_null()
        & (value_unit == value_spelling)
        & (uln_unit == uln_spelling)
    )
    if not typed.select(used.any()).item():
        return
    message = str(exc).removeprefix(f"{exc.field}: ") if exc.field else str(exc)
    raise BatchError(
        f"{message} (ULN reported in {uln_spelling!r} for a value in "
        f"{value_spelling!r}); correct those cells",
        field=names["uln_unit"] if names["uln_unit"] in present else names["uln"],
    ) from None


def _canonical(code: str) -> str:
    from trialdesk.clinical import analyte

    return analyte(code).canonical_unit


def screen_table(
    protocol: Protocol, source: pl.LazyFrame | pl.DataFrame, *, on: dt.date | None = None
) -> BatchResult:
    """Screen every row of ``source`` against ``protocol`` as of ``on`` (default: each row's
    ``screening_date``). Raises :class:`BatchError` for a table that cannot be screened."""
    layout = layout_for(protocol)
    lazy = source.lazy() if isinstance(source, pl.DataFrame) else source
    typed = read_patients(lazy, layout, screening_date_given=on is not None)
    present = set(typed.columns)
    day = pl.lit(on, dtype=pl.Date) if on is not None else pl.col(SCREENING_DATE)
    typed = typed.with_columns(day.alias(ON))
    units = _units(typed, layout, present)
    facts = ColumnFacts(protocol, layout, units, present)
    # Derived facts once, as columns: every check and rule below reads them by name.
    typed = typed.with_columns(facts.canonical_stage())
    canonical = {code: pl.col(canonical_column(code)) for code in (*layout.body, *layout.labs)}
    first_failure(typed, record_checks(layout, present, canonical))
    derived = typed.lazy()
    for stage in facts.fact_stages():
        derived = derived.with_columns(stage)
    compiled = compile_protocol(protocol, facts)
    ids = compiled.ids
    # The failing ids are listed from the Int8 codes, before they are named (cheaper to compare).
    failing = pl.concat_str(
        [
            pl.when(pl.col(i) == _failing_code(compiled.kinds[i])).then(pl.lit(i))
            for i in compiled.top_ids
        ],
        separator=";",
        ignore_nulls=True,
    )
    patients = (
        derived.with_columns(compiled.results)
        .with_columns(compiled.parents)
        .with_columns(compiled.verdict, failing.alias("failing"))
        .select(
            pl.col(PATIENT_ID),
            _named(pl.col("verdict"), VERDICT_TYPE).alias("verdict"),
            pl.col("failing"),
            *[_named(pl.col(i), STATUS_TYPE).alias(i) for i in ids],
        )
        .collect()
    )
    table_rows: list[tuple[str, str, str, str | None]] = []
    for criterion in protocol.criteria:
        table_rows.append((criterion.id, criterion.kind, criterion.text.en, None))
        table_rows += [(s.id, criterion.kind, s.text.en, criterion.id) for s in criterion.sub]
    return BatchResult(patients, attrition(patients, table_rows, VERDICTS), tuple(ids))


def _failing_code(kind: str) -> int:
    return NOT_MET if kind == "inclusion" else MET


def _named(codes: pl.Expr, names: pl.Enum) -> pl.Expr:
    """Int8 codes as their Enum names: the name at each code's position (a gather, no hashing)."""
    return pl.lit(pl.Series(names.categories, dtype=names)).gather(codes)


def screen_file(protocol: Protocol, path: Path, *, on: dt.date | None = None) -> BatchResult:
    """Screen a Parquet, CSV or NDJSON patient table (format by extension)."""
    return screen_table(protocol, scan_table(path), on=on)
