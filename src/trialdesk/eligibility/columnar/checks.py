"""The screening record's own rules, checked on every row of a typed patient table at once.

A row the single-patient :class:`~trialdesk.eligibility.ScreeningRecord` would refuse (an
impossible value, a date after the screening date, a result without its sample date ...) stops
the batch with a :class:`~trialdesk.eligibility.columnar.read.BatchError` naming the column and
the first row, with the clinical layer's own message.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl

from trialdesk.clinical import analyte, to_canonical
from trialdesk.clinical.errors import ClinicalError
from trialdesk.eligibility.columnar.facts import ON
from trialdesk.eligibility.columnar.layout import (
    SCREENING_DATE,
    Layout,
    history_columns,
    lab_columns,
    medication_columns,
)
from trialdesk.eligibility.columnar.read import Check, say

__all__ = ["record_checks"]

MAX_AGE_YEARS = 130


def _clinical_message(
    code: str, value: str, unit: str | None
) -> Callable[[dict[str, object]], str]:
    def message(row: dict[str, object]) -> str:
        number = row[value]
        spelling = str(row[unit]) if unit and row.get(unit) else analyte(code).canonical_unit
        try:
            to_canonical(code, float(str(number)), spelling)
        except ClinicalError as exc:
            text = str(exc).removeprefix(f"{exc.field}: ") if exc.field else str(exc)
            return f"{text}; correct the cell or leave it empty"
        return f"{number} is not a plausible {analyte(code).name_en}"

    return message


def _not_after_screening(name: str, present: set[str]) -> Check:
    day = pl.col(name)
    limit = pl.col(ON)
    if SCREENING_DATE in present:
        limit = pl.min_horizontal(limit, pl.col(SCREENING_DATE))
    return Check(
        name,
        day > limit,
        lambda row: (
            f"{row[name]} is after the screening date {row[ON]}; a date cannot be in the future: "
            f"check {name} or the screening date"
        ),
    )


def record_checks(layout: Layout, present: set[str], canonical: dict[str, pl.Expr]) -> list[Check]:
    """Every rule of the record, as checks (``canonical``: value expressions by analyte)."""
    checks: list[Check] = [
        Check(
            SCREENING_DATE,
            pl.col(ON).is_null(),
            lambda row: "the screening date is empty; fill it in, or give --date for every row",
        )
    ]
    dated = [name for name in ("birth_date", "consent_signed_on") if name in present]
    if "birth_date" in present:
        too_old = pl.col(ON).dt.year() - pl.col("birth_date").dt.year() > MAX_AGE_YEARS
        checks.append(
            Check(
                "birth_date",
                too_old,
                lambda row: (
                    f"birth date {row['birth_date']} is over {MAX_AGE_YEARS} years ago; "
                    "check the birth date"
                ),
            )
        )
    for code in (*layout.body, *layout.labs):
        is_lab = code in layout.labs
        names = lab_columns(code) if is_lab else {"value": f"{code}_value", "unit": f"{code}_unit"}
        value, unit = names["value"], names["unit"]
        given = pl.col(value).is_not_null()
        item = analyte(code)
        if unit in present:
            checks.append(
                Check(
                    unit,
                    given & pl.col(unit).is_null(),
                    say(f"{value} is {{}} but {unit} is empty; give its unit", value),
                )
            )
        outside = (canonical[code] < item.minimum) | (canonical[code] > item.maximum)
        checks.append(
            Check(
                value,
                given & outside,
                _clinical_message(code, value, unit if unit in present else None),
            )
        )
        if not is_lab:
            continue
        taken = names["taken_on"]
        checks.append(
            Check(
                taken,
                given & pl.col(taken).is_null(),
                say(
                    f"{value} is {{}} but {taken} is empty; give the date the sample was taken",
                    value,
                ),
            )
        )
        checks.append(_not_after_screening(taken, present).with_bad(given))
        if names["uln"] not in present:
            continue
        uln = pl.col(names["uln"])
        checks.append(
            Check(
                names["uln"],
                given & (uln <= 0),
                say(
                    "the upper limit of normal must be above 0, got {}; "
                    "take it from the laboratory's reference range",
                    names["uln"],
                ),
            )
        )
        if names["uln_unit"] in present:
            checks.append(
                Check(
                    names["uln_unit"],
                    given & uln.is_null() & pl.col(names["uln_unit"]).is_not_null(),
                    say(f"a ULN unit is given without the ULN; fill {names['uln']}"),
                )
            )
    for name, low, high in (("ecog", 0, 5), ("pneumonitis_grade", 1, 5), ("lvef_percent", 5, 95)):
        if name in present:
            checks.append(
                Check(
                    name,
                    (pl.col(name) < low) | (pl.col(name) > high),
                    say(f"{{}} is outside {low}–{high}; correct the cell or leave it empty", name),
                )
            )
    if "sex" in present:
        for name in ("pregnant", "lactating"):
            if name in present:
                checks.append(
                    Check(
                        name,
                        (pl.col("sex") == "male") & pl.col(name),
                        say(f"{name} is true for a male patient; check sex and {name}"),
                    )
                )
    for code_set in layout.code_sets:
        names = history_columns(code_set)
        flagged = pl.col(names["present"]).fill_null(False)
        onset, abatement = pl.col(names["onset"]), pl.col(names["abatement"])
        checks.append(
            Check(
                names["abatement"],
                flagged & (abatement < onset),
                say(
                    "abatement {} is before onset {}; check both dates",
                    names["abatement"],
                    names["onset"],
                ),
            )
        )
        checks.append(_not_after_screening(names["onset"], present).with_bad(flagged))
    for category in layout.categories:
        names = medication_columns(category)
        start, end = pl.col(names["start"]), pl.col(names["end"])
        checks.append(
            Check(
                names["start"],
                start.is_null() & end.is_not_null(),
                say(f"a last day is given without a first day; fill {names['start']}"),
            )
        )
        checks.append(
            Check(
                names["end"],
                end < start,
                say("end {} is before start {}; check both dates", names["end"], names["start"]),
            )
        )
        checks.append(_not_after_screening(names["start"], present))
    checks += [_not_after_screening(name, present) for name in dated]
    return checks
