"""Dose-transition pathways: every possible course of the next cohorts from the current state.

Each node is one cohort treated at the level the design chose, with a given number of DLTs, and
the design's decision afterwards. Under a scenario of true DLT rates each node carries the
binomial probability of its outcome and the probability of the whole path to it, so the paths
ending at any depth (or stopping earlier) sum to 1.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from trialdesk.design.base import Decision, Design, LevelState, TrialState
from trialdesk.design.checks import check_positive_int
from trialdesk.design.phases import level_name
from trialdesk.errors import TrialdeskError

MAX_NODES = 200_000


@dataclass(frozen=True, slots=True)
class PathwayNode:
    """One cohort outcome and the decision that follows it."""

    level: int
    dlts: int
    cohort_size: int
    probability: float | None
    path_probability: float | None
    decision: Decision
    children: tuple[PathwayNode, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready, levels numbered from 1."""
        return {
            "level": self.level + 1,
            "dlts": self.dlts,
            "patients": self.cohort_size,
            "probability": self.probability,
            "path_probability": self.path_probability,
            "decision": decision_dict(self.decision),
            "next": [child.to_dict() for child in self.children],
        }


@dataclass(frozen=True, slots=True)
class Pathways:
    """The decision now and the tree of the next cohorts' outcomes."""

    decision: Decision
    children: tuple[PathwayNode, ...]
    cohorts: int
    true_rates: tuple[float, ...] | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": decision_dict(self.decision),
            "cohorts": self.cohorts,
            "true_rates": list(self.true_rates) if self.true_rates is not None else None,
            "next": [child.to_dict() for child in self.children],
        }

    def leaves(self) -> list[PathwayNode]:
        """Nodes that end a path (depth reached, or the trial stops or waits there)."""
        found: list[PathwayNode] = []
        stack = list(self.children)
        while stack:
            node = stack.pop()
            if node.children:
                stack.extend(node.children)
            else:
                found.append(node)
        return found

    def to_text(self) -> str:
        lines = [f"Now: {decision_summary(self.decision)}"]

        def walk(nodes: Sequence[PathwayNode], indent: str) -> None:
            for i, node in enumerate(nodes):
                last = i == len(nodes) - 1
                branch = "└─ " if last else "├─ "
                chance = ""
                if node.probability is not None and node.path_probability is not None:
                    chance = f" [p {node.probability:.3f}, path {node.path_probability:.4f}]"
                lines.append(
                    f"{indent}{branch}{level_name(node.level)}: {node.dlts} of "
                    f"{node.cohort_size} with a DLT{chance} -> {decision_summary(node.decision)}"
                )
                walk(node.children, indent + ("   " if last else "│  "))

        walk(self.children, "")
        return "\n".join(lines) + "\n"


def decision_dict(decision: Decision) -> dict[str, Any]:
    """The CLI's JSON view of a decision (levels from 1)."""
    return {
        "action": decision.action,
        "next_dose": None if decision.next_dose is None else decision.next_dose + 1,
        "stop": decision.stop,
        "mtd": None if decision.mtd is None else decision.mtd + 1,
        "reason": decision.reason,
    }


def decision_summary(decision: Decision) -> str:
    if decision.stop:
        mtd = "no MTD" if decision.mtd is None else f"MTD {level_name(decision.mtd)}"
        return f"stop ({mtd})"
    assert decision.next_dose is not None
    if decision.suspended:
        return f"wait at {level_name(decision.next_dose)}"
    if decision.action == "stay":
        return f"stay at {level_name(decision.next_dose)}"
    return f"{decision.action} to {level_name(decision.next_dose)}"


def _after_cohort(state: TrialState, level: int, size: int, dlts: int) -> TrialState:
    levels = list(state.levels)
    old = levels[level]
    levels[level] = LevelState(
        treated=old.treated + size, dlts=old.dlts + dlts, pending=old.pending
    )
    return replace(state, levels=tuple(levels), current=level, last_cohort_had_dlt=dlts > 0)


def dose_transition_pathways(
    design: Design,
    state: TrialState,
    *,
    cohorts: int,
    cohort_size: int = 3,
    true_rates: Sequence[float] | None = None,
) -> Pathways:
    """Every course of the next ``cohorts`` cohorts of ``cohort_size`` from ``state``.

    With ``true_rates`` (one per level) each node gets exact binomial probabilities.
    """
    check_positive_int(cohorts, "cohorts")
    check_positive_int(cohort_size, "cohort_size")
    if (cohort_size + 1) ** cohorts > MAX_NODES:
        raise TrialdeskError(
            f"{cohorts} cohorts of {cohort_size} give more than {MAX_NODES} paths; ask for fewer",
            field="cohorts",
        )
    rates: tuple[float, ...] | None = None
    if true_rates is not None:
        rates = tuple(float(r) for r in true_rates)
        if len(rates) != design.n_levels:
            raise TrialdeskError(
                f"needs one true DLT rate per level ({design.n_levels}), got {len(rates)}",
                field="true_rates",
            )
        if not all(0 <= r <= 1 for r in rates):
            raise TrialdeskError("every true DLT rate must lie in [0, 1]", field="true_rates")

    def grow(
        current: TrialState, decision: Decision, depth: int, path: float
    ) -> tuple[PathwayNode, ...]:
        if depth == 0 or decision.stop or decision.suspended or decision.next_dose is None:
            return ()
        level = decision.next_dose
        nodes = []
        for dlts in range(cohort_size + 1):
            chance: float | None = None
            if rates is not None:
                rate = rates[level]
                chance = (
                    math.comb(cohort_size, dlts) * rate**dlts * (1 - rate) ** (cohort_size - dlts)
                )
            after = _after_cohort(current, level, cohort_size, dlts)
            following = design.decide(after)
            path_chance = None if chance is None else path * chance
            nodes.append(
                PathwayNode(
                    level=level,
                    dlts=dlts,
                    cohort_size=cohort_size,
                    probability=chance,
                    path_probability=path_chance,
                    decision=following,
                    children=grow(after, following, depth - 1, path_chance or 0.0),
                )
            )
        return tuple(nodes)

    now = design.decide(state)
    return Pathways(
        decision=now, children=grow(state, now, cohorts, 1.0), cohorts=cohorts, true_rates=rates
    )
