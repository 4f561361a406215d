"""The trial's one clock, injectable so that a whole trial can be run in a test in seconds.

Every use-case takes a :class:`Clock` instead of asking the system for the time: enrolment
dates, DLT windows, SAE reporting clocks and audit timestamps all come from it. ``now()`` is a
timezone-aware UTC instant (what is stored); ``today()`` is the calendar date at the site (what
a coordinator writes on a form), which in Chengdu differs from the UTC date for 8 hours a day.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol

from trialdesk.errors import TrialdeskError


class Clock(Protocol):
    """Where the time comes from."""

    def now(self) -> datetime:
        """The current instant, timezone-aware, in UTC."""
        ...

    def today(self) -> date:
        """The current calendar date at the site."""
        ...


class SystemClock:
    """The real time. ``zone`` is the site's time zone; None uses the machine's own zone."""

    def __init__(self, zone: tzinfo | None = None) -> None:
        self._zone = zone

    def now(self) -> datetime:
        return datetime.now(UTC)

    @property
    def zone(self) -> tzinfo:
        """The site's zone (the machine's own when none was given)."""
        if self._zone is not None:
            return self._zone
        local = datetime.now(UTC).astimezone().tzinfo
        return local if local is not None else UTC

    def today(self) -> date:
        return datetime.now(UTC).astimezone(self.zone).date()


class FixedClock:
    """A clock stopped at one instant. ``today()`` is the date in ``zone`` (UTC unless given)."""

    def __init__(self, moment: datetime, zone: tzinfo = UTC) -> None:
        self._now = _aware(moment)
        self._zone = zone

    @property
    def zone(self) -> tzinfo:
        """The site's zone, for turning stored UTC instants into site dates."""
        return self._zone

    def now(self) -> datetime:
        return self._now

    def today(self) -> date:
        return self._now.astimezone(self._zone).date()


class ManualClock(FixedClock):
    """A clock that only moves when told to (tests, demos, simulated trials)."""

    def advance(self, *, days: float = 0, hours: float = 0, minutes: float = 0) -> datetime:
        """Move forward (never back) and return the new instant."""
        step = timedelta(days=days, hours=hours, minutes=minutes)
        if step < timedelta(0):
            raise TrialdeskError("a clock cannot go back in time; give a positive step")
        self._now += step
        return self._now

    def set(self, moment: datetime) -> None:
        """Jump to ``moment``; never earlier, or stored records would come from the future."""
        target = _aware(moment)
        if target < self._now:
            raise TrialdeskError(
                f"{target.isoformat()} is before the clock's time {self._now.isoformat()}; "
                "a clock only moves forward"
            )
        self._now = target


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TrialdeskError(
            f"{moment.isoformat()} has no time zone; give an aware datetime, e.g. "
            "datetime(2026, 1, 5, 9, 0, tzinfo=UTC)",
            field="moment",
        )
    return moment.astimezone(UTC)
