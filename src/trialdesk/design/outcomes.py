"""Outcome strings, the language of a trial history: ``"1NNN 2NTN"``.

The notation is the one the R package escalation writes: cohorts separated by whitespace, each
cohort a dose level numbered from 1 followed by one letter per patient, ``N`` (no DLT) or ``T``
(a DLT). Letters are accepted in either case and always written in upper case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from trialdesk.design.base import LevelState, TrialState
from trialdesk.errors import TrialdeskError

EXPECTED_FORM = (
    'expected cohorts such as "1NNN 2NTN": a dose level numbered from 1, then one letter per '
    "patient (N = no DLT, T = DLT), cohorts separated by spaces"
)

_TOKEN = re.compile(r"\S+")


@dataclass(frozen=True, slots=True)
class Cohort:
    """One cohort: its 0-based dose level and, per patient, whether a DLT occurred."""

    level: int
    dlts: tuple[bool, ...]

    @property
    def size(self) -> int:
        return len(self.dlts)

    @property
    def n_dlts(self) -> int:
        return sum(self.dlts)


def _error(message: str, position: int) -> TrialdeskError:
    return TrialdeskError(f"{message} at character {position}; {EXPECTED_FORM}", field="outcomes")


def _parse_token(token: str, start: int, n_levels: int | None) -> Cohort:
    digits = 0
    while digits < len(token) and token[digits].isascii() and token[digits].isdigit():
        digits += 1
    if digits == 0:
        raise _error(f"cohort {token!r} does not start with a dose level number", start + 1)
    level = int(token[:digits])
    if level < 1:
        raise _error(f"dose level {level} in cohort {token!r} must be 1 or more", start + 1)
    if n_levels is not None and level > n_levels:
        raise _error(
            f"dose level {level} in cohort {token!r} does not exist (the design has "
            f"{n_levels} levels)",
            start + 1,
        )
    letters = token[digits:]
    if not letters:
        raise _error(f"cohort {token!r} has no patients (N or T) after its level", start + 1)
    dlts: list[bool] = []
    for offset, letter in enumerate(letters):
        upper = letter.upper()
        if upper not in ("N", "T"):
            raise _error(
                f"{letter!r} in cohort {token!r} is not N or T", start + digits + offset + 1
            )
        dlts.append(upper == "T")
    return Cohort(level=level - 1, dlts=tuple(dlts))


def parse_outcomes(text: str, n_levels: int | None = None) -> list[Cohort]:
    """The cohorts of an outcome string, in order. An empty string is a trial with no patients.

    Raises TrialdeskError naming the offending cohort and its 1-based character position.
    """
    return [_parse_token(match.group(), match.start(), n_levels) for match in _TOKEN.finditer(text)]


def format_outcomes(cohorts: Iterable[Cohort]) -> str:
    """The outcome string of ``cohorts`` (levels written from 1, letters in upper case)."""
    parts = []
    for cohort in cohorts:
        if cohort.level < 0 or not cohort.dlts:
            raise TrialdeskError(
                "a cohort needs a level of 0 or more (0-based) and at least one patient",
                field="outcomes",
            )
        parts.append(f"{cohort.level + 1}" + "".join("T" if d else "N" for d in cohort.dlts))
    return " ".join(parts)


def state_from_cohorts(cohorts: Sequence[Cohort], n_levels: int) -> TrialState:
    """The trial state after ``cohorts``: every patient's outcome known, current = last level."""
    if n_levels < 1:
        raise TrialdeskError("the number of dose levels must be at least 1", field="n_levels")
    treated = [0] * n_levels
    dlts = [0] * n_levels
    for cohort in cohorts:
        if cohort.level >= n_levels:
            raise TrialdeskError(
                f"dose level {cohort.level + 1} does not exist (the design has {n_levels} levels)",
                field="outcomes",
            )
        treated[cohort.level] += cohort.size
        dlts[cohort.level] += cohort.n_dlts
    levels = tuple(LevelState(treated=n, dlts=y) for n, y in zip(treated, dlts, strict=True))
    if not cohorts:
        return TrialState(levels=levels)
    last = cohorts[-1]
    return TrialState(levels=levels, current=last.level, last_cohort_had_dlt=last.n_dlts > 0)


def state_from_outcomes(text: str, n_levels: int) -> TrialState:
    """Parse ``text`` (e.g. ``"1NNN 2NTN"``) into the state a design decides from."""
    if n_levels < 1:
        raise TrialdeskError("the number of dose levels must be at least 1", field="n_levels")
    return state_from_cohorts(parse_outcomes(text, n_levels), n_levels)
