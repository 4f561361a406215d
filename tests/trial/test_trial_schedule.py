"""The infusion and visit calendar of NCT06021067 and the late/missed flags."""

from __future__ import annotations

from datetime import date

import pytest

from trialdesk.errors import TrialdeskError
from trialdesk.protocol import builtin_protocol
from trialdesk.protocol.models import Administrations, Schedule
from trialdesk.trial.schedule import (
    Status,
    check_infusions,
    check_visits,
    first_infusion_on,
    flagged,
    infusion_plan,
    treatment_period,
    visit_plan,
)

FIRST = date(2024, 3, 1)


def _schedule() -> Schedule:
    schedule = builtin_protocol().protocol.schedule
    assert schedule is not None
    return schedule


def test_four_infusions_every_three_days_from_the_first() -> None:
    # Registry text of NCT06021067: "every 3 days, 4 infusions in a row"; ±1 day is the built-in
    # protocol's stated assumption.
    plan = infusion_plan(_schedule().administrations, FIRST)
    assert [p.number for p in plan] == [1, 2, 3, 4]
    assert [p.window.target for p in plan] == [
        date(2024, 3, 1),
        date(2024, 3, 4),
        date(2024, 3, 7),
        date(2024, 3, 10),
    ]
    assert (plan[1].window.earliest, plan[1].window.latest) == (date(2024, 3, 3), date(2024, 3, 5))


def test_treatment_period_is_four_to_six_weeks_from_the_first_infusion() -> None:
    # Registry text: "treatment period 4-6 weeks".
    period = treatment_period(_schedule().treatment_period, FIRST)
    assert (period.start, period.earliest_end, period.latest_end) == (
        FIRST,
        date(2024, 3, 29),
        date(2024, 4, 12),
    )
    assert period.contains(date(2024, 4, 12)) and not period.contains(date(2024, 4, 13))


def test_follow_up_visits_are_dated_from_day_zero() -> None:
    visits = {v.visit_id: v for v in visit_plan(_schedule(), FIRST)}
    assert visits["day14"].window.target == date(2024, 3, 15)
    assert visits["day30"].window.target == date(2024, 3, 31)
    assert visits["screening"].window.target == date(2024, 2, 16)


def test_on_time_late_early_due_upcoming_and_missed() -> None:
    plan = infusion_plan(_schedule().administrations, FIRST)
    given = {1: date(2024, 3, 1), 2: date(2024, 3, 6)}  # infusion 2 target 4 Mar, window to 5 Mar
    checks = check_infusions(plan, given, as_of=date(2024, 3, 8))
    assert [c.status for c in checks] == [
        Status.DONE,
        Status.DONE_LATE,
        Status.DUE,
        Status.UPCOMING,
    ]
    assert checks[1].deviation_days == 1
    later = check_infusions(plan, given, as_of=date(2024, 3, 9))
    assert later[2].status is Status.MISSED  # window of infusion 3 closed on 8 Mar
    early = check_infusions(plan, {1: FIRST, 2: date(2024, 3, 2)}, as_of=date(2024, 3, 2))
    assert early[1].status is Status.DONE_EARLY and early[1].deviation_days == -1
    assert [c.key for c in flagged(later)] == ["2", "3"]


def test_window_edges_are_inside() -> None:
    plan = infusion_plan(_schedule().administrations, FIRST)
    checks = check_infusions(plan, {1: FIRST, 2: date(2024, 3, 5)}, as_of=date(2024, 3, 5))
    assert checks[1].status is Status.DONE
    assert check_infusions(plan, {1: FIRST}, as_of=date(2024, 3, 5))[1].status is Status.DUE


def test_recorded_missed_is_missed_even_while_the_window_is_open() -> None:
    plan = infusion_plan(_schedule().administrations, FIRST)
    checks = check_infusions(plan, {1: FIRST}, as_of=date(2024, 3, 4), recorded_missed={2})
    assert checks[1].status is Status.MISSED


def test_unknown_or_contradictory_infusion_numbers_are_refused() -> None:
    plan = infusion_plan(_schedule().administrations, FIRST)
    with pytest.raises(TrialdeskError, match="infusion 5 is not in the schedule"):
        check_infusions(plan, {5: FIRST}, as_of=FIRST)
    with pytest.raises(TrialdeskError, match="both as given and as missed"):
        check_infusions(plan, {2: FIRST}, as_of=FIRST, recorded_missed={2})


def test_day_zero_moves_to_the_actual_first_infusion() -> None:
    planned = date(2024, 3, 1)
    assert first_infusion_on(planned, {}) == planned
    assert first_infusion_on(planned, {1: date(2024, 3, 2)}) == date(2024, 3, 2)


def test_schedule_follows_the_protocol_not_fixed_numbers() -> None:
    weekly = Administrations(count=2, interval_days=7, window_days=0)
    plan = infusion_plan(weekly, FIRST)
    assert [p.window.target for p in plan] == [FIRST, date(2024, 3, 8)]
    assert check_infusions(plan, {1: FIRST}, as_of=date(2024, 3, 9))[1].status is Status.MISSED


def test_visits_done_and_missed() -> None:
    visits = visit_plan(_schedule(), FIRST)
    checks = {
        c.key: c for c in check_visits(visits, {"day14": date(2024, 3, 16)}, date(2024, 4, 5))
    }
    assert checks["day14"].status is Status.DONE
    assert checks["day30"].status is Status.MISSED  # 31 Mar ± 3 days closed on 3 Apr
    assert checks["day90"].status is Status.UPCOMING
    with pytest.raises(TrialdeskError, match="visit 'day7' is not in the protocol"):
        check_visits(visits, {"day7": FIRST}, FIRST)
