"""A patient's calendar from the protocol: infusions, the treatment period and follow-up visits.

Everything is counted from the first infusion (day 0). Infusion ``k`` is due on day
``(k - 1) × interval_days`` with the protocol's ± ``window_days``; the targets stay anchored to the
first infusion, so one late infusion does not shift the ones after it. Given the dates actually
recorded, :func:`check_infusions` says, as of a date, which infusions are upcoming, due, given
(on time, early or late) or missed. Pure: no store, no clock; the caller passes "today".
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from trialdesk.errors import TrialdeskError
from trialdesk.protocol.models import Administrations, Period, Schedule


@dataclass(frozen=True, slots=True)
class Window:
    """The dates on which something may happen: ``target`` ± the allowed days (both ends in)."""

    target: date
    earliest: date
    latest: date

    @classmethod
    def around(cls, target: date, window_days: int) -> Window:
        spread = timedelta(days=window_days)
        return cls(target=target, earliest=target - spread, latest=target + spread)

    def contains(self, day: date) -> bool:
        return self.earliest <= day <= self.latest

    def deviation_days(self, day: date) -> int:
        """Days ``day`` lies outside the window: negative before it, positive after, 0 inside."""
        if day < self.earliest:
            return (day - self.earliest).days
        if day > self.latest:
            return (day - self.latest).days
        return 0


@dataclass(frozen=True, slots=True)
class PlannedInfusion:
    """Infusion ``number`` (1-based) and the window it is due in."""

    number: int
    window: Window


@dataclass(frozen=True, slots=True)
class PlannedVisit:
    """A follow-up visit of the protocol (``visit_id`` as in ``schedule.visits``) and its window."""

    visit_id: str
    day: int
    window: Window


@dataclass(frozen=True, slots=True)
class TreatmentPeriod:
    """The treatment period: it starts with the first infusion and lasts min–max weeks."""

    start: date
    earliest_end: date
    latest_end: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.latest_end


class Status(StrEnum):
    """Where one scheduled item (infusion or visit) stands as of a date."""

    UPCOMING = "upcoming"
    """Its window has not opened yet."""
    DUE = "due"
    """Its window is open and it has not been done."""
    DONE = "done"
    """Done inside its window."""
    DONE_EARLY = "done_early"
    """Done before its window opened."""
    DONE_LATE = "done_late"
    """Done after its window closed."""
    MISSED = "missed"
    """Recorded as missed, or its window closed without it."""

    @property
    def flagged(self) -> bool:
        """True for what a coordinator must look at: out of window or missed."""
        return self in (Status.DONE_EARLY, Status.DONE_LATE, Status.MISSED)


@dataclass(frozen=True, slots=True)
class Check:
    """The status of one scheduled item with the window it was judged against.

    ``done_on`` is the date it was done (None if not); ``deviation_days`` how many days outside
    the window that was (negative early, positive late, 0 inside or not done).
    """

    key: str
    window: Window
    status: Status
    done_on: date | None
    deviation_days: int


def infusion_plan(administrations: Administrations, first_on: date) -> tuple[PlannedInfusion, ...]:
    """The ``count`` infusions every ``interval_days`` from ``first_on``, each ± ``window_days``.

    ``first_on`` is the date of the first infusion: the actual one once given (see
    :func:`first_infusion_on`), else the planned one.
    """
    return tuple(
        PlannedInfusion(
            number,
            Window.around(
                first_on + timedelta(days=(number - 1) * administrations.interval_days),
                administrations.window_days,
            ),
        )
        for number in range(1, administrations.count + 1)
    )


def first_infusion_on(planned_first: date, given_on: Mapping[int, date]) -> date:
    """Day 0 of the schedule: the first infusion's actual date once given, else its planned date."""
    return given_on.get(1, planned_first)


def treatment_period(period: Period, first_on: date) -> TreatmentPeriod:
    """The treatment period that starts with the infusion of ``first_on``."""
    return TreatmentPeriod(
        start=first_on,
        earliest_end=first_on + timedelta(weeks=period.min_weeks),
        latest_end=first_on + timedelta(weeks=period.max_weeks),
    )


def visit_plan(schedule: Schedule, first_on: date) -> tuple[PlannedVisit, ...]:
    """The protocol's visits (screening before day 0, follow-up after) dated from ``first_on``."""
    return tuple(
        PlannedVisit(
            visit_id=visit.id,
            day=visit.day,
            window=Window.around(first_on + timedelta(days=visit.day), visit.window_days),
        )
        for visit in schedule.visits
    )


def check_infusions(
    plan: Sequence[PlannedInfusion],
    given_on: Mapping[int, date],
    as_of: date,
    *,
    recorded_missed: Collection[int] = (),
) -> tuple[Check, ...]:
    """Each planned infusion's status as of ``as_of``.

    ``given_on`` maps an infusion number to the date it was given; ``recorded_missed`` holds the
    numbers the coordinator recorded as missed. An infusion number outside the plan, or one
    both given and missed, is refused.
    """
    numbers = {item.number for item in plan}
    for number in (*given_on, *recorded_missed):
        if number not in numbers:
            raise TrialdeskError(
                f"infusion {number} is not in the schedule, which has infusions "
                f"1 to {len(plan)}; check the infusion number",
                field="number",
            )
    both = sorted(set(given_on) & set(recorded_missed))
    if both:
        raise TrialdeskError(
            f"infusion {both[0]} is recorded both as given and as missed; void one of the two",
            field="number",
        )
    return tuple(
        _check(
            str(item.number),
            item.window,
            given_on.get(item.number),
            as_of,
            missed=item.number in recorded_missed,
        )
        for item in plan
    )


def check_visits(
    plan: Sequence[PlannedVisit], done_on: Mapping[str, date], as_of: date
) -> tuple[Check, ...]:
    """Each planned visit's status as of ``as_of``; ``done_on`` maps a visit id to its date."""
    known = {item.visit_id for item in plan}
    for visit_id in done_on:
        if visit_id not in known:
            raise TrialdeskError(
                f"visit {visit_id!r} is not in the protocol's schedule; use one of "
                + ", ".join(sorted(known)),
                field="visit_id",
            )
    return tuple(
        _check(item.visit_id, item.window, done_on.get(item.visit_id), as_of, missed=False)
        for item in plan
    )


def flagged(checks: Sequence[Check]) -> tuple[Check, ...]:
    """The checks a coordinator must look at (missed, or done outside the window)."""
    return tuple(check for check in checks if check.status.flagged)


def _check(key: str, window: Window, done: date | None, as_of: date, *, missed: bool) -> Check:
    if done is not None:
        deviation = window.deviation_days(done)
        status = (
            Status.DONE
            if deviation == 0
            else Status.DONE_EARLY
            if deviation < 0
            else Status.DONE_LATE
        )
        return Check(key, window, status, done, deviation)
    if missed or as_of > window.latest:
        status = Status.MISSED
    elif as_of >= window.earliest:
        status = Status.DUE
    else:
        status = Status.UPCOMING
    return Check(key, window, status, None, 0)
