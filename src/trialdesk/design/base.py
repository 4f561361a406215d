"""The one interface every dose-finding design shares.

Levels are numbered from 0 inside the code and from 1 wherever a person reads them (reasons,
CLI, reports). A design is a pure function of the trial state: the same state always gives the
same decision, which is what makes escalation decisions replayable.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

Action = Literal["escalate", "stay", "de-escalate", "stop"]


@dataclass(frozen=True, slots=True)
class LevelState:
    """What is known at one dose level.

    treated: every patient dosed at the level (including those still being followed).
    dlts: patients with a confirmed dose-limiting toxicity.
    pending: for each patient still inside the DLT window without a DLT, the fraction of the
        window followed so far (0 < f < 1). Designs that are not time-to-event only use the
        patients whose window has closed: ``treated - len(pending)``.
    """

    treated: int = 0
    dlts: int = 0
    pending: tuple[float, ...] = ()

    @property
    def complete(self) -> int:
        """Patients whose outcome is known (window closed, or a DLT)."""
        return self.treated - len(self.pending)


@dataclass(frozen=True, slots=True)
class TrialState:
    """The trial as a design sees it: one LevelState per dose level, the level of the last
    cohort (``current``), and whether that last cohort had a DLT (some CRM rules use it)."""

    levels: tuple[LevelState, ...]
    current: int = 0
    last_cohort_had_dlt: bool = False

    @property
    def n_levels(self) -> int:
        return len(self.levels)

    @property
    def total_treated(self) -> int:
        return sum(level.treated for level in self.levels)


@dataclass(frozen=True, slots=True)
class Decision:
    """What a design says to do next.

    next_dose: 0-based level for the next cohort, None when the trial stops.
    mtd: 0-based recommended MTD, only when ``stop`` is True (None: no level can be recommended).
    reason: one sentence a clinician can read, levels numbered from 1.
    stop_reason: when ``stop`` is True, the clause of ``reason`` that says why the trial stops.
    suspended: accrual is paused (action "stay", next_dose the current level) until pending
        patients' outcomes are known: always so for a design that is not time-to-event while
        any patient is inside the DLT window, and TITE-BOIN's rule when too many are pending.
    """

    action: Action
    next_dose: int | None
    stop: bool
    reason: str
    stop_reason: str | None = None
    mtd: int | None = None
    suspended: bool = False


class Design(Protocol):
    """A dose-finding design. Implementations are immutable and configured at construction.

    ``name`` and ``n_levels`` are read-only (properties or frozen fields).
    """

    @property
    def name(self) -> str: ...

    @property
    def n_levels(self) -> int: ...

    def decide(self, state: TrialState) -> Decision:
        """The decision for this state. Never mutates anything."""
        ...
