"""Age in completed years: birthdays count on the day, 29 February birthdays on 1 March."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialdesk.clinical import ClinicalValueError, age_in_completed_years


def test_birthday_counts_on_the_day() -> None:
    born = date(2008, 6, 15)
    assert age_in_completed_years(born, date(2026, 6, 14)) == 17
    assert age_in_completed_years(born, date(2026, 6, 15)) == 18
    assert age_in_completed_years(born, date(2026, 6, 16)) == 18


def test_born_today_is_zero() -> None:
    assert age_in_completed_years(date(2026, 1, 1), date(2026, 1, 1)) == 0


def test_leap_day_birthday_in_a_non_leap_year_is_reached_on_1_march() -> None:
    born = date(2008, 2, 29)
    assert age_in_completed_years(born, date(2026, 2, 28)) == 17
    assert age_in_completed_years(born, date(2026, 3, 1)) == 18


def test_leap_day_birthday_in_a_leap_year_is_reached_on_29_february() -> None:
    born = date(2008, 2, 29)
    assert age_in_completed_years(born, date(2028, 2, 28)) == 19
    assert age_in_completed_years(born, date(2028, 2, 29)) == 20


def test_upper_age_limit_edge() -> None:
    # NCT06021067 enrols 18-75: a 75-year-old on the day before the 76th birthday is still 75.
    born = date(1950, 11, 25)
    assert age_in_completed_years(born, date(2026, 11, 24)) == 75
    assert age_in_completed_years(born, date(2026, 11, 25)) == 76


def test_datetimes_are_read_as_their_dates() -> None:
    assert age_in_completed_years(datetime(2000, 5, 1, 23, 59), datetime(2026, 5, 1, 0, 1)) == 26


def test_birth_after_reference_is_rejected_naming_the_field() -> None:
    with pytest.raises(ClinicalValueError) as caught:
        age_in_completed_years(date(2026, 12, 1), date(2026, 11, 25), field="patient.birth_date")
    assert caught.value.field == "patient.birth_date"
    assert "2026-12-01" in str(caught.value)
    assert "after" in str(caught.value)


@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
    days=st.integers(min_value=0, max_value=45_000),
)
def test_age_grows_by_at_most_one_per_day(born: date, days: int) -> None:
    on = born + timedelta(days=days)
    age = age_in_completed_years(born, on)
    assert 0 <= age <= days // 365
    assert age_in_completed_years(born, on + timedelta(days=1)) - age in (0, 1)
