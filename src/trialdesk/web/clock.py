"""The web app's one clock: the system clock unless a test put another on ``app.state.clock``."""

from __future__ import annotations

from starlette.types import ASGIApp

from trialdesk.trial.clock import Clock, SystemClock

_SYSTEM = SystemClock()


def app_clock(app: ASGIApp) -> Clock:
    """``app.state.clock`` when set (tests use a ManualClock), else the system clock."""
    state = getattr(app, "state", None)
    clock = getattr(state, "clock", None) if state is not None else None
    return clock if clock is not None else _SYSTEM
