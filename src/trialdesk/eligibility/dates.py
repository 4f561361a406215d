"""Calendar arithmetic for eligibility windows, counted back from the screening date.

"Within 6 months" and "less than 2 calendar months" compare a date with the same day N months
earlier; when that month is shorter the day is clamped to its last day (31 August minus 6 months
is 28 February, or 29 February in a leap year).
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta

from trialdesk.protocol.criteria import Interval, Period

__all__ = ["completed_months", "cutoff", "elapsed_holds"]


def _months_back(day: date, months: int) -> date:
    index = day.year * 12 + (day.month - 1) - months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def cutoff(on: date, period: Period) -> date:
    """The date ``period`` before ``on`` (calendar months and years; days exactly)."""
    if period.unit == "days":
        return on - timedelta(days=period.amount)
    months = period.amount * (12 if period.unit == "years" else 1)
    return _months_back(on, months)


def elapsed_holds(since: date, on: date, interval: Interval) -> bool:
    """Whether the time from ``since`` to ``on`` is ``interval.op`` ``interval.amount unit``.

    Elapsed < N months  <=>  ``since`` is after the date N months before ``on``;
    elapsed <= N months <=>  ``since`` is on or after it; and so on for > and >=.
    """
    limit = cutoff(on, interval)
    if interval.op == "<":
        return since > limit
    if interval.op == "<=":
        return since >= limit
    if interval.op == ">":
        return since < limit
    return since <= limit


def completed_months(since: date, on: date) -> int:
    """Whole calendar months from ``since`` to ``on`` (for evidence)."""
    months = (on.year - since.year) * 12 + (on.month - since.month)
    while months > 0 and _months_back(on, months) < since:
        months -= 1
    return months
