"""The injectable clock: UTC instants, the site's calendar date, and only forward."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from trialdesk.errors import TrialdeskError
from trialdesk.trial.clock import FixedClock, ManualClock, SystemClock

CHENGDU = ZoneInfo("Asia/Shanghai")


def test_today_is_the_site_date_not_the_utc_date() -> None:
    # 20:00 UTC on 5 January is 04:00 on 6 January in Chengdu (UTC+8, no daylight saving).
    clock = FixedClock(datetime(2026, 1, 5, 20, 0, tzinfo=UTC), zone=CHENGDU)
    assert clock.today() == date(2026, 1, 6)
    assert clock.now().tzinfo is UTC


def test_a_manual_clock_moves_forward_by_days_and_never_back() -> None:
    clock = ManualClock(datetime(2026, 1, 5, 9, 0, tzinfo=CHENGDU))
    assert clock.now() == datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    clock.advance(days=30)
    assert clock.today() == date(2026, 2, 4)
    with pytest.raises(TrialdeskError, match="cannot go back"):
        clock.advance(days=-1)
    with pytest.raises(TrialdeskError, match="only moves forward"):
        clock.set(datetime(2026, 1, 1, tzinfo=UTC))


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(TrialdeskError, match="no time zone"):
        ManualClock(datetime(2026, 1, 5, 9, 0))


def test_the_system_clock_is_now_in_utc() -> None:
    moment = SystemClock().now()
    assert moment.tzinfo is UTC
    assert abs(moment - datetime.now(UTC)) < timedelta(seconds=5)
