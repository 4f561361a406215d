"""The four phases every decision goes through, in a fixed order.

1. **Admissibility** — which levels may still be given (eliminated / excluded levels removed).
2. **Next dose** — the design's own rule proposes a level among the admissible ones.
3. **Stopping** — every stop rule looks at the state and the proposal; the trial stops if any
   fires. Rules are sorted by their own ``priority`` (then name) when the design is built, so
   the order in which a user lists them can never change the decision or the reason given.
4. **Final selection** — if the trial stops, the design's selector names the MTD (or none).

Keeping the phases apart is what avoids the pitfall of chaining selectors, where "stop at n"
before or after "don't skip doses" gives different answers.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Literal, Protocol

from trialdesk.design.base import Decision, TrialState

MoveAction = Literal["escalate", "stay", "de-escalate"]


def level_name(level: int) -> str:
    """How a person reads a 0-based level: ``level 1`` for 0."""
    return f"level {level + 1}"


def patients_text(count: int) -> str:
    return f"{count} patient" if count == 1 else f"{count} patients"


def dlt_finding(dlts: int, treated: int, level: int) -> str:
    """``"2 of 6 patients had a DLT at level 2"``."""
    return f"{dlts} of {patients_text(treated)} had a DLT at {level_name(level)}"


@dataclass(frozen=True, slots=True)
class Admissibility:
    """Phase 1: the highest level that may still be given (None: no level may) and why."""

    highest: int | None
    reason: str = ""


@dataclass(frozen=True, slots=True)
class Proposal:
    """Phase 2: where the design would treat the next cohort.

    finding: what the data show ("0 of 3 patients had a DLT at level 1").
    plan: what to do about it ("escalate to level 2"); used when the trial continues.
    """

    action: MoveAction
    next_dose: int
    finding: str
    plan: str
    suspended: bool = False


@dataclass(frozen=True, slots=True)
class Context:
    """What a stop rule sees: the state, admissibility and the proposal (None if no level is
    admissible)."""

    state: TrialState
    admissibility: Admissibility
    proposal: Proposal | None


class StopRule(Protocol):
    """Phase 3 rule. ``check`` returns the clause saying why the trial stops, or None."""

    @property
    def priority(self) -> int: ...

    def check(self, context: Context) -> str | None: ...


@dataclass(frozen=True, slots=True)
class NoAdmissibleLevel:
    """Stop when even the lowest level is excluded (safety stop, no MTD)."""

    priority: int = 0

    def check(self, context: Context) -> str | None:
        if context.admissibility.highest is None:
            return context.admissibility.reason or "every level is too toxic"
        return None


@dataclass(frozen=True, slots=True)
class MaxSampleSize:
    """Stop when the trial has treated ``max_n`` patients."""

    max_n: int
    priority: int = 30

    def check(self, context: Context) -> str | None:
        total = context.state.total_treated
        if total >= self.max_n:
            return f"the maximum sample size of {self.max_n} patients has been reached"
        return None


@dataclass(frozen=True, slots=True)
class StopWhenNextLevelFull:
    """Stop when the proposed level already holds ``size`` patients: no change is possible
    (3+3's "until a level holds 6")."""

    size: int
    priority: int = 10

    def check(self, context: Context) -> str | None:
        proposal = context.proposal
        if proposal is None or proposal.suspended:
            return None
        level = context.state.levels[proposal.next_dose]
        if level.treated >= self.size:
            return (
                f"{level_name(proposal.next_dose)} already holds "
                f"{patients_text(level.treated)} ({level.dlts} with a DLT) and no change is "
                "possible"
            )
        return None


@dataclass(frozen=True, slots=True)
class StopWhenStayingAtN:
    """BOIN's ``n.earlystop``: stop when the next cohort would stay at the current level and it
    already holds ``n`` patients (the design has converged)."""

    n: int
    priority: int = 20

    def check(self, context: Context) -> str | None:
        proposal = context.proposal
        current = context.state.current
        if proposal is None or proposal.suspended or proposal.next_dose != current:
            return None
        treated = context.state.levels[current].treated
        if treated >= self.n:
            return (
                f"{level_name(current)} holds {patients_text(treated)}, reaching the stopping "
                f"size of {self.n}, and the design would stay there"
            )
        return None


def sort_rules(rules: Iterable[StopRule]) -> tuple[StopRule, ...]:
    """Rules in a canonical order (priority, then type and settings), whatever the input order."""
    return tuple(sorted(rules, key=lambda rule: (rule.priority, type(rule).__name__, repr(rule))))


def mtd_text(mtd: int | None) -> str:
    if mtd is None:
        return "no level can be recommended as the MTD"
    return f"{level_name(mtd)} is the MTD"


def decide_in_phases(
    state: TrialState,
    *,
    admissibility: Admissibility,
    propose: Callable[[Admissibility], Proposal | None],
    stop_rules: tuple[StopRule, ...],
    select: Callable[[Admissibility], int | None],
) -> Decision:
    """Run phases 2-4 for an admissibility already computed (phase 1) and build the decision."""
    proposal = propose(admissibility) if admissibility.highest is not None else None
    context = Context(state=state, admissibility=admissibility, proposal=proposal)
    for rule in stop_rules:
        why = rule.check(context)
        if why is not None:
            mtd = select(admissibility) if admissibility.highest is not None else None
            parts = [proposal.finding] if proposal is not None and proposal.finding else []
            parts += [why, mtd_text(mtd)]
            pending = sum(len(level.pending) for level in state.levels)
            if pending and mtd is not None:
                parts[-1] += f" (provisional: {patients_text(pending)} still inside the DLT window)"
            sentence = "; ".join(parts)
            return Decision(
                action="stop",
                next_dose=None,
                stop=True,
                reason=sentence[0].upper() + sentence[1:] + ".",
                stop_reason=why,
                mtd=mtd,
            )
    if proposal is None:  # pragma: no cover - NoAdmissibleLevel is always among the rules
        raise AssertionError("no admissible level and no stop rule fired")
    sentence = "; ".join(part for part in (proposal.finding, proposal.plan) if part)
    return Decision(
        action=proposal.action,
        next_dose=proposal.next_dose,
        stop=False,
        reason=sentence[0].upper() + sentence[1:] + ".",
        suspended=proposal.suspended,
    )


def pending_wait(state: TrialState) -> Proposal | None:
    """For designs that are not time-to-event: wait while any patient is inside the window."""
    waiting = [(i, len(level.pending)) for i, level in enumerate(state.levels) if level.pending]
    if not waiting:
        return None
    where = ", ".join(f"{patients_text(count)} at {level_name(i)}" for i, count in waiting)
    return Proposal(
        action="stay",
        next_dose=state.current,
        finding=f"{where} still inside the DLT window",
        plan="wait for their outcomes before the next cohort (accrual suspended)",
        suspended=True,
    )


def first_cohort(start_level: int) -> Proposal:
    return Proposal(
        action="stay",
        next_dose=start_level,
        finding="no patient has been treated yet",
        plan=f"start at {level_name(start_level)}",
    )
