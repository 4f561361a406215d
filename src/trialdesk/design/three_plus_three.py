"""The 3+3 design.

Rules (cohorts of 3, at most 6 per level):
- 0 of 3 with a DLT: escalate. 1 of 3: treat 3 more at the same level. At most 1 of 6: escalate.
- 2 or more DLTs at a level: the level exceeds the MTD and is excluded for the rest of the trial;
  go down one level to expand it to 6 if it holds fewer (none or 3).
- The trial stops when the next cohort would go to a level that already holds 6 (no change is
  possible), when the lowest level exceeds (no MTD), or at the maximum sample size.
- MTD: the highest level below every excluded level that holds 6 with at most 1 DLT.

Why the per-level counts suffice (no history is needed): a level is excluded exactly when it has
2 or more DLTs, and DLT counts only grow, so the excluded set is a function of the counts. The
design never treats a level above an excluded one, so the lowest excluded level bounds every
later move. The only other history the rules use is the current level, which the state carries.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trialdesk.design.base import Decision, TrialState
from trialdesk.design.checks import (
    check_n_levels,
    check_positive_int,
    check_start_level,
    check_state_matches,
)
from trialdesk.design.phases import (
    Admissibility,
    MaxSampleSize,
    NoAdmissibleLevel,
    Proposal,
    StopRule,
    StopWhenNextLevelFull,
    decide_in_phases,
    dlt_finding,
    first_cohort,
    level_name,
    pending_wait,
    sort_rules,
)

COHORT = 3
FULL = 6
EXCEEDS = 2


@dataclass(frozen=True)
class ThreePlusThree:
    """3+3 over ``n_levels`` levels, starting at ``start_level`` (0-based)."""

    n_levels: int
    start_level: int = 0
    max_n: int | None = None
    name: str = field(default="3+3", init=False)
    stop_rules: tuple[StopRule, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_n_levels(self.n_levels)
        check_start_level(self.start_level, self.n_levels)
        check_positive_int(self.max_n, "max_n", allow_none=True)
        rules: list[StopRule] = [NoAdmissibleLevel(), StopWhenNextLevelFull(FULL)]
        if self.max_n is not None:
            rules.append(MaxSampleSize(self.max_n))
        object.__setattr__(self, "stop_rules", sort_rules(rules))

    @property
    def cohort_size(self) -> int:
        """Always 3: the cohort size is part of the design."""
        return COHORT

    # Phase 1 -------------------------------------------------------------------------------
    def admissibility(self, state: TrialState) -> Admissibility:
        for level, counts in enumerate(state.levels):
            if counts.dlts >= EXCEEDS:
                reason = f"{dlt_finding(counts.dlts, counts.treated, level)}, more than 3+3 allows"
                return Admissibility(highest=level - 1 if level > 0 else None, reason=reason)
        return Admissibility(highest=self.n_levels - 1)

    # Phase 2 -------------------------------------------------------------------------------
    def propose(self, state: TrialState, admissible: Admissibility) -> Proposal | None:
        highest = admissible.highest
        if highest is None:
            return None
        if state.total_treated == 0:
            return first_cohort(min(self.start_level, highest))
        waiting = pending_wait(state)
        if waiting is not None:
            return waiting
        current = state.current
        counts = state.levels[current]
        n, y = counts.complete, counts.dlts
        finding = dlt_finding(y, n, current)
        if current > highest:
            lower = highest
            plan = (
                f"go down to {level_name(lower)}"
                if state.levels[lower].treated
                else f"treat the next cohort at {level_name(lower)}"
            )
            if 0 < state.levels[lower].treated < FULL:
                plan += " to expand it to 6"
            return Proposal("de-escalate", lower, f"{finding}, more than 3+3 allows", plan)
        if n < COHORT:
            return Proposal(
                "stay", current, finding, f"complete the cohort at {level_name(current)}"
            )
        if y == 1 and n < FULL:
            return Proposal("stay", current, finding, f"treat 3 more at {level_name(current)}")
        # y == 0 with 3 or more, or y <= 1 with 6 or more: the level is tolerated.
        above = current + 1
        if above <= highest:
            return Proposal("escalate", above, finding, f"escalate to {level_name(above)}")
        if above < self.n_levels:  # the level above exceeded: say so
            finding = f"{finding}; {admissible.reason}"
        else:
            finding = f"{finding} and it is the highest level"
        if n < FULL:
            return Proposal("stay", current, finding, f"treat 3 more at {level_name(current)}")
        return Proposal("stay", current, finding, f"stay at {level_name(current)}")

    # Phase 4 -------------------------------------------------------------------------------
    def select(self, state: TrialState, admissible: Admissibility) -> int | None:
        if admissible.highest is None:
            return None
        for level in range(admissible.highest, -1, -1):
            counts = state.levels[level]
            if counts.complete >= FULL and counts.dlts <= 1:
                return level
        return None

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
