"""Age in completed years, as eligibility criteria ("18-75 years") count it.

Convention for a 29 February birthday: in a non-leap year the birthday is reached on 1 March,
not 28 February (someone born on 29 Feb 2008 turns 18 on 1 Mar 2026, not on 28 Feb 2026): the
birthday is counted only once the calendar has passed 28 February. The day of the birthday
itself counts as reached. A protocol that needs another rule must say so explicitly.
"""

from __future__ import annotations

from datetime import date, datetime

from trialdesk.clinical.errors import ClinicalValueError

__all__ = ["age_in_completed_years"]


def _as_date(value: date, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if not isinstance(value, date):
        raise ClinicalValueError(f"{value!r} is not a date; give a date (YYYY-MM-DD)", field=field)
    return value


def age_in_completed_years(birth_date: date, on: date, *, field: str = "birth_date") -> int:
    """Whole years lived from ``birth_date`` to ``on`` (the day of the birthday counts).

    Raises :class:`ClinicalValueError` naming ``field`` when the birth date is after ``on``.
    """
    born = _as_date(birth_date, field)
    reference = _as_date(on, "reference_date")
    if born > reference:
        raise ClinicalValueError(
            f"birth date {born.isoformat()} is after {reference.isoformat()}; "
            "check the birth date (YYYY-MM-DD)",
            field=field,
        )
    years = reference.year - born.year
    # Comparing (month, day) pairs makes (2, 29) fall between 28 Feb and 1 Mar: the 1 March rule.
    if (reference.month, reference.day) < (born.month, born.day):
        years -= 1
    return years
