"""What BOIN-like (interval) designs share: a decision that depends only on the patients and
DLTs at the current level, the elimination rule, and isotonic MTD selection.

A subclass supplies ``move(n, y)`` -> "E" (escalate), "S" (stay) or "D" (de-escalate), and
``explain(n, y)``, a short clause with the numbers behind the move. ``action_at(n, y)`` adds
"DU" (de-escalate, and the level is unacceptable) from the elimination rule: a level with at
least ``elimination_min_n`` patients is eliminated, with every level above it, when
P(p > target | data) > ``elimination_cutoff`` under a beta(1, 1) prior.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from scipy import special

from trialdesk.design.base import Decision, LevelState, TrialState
from trialdesk.design.checks import (
    check_n_levels,
    check_positive_int,
    check_probability,
    check_start_level,
    check_state_matches,
)
from trialdesk.design.phases import (
    Admissibility,
    MaxSampleSize,
    NoAdmissibleLevel,
    Proposal,
    StopRule,
    StopWhenStayingAtN,
    decide_in_phases,
    dlt_finding,
    first_cohort,
    level_name,
    pending_wait,
    sort_rules,
)
from trialdesk.design.selection import select_mtd

Move = Literal["E", "S", "D"]
TableAction = Literal["E", "S", "D", "DU"]


def prob_above(target: float, n: int | float, y: int) -> float:
    """P(p > target | y DLTs in n) under a beta(1, 1) prior."""
    return float(special.betaincc(1.0 + y, 1.0 + n - y, target))


@dataclass(frozen=True)
class IntervalDesign:
    """Base of BOIN, TITE-BOIN, mTPI-2, keyboard and i3+3 (not used on its own)."""

    n_levels: int
    target: float
    cohort_size: int = 3
    start_level: int = 0
    max_n: int | None = None
    n_stop: int | None = None
    elimination_cutoff: float = 0.95
    elimination_min_n: int = 3
    stop_rules: tuple[StopRule, ...] = field(init=False, repr=False, compare=False)
    _cache: dict[tuple[int, int], TableAction] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _eliminated: dict[tuple[int, int], bool] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    @property
    def name(self) -> str:
        raise NotImplementedError

    def __post_init__(self) -> None:
        check_n_levels(self.n_levels)
        check_probability(self.target, "target")
        check_positive_int(self.cohort_size, "cohort_size")
        check_start_level(self.start_level, self.n_levels)
        check_positive_int(self.max_n, "max_n", allow_none=True)
        check_positive_int(self.n_stop, "n_stop", allow_none=True)
        check_probability(self.elimination_cutoff, "elimination_cutoff")
        check_positive_int(self.elimination_min_n, "elimination_min_n")
        self._check_settings()
        rules: list[StopRule] = [NoAdmissibleLevel()]
        if self.max_n is not None:
            rules.append(MaxSampleSize(self.max_n))
        if self.n_stop is not None:
            rules.append(StopWhenStayingAtN(self.n_stop))
        object.__setattr__(self, "stop_rules", sort_rules(rules))

    # What a subclass supplies ----------------------------------------------------------------
    def _check_settings(self) -> None:
        """Validate the subclass's own settings (raise TrialdeskError)."""

    def move(self, n: int, y: int) -> Move:
        raise NotImplementedError

    def explain(self, n: int, y: int) -> str:
        return ""

    # Shared rules ------------------------------------------------------------------------------
    def eliminates(self, n: int, y: int) -> bool:
        """Whether y DLTs in n patients eliminate the level (and those above it)."""
        if n < self.elimination_min_n:
            return False
        key = (n, y)
        cached = self._eliminated.get(key)
        if cached is None:
            cached = prob_above(self.target, n, y) > self.elimination_cutoff
            self._eliminated[key] = cached
        return cached

    def action_at(self, n: int, y: int) -> TableAction:
        """The decision-table entry for y DLTs among n patients with complete data."""
        key = (n, y)
        cached = self._cache.get(key)
        if cached is None:
            if not 0 <= y <= n:
                raise ValueError(f"need 0 <= DLTs <= patients, got {y} of {n}")
            cached = "DU" if self.eliminates(n, y) else ("S" if n == 0 else self.move(n, y))
            self._cache[key] = cached
        return cached

    # Phase 1 ---------------------------------------------------------------------------------
    def elimination_counts(self, counts: LevelState) -> tuple[int, int]:
        """(patients, DLTs) the elimination rule looks at: patients with complete data."""
        return counts.complete, counts.dlts

    def admissibility(self, state: TrialState) -> Admissibility:
        for level, counts in enumerate(state.levels):
            n, y = self.elimination_counts(counts)
            if self.eliminates(n, y):
                reason = (
                    f"{dlt_finding(y, n, level)}, so it is eliminated "
                    f"(P(DLT rate > {self.target:g}) > {self.elimination_cutoff:g})"
                )
                if level == 0:
                    reason += " and the lowest level is too toxic"
                return Admissibility(highest=level - 1 if level > 0 else None, reason=reason)
        return Admissibility(highest=self.n_levels - 1)

    # Phase 2 ---------------------------------------------------------------------------------
    def current_move(self, state: TrialState) -> tuple[Move, str] | Proposal:
        """The move at the current level and its finding, or a Proposal that settles it (wait)."""
        waiting = pending_wait(state)
        if waiting is not None:
            return waiting
        counts = state.levels[state.current]
        n, y = counts.complete, counts.dlts
        action = self.action_at(n, y)
        finding = dlt_finding(y, n, state.current)
        detail = self.explain(n, y)
        if detail:
            finding += f" ({detail})"
        return ("D" if action == "DU" else action), finding

    def propose(self, state: TrialState, admissible: Admissibility) -> Proposal | None:
        highest = admissible.highest
        if highest is None:
            return None
        if state.total_treated == 0:
            return first_cohort(min(self.start_level, highest))
        current = state.current
        if current > highest:
            return Proposal(
                "de-escalate", highest, admissible.reason, f"de-escalate to {level_name(highest)}"
            )
        if state.levels[current].treated == 0:
            return Proposal(
                "stay",
                current,
                f"no patient has been treated at {level_name(current)} yet",
                f"treat the next cohort at {level_name(current)}",
            )
        settled = self.current_move(state)
        if isinstance(settled, Proposal):
            return settled
        move, finding = settled
        if move == "E":
            if current + 1 <= highest:
                return Proposal(
                    "escalate", current + 1, finding, f"escalate to {level_name(current + 1)}"
                )
            if current + 1 < self.n_levels:
                finding = f"{finding}; {admissible.reason}"
                return Proposal("stay", current, finding, f"stay at {level_name(current)}")
            return Proposal(
                "stay", current, finding, f"stay at {level_name(current)} (the highest level)"
            )
        if move == "D":
            if current > 0:
                return Proposal(
                    "de-escalate", current - 1, finding, f"de-escalate to {level_name(current - 1)}"
                )
            return Proposal(
                "stay", current, finding, f"stay at {level_name(current)} (the lowest level)"
            )
        return Proposal("stay", current, finding, f"stay at {level_name(current)}")

    # Phase 4 ---------------------------------------------------------------------------------
    def select(self, state: TrialState, admissible: Admissibility) -> int | None:
        if admissible.highest is None:
            return None
        return select_mtd(
            [level.complete for level in state.levels],
            [level.dlts for level in state.levels],
            self.target,
            highest_admissible=admissible.highest,
        )

    def decide(self, state: TrialState) -> Decision:
        check_state_matches(state.n_levels, self.n_levels)
        admissible = self.admissibility(state)
        return decide_in_phases(
            state,
            admissibility=admissible,
            propose=lambda adm: self.propose(state, adm),
            stop_rules=self.stop_rules,
            select=lambda adm: self.select(state, adm),
        )
