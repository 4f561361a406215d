"""Loading a patient table into typed columns, refusing anything the screening record refuses.

Every column of the layout is read with its type (dates, numbers, yes/no ...). A cell that does
not parse, a missing column or a patient-id problem is a :class:`BatchError` naming the column,
the first row at fault, how many rows share the problem and what to do. Parquet columns that
already have the right type are taken as they are (no parsing cost).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass

import polars as pl

from trialdesk.eligibility.columnar.layout import PATIENT_ID, SCREENING_DATE, Column, Layout
from trialdesk.eligibility.columnar.lookup import lookup
from trialdesk.errors import TrialdeskError

__all__ = ["BatchError", "Check", "first_failure", "read_patients", "say"]

_TRUE = ("true", "yes", "y", "1")
_FALSE = ("false", "no", "n", "0")


class BatchError(TrialdeskError):
    """A patient table that cannot be screened; the message names the column and the fix."""


@dataclass(frozen=True)
class Check:
    """One rule every row must satisfy: ``bad`` marks the rows breaking it."""

    column: str
    bad: pl.Expr
    message: Callable[[dict[str, object]], str]

    def with_bad(self, condition: pl.Expr) -> Check:
        """The same check, limited to the rows where ``condition`` holds."""
        return Check(self.column, condition & self.bad, self.message)


def say(template: str, *columns: str) -> Callable[[dict[str, object]], str]:
    """A message filling ``template``'s ``{}`` with the row's values of ``columns``."""
    return lambda row: template.format(*(row[column] for column in columns))


def _row_label(row: dict[str, object]) -> str:
    return f"row {int(str(row['__row'])) + 1} (patient_id {row.get(PATIENT_ID)!s})"


def first_failure(frame: pl.DataFrame, checks: list[Check]) -> None:
    """Raise :class:`BatchError` for the first check any row breaks (one pass for all checks)."""
    if not checks or frame.height == 0:
        return
    counts = frame.select(
        [check.bad.fill_null(False).sum().alias(str(i)) for i, check in enumerate(checks)]
    ).row(0)
    for check, count in zip(checks, counts, strict=True):
        if not count:
            continue
        row = frame.with_row_index("__row").filter(check.bad.fill_null(False)).head(1).to_dicts()[0]
        others = f" ({count:,} rows in all)" if count > 1 else ""
        raise BatchError(f"{_row_label(row)}: {check.message(row)}{others}", field=check.column)


def _missing_columns(layout: Layout, present: list[str], *, screening_date_given: bool) -> None:
    missing = [
        column.name
        for column in layout.columns
        if column.name not in present
        and not column.optional
        and not (column.name == SCREENING_DATE and screening_date_given)
    ]
    if SCREENING_DATE not in present and not screening_date_given:
        missing.insert(0, SCREENING_DATE)
    if not missing:
        return
    hints = []
    strangers = [name for name in present if name not in layout.names]
    for name in missing[:5]:
        close = difflib.get_close_matches(name, strangers, n=1, cutoff=0.6)
        if close:
            hints.append(f"{close[0]!r} -> {name!r}")
    listing = ", ".join(missing[:12]) + (
        f" and {len(missing) - 12} more" if len(missing) > 12 else ""
    )
    rename = f"; rename {', '.join(hints)}" if hints else ""
    raise BatchError(
        f"the table lacks {len(missing)} column(s) the protocol needs: {listing}{rename}. "
        "Add them (cells may be empty: empty means not recorded); "
        "see docs/screening-batch.md for the layout",
        field=missing[0],
    )


def _parsed(column: Column, dtype: pl.DataType) -> tuple[pl.Expr, pl.Expr | None, str]:
    """(typed expression, 'cell did not parse' expression or None, what a cell must hold)."""
    raw = pl.col(column.name)
    text = raw.cast(pl.String).str.strip_chars()
    kind = column.type
    if kind in ("id", "unit"):
        return raw.cast(pl.String), None, "text"
    if kind == "date":
        if dtype == pl.Date:
            return raw, None, ""
        if isinstance(dtype, pl.Datetime):
            return raw.dt.date(), None, ""
        typed = text.str.to_date("%Y-%m-%d", strict=False)
        return typed, typed.is_null() & text.is_not_null() & (text != ""), "a date YYYY-MM-DD"
    if kind in ("number", "integer"):
        if dtype.is_numeric():
            typed = raw.cast(pl.Float64)
            bad = None
        else:
            typed = text.cast(pl.Float64, strict=False)
            bad = typed.is_null() & text.is_not_null() & (text != "")
        if kind == "integer":
            fraction = typed.is_not_null() & (typed != typed.floor())
            bad = fraction if bad is None else bad | fraction
            return typed, bad, "a whole number"
        return typed, bad, "a number"
    if kind == "boolean":
        if dtype == pl.Boolean:
            return raw, None, ""
        folded = text.str.to_lowercase()
        typed = (
            pl.when(folded.is_in(_TRUE))
            .then(True)
            .when(folded.is_in(_FALSE))
            .then(False)
            .otherwise(None)
        )
        return typed, typed.is_null() & folded.is_not_null() & (folded != ""), "true or false"
    # text with choices, or a yes/no answer
    folded = (
        pl.when(raw).then(pl.lit("yes")).otherwise(pl.lit("no"))
        if dtype == pl.Boolean and kind == "answer"
        else text.str.to_lowercase()
    )
    folded = pl.when(folded == "").then(None).otherwise(folded)
    choices = list(column.choices)
    return folded, folded.is_not_null() & ~folded.is_in(choices), " or ".join(choices)


def _is_choice_text(column: Column, dtype: pl.DataType) -> bool:
    return column.type in ("text", "answer") and dtype == pl.String


def _choice_spellings(raw: pl.DataFrame, columns: list[Column]) -> dict[str, list[str | None]]:
    """The distinct spellings of each text column of choices.

    Most columns already hold exactly the choices (tested cheaply, by equality); only the
    others are hashed for their distinct spellings.
    """
    if not columns or raw.height == 0:
        return {}
    exact = raw.select(
        [
            (pl.col(c.name).is_null() | pl.any_horizontal([pl.col(c.name) == x for x in c.choices]))
            .all()
            .alias(c.name)
            for c in columns
        ]
    ).row(0, named=True)
    spellings: dict[str, list[str | None]] = {
        c.name: list(c.choices) for c in columns if exact[c.name]
    }
    others = [c.name for c in columns if not exact[c.name]]
    if others:
        spellings |= raw.select([pl.col(c).unique().implode() for c in others]).row(0, named=True)
    return spellings


def _folded_choices(column: Column, spellings: list[str | None]) -> tuple[pl.Expr, pl.Expr | None]:
    """(typed expression, 'not a choice' expression or None) for a text column with choices.

    A column of choices holds few distinct spellings, so they are trimmed and lower-cased once
    each (as :func:`_parsed` folds a cell) and every row is then looked up, in one pass.
    """
    distinct = pl.Series("spelling", [s for s in spellings if s is not None], dtype=pl.String)
    folded = distinct.str.strip_chars().str.to_lowercase()
    mapping: dict[str, str | None] = {}
    refused: list[str] = []
    for spelling, fold in zip(distinct.to_list(), folded.to_list(), strict=True):
        if fold == "":
            mapping[spelling] = None
        elif fold in column.choices:
            mapping[spelling] = fold
        else:
            refused.append(spelling)
    typed = lookup(pl.col(column.name), mapping, pl.Enum(list(column.choices)))
    bad = pl.col(column.name).is_in(refused) if refused else None
    return typed, bad


def read_patients(
    source: pl.LazyFrame, layout: Layout, *, screening_date_given: bool = False
) -> pl.DataFrame:
    """The layout's columns of ``source``, typed. Optional columns that are absent stay absent."""
    schema = source.collect_schema()
    present = list(schema.names())
    _missing_columns(layout, present, screening_date_given=screening_date_given)
    wanted = [c for c in layout.columns if c.name in schema]
    raw = source.select([c.name for c in wanted]).collect()
    spellings = _choice_spellings(raw, [c for c in wanted if _is_choice_text(c, schema[c.name])])
    typed_exprs: list[pl.Expr] = []
    checks: list[Check] = []
    for column in wanted:
        if _is_choice_text(column, schema[column.name]):
            typed, bad = _folded_choices(column, spellings.get(column.name) or [])
            expected = " or ".join(column.choices)
        else:
            typed, bad, expected = _parsed(column, schema[column.name])
        typed_exprs.append(typed.alias(column.name))
        if bad is not None:
            checks.append(
                Check(
                    column.name,
                    bad,
                    say(
                        f"{{!r}} is not {expected}; correct the cell or leave it empty", column.name
                    ),
                )
            )
    first_failure(raw, checks)
    frame = raw.select(typed_exprs)
    _check_patient_ids(frame)
    return frame


def _check_patient_ids(frame: pl.DataFrame) -> None:
    ids = pl.col(PATIENT_ID)
    checks = [
        Check(
            PATIENT_ID,
            ids.is_null() | (ids.str.strip_chars() == ""),
            lambda row: "the patient id is empty; give every row an identifier",
        )
    ]
    # Counting distinct ids is cheaper than marking duplicates; mark them only if there are any.
    if frame.select(ids.n_unique()).item() < frame.height:
        checks.append(
            Check(
                PATIENT_ID,
                ids.is_duplicated(),
                lambda row: (
                    f"patient id {row[PATIENT_ID]!s} appears more than once; "
                    "give one row per patient"
                ),
            )
        )
    first_failure(frame, checks)
