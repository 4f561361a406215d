"""Outcome strings as the R package escalation writes them ("1NNN 2NTN")."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialdesk.design.outcomes import (
    Cohort,
    format_outcomes,
    parse_outcomes,
    state_from_outcomes,
)
from trialdesk.errors import TrialdeskError


def test_parse_example() -> None:
    assert parse_outcomes("1NNN 2NTN") == [
        Cohort(0, (False, False, False)),
        Cohort(1, (False, True, False)),
    ]


def test_lower_case_and_extra_whitespace_are_accepted_and_written_canonically() -> None:
    assert format_outcomes(parse_outcomes("  1nnn\t2ntN \n")) == "1NNN 2NTN"


def test_state_from_outcomes_counts_per_level_and_current() -> None:
    state = state_from_outcomes("1NNN 2NTN 2NNT", 3)
    assert [(lv.treated, lv.dlts) for lv in state.levels] == [(3, 0), (6, 2), (0, 0)]
    assert state.current == 1 and state.last_cohort_had_dlt


def test_empty_history() -> None:
    state = state_from_outcomes("", 4)
    assert state.total_treated == 0 and state.n_levels == 4


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1NNN 2NXN", "'X' in cohort '2NXN' is not N or T at character 8"),
        ("NNN", "does not start with a dose level number at character 1"),
        ("1NNN 2", "has no patients (N or T) after its level at character 6"),
        ("1NNN 0NN", "must be 1 or more at character 6"),
        ("1NNN 6NN", "does not exist (the design has 5 levels) at character 6"),
    ],
)
def test_malformed_strings_say_what_and_where(text: str, message: str) -> None:
    with pytest.raises(TrialdeskError) as info:
        parse_outcomes(text, n_levels=5)
    assert message in str(info.value)
    assert 'expected cohorts such as "1NNN 2NTN"' in str(info.value)


cohorts = st.lists(
    st.builds(
        Cohort,
        level=st.integers(min_value=0, max_value=11),
        dlts=st.lists(st.booleans(), min_size=1, max_size=6).map(tuple),
    ),
    max_size=12,
)


@given(cohorts)
def test_round_trip(history: list[Cohort]) -> None:
    text = format_outcomes(history)
    assert parse_outcomes(text) == history
    assert format_outcomes(parse_outcomes(text.lower())) == text
