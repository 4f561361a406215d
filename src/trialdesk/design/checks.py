"""Validation of design settings, with messages that say which setting is wrong and how to fix
it. Every design checks its settings at construction, so a bad design never runs."""

from __future__ import annotations

import math

from trialdesk.errors import TrialdeskError


def check_n_levels(n_levels: object) -> int:
    if not isinstance(n_levels, int) or isinstance(n_levels, bool) or n_levels < 1:
        raise TrialdeskError(
            f"must be a whole number of dose levels, 1 or more (got {n_levels!r})",
            field="n_levels",
        )
    return n_levels


def check_probability(value: object, field: str) -> float:
    """A rate strictly between 0 and 1 (targets, cut-offs)."""
    if (
        not isinstance(value, int | float)
        or isinstance(value, bool)
        or not math.isfinite(value)
        or not 0 < value < 1
    ):
        raise TrialdeskError(
            f"must be a number strictly between 0 and 1, e.g. 0.3 (got {value!r})", field=field
        )
    return float(value)


def check_positive_int(value: object, field: str, *, allow_none: bool = False) -> int | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise TrialdeskError(f"must be a whole number, 1 or more (got {value!r})", field=field)
    return value


def check_start_level(start_level: object, n_levels: int) -> int:
    """``start_level`` is 0-based here; the message speaks 1-based."""
    if (
        not isinstance(start_level, int)
        or isinstance(start_level, bool)
        or not 0 <= start_level < n_levels
    ):
        shown = start_level + 1 if isinstance(start_level, int) else start_level
        raise TrialdeskError(
            f"level {shown!r} does not exist; choose a level from 1 to {n_levels}",
            field="start_level",
        )
    return start_level


def check_state_matches(n_state_levels: int, n_levels: int) -> None:
    if n_state_levels != n_levels:
        raise TrialdeskError(
            f"the trial state has {n_state_levels} dose levels but the design has {n_levels}",
            field="state",
        )
