"""One entry point for operating characteristics, whatever the design and the method."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from trialdesk.design.base import Design
from trialdesk.design.oc.event_time import Accrual, simulate_event_time_oc
from trialdesk.design.oc.exact import exact_oc
from trialdesk.design.oc.graph import compiled
from trialdesk.design.oc.montecarlo import simulate_oc
from trialdesk.design.oc.results import OperatingCharacteristics, check_true_tox
from trialdesk.errors import TrialdeskError

Request = Literal["exact", "monte-carlo"]

#: Designs that decide while patients are inside their DLT window (continuous state).
TIME_TO_EVENT = frozenset({"tite-boin"})


def is_time_to_event(design: Design) -> bool:
    return design.name in TIME_TO_EVENT or bool(getattr(design, "time_to_event", False))


def design_target(design: Design, target: float | None) -> float | None:
    """The target that defines the true MTD: the one given, else the design's own."""
    if target is not None:
        return target
    own = getattr(design, "target", None)
    return float(own) if isinstance(own, int | float) else None


def check_sample_size(design: Design, cohort_size: int) -> int | None:
    """The design's max_n, which must be a whole number of cohorts (no partial last cohort)."""
    max_n = getattr(design, "max_n", None)
    if isinstance(max_n, int) and max_n % cohort_size:
        raise TrialdeskError(
            f"the maximum sample size {max_n} is not a multiple of the cohort size {cohort_size}; "
            f"use e.g. {max_n - max_n % cohort_size or cohort_size}",
            field="max_n",
        )
    return max_n if isinstance(max_n, int) else None


def operating_characteristics(
    design: Design,
    scenarios: Sequence[Sequence[float]],
    *,
    method: Request = "monte-carlo",
    trials: int = 10_000,
    seed: int = 1,
    target: float | None = None,
    cohort_size: int | None = None,
    accrual: Accrual | None = None,
) -> list[OperatingCharacteristics]:
    """OC of ``design`` in each scenario (true DLT rates per level).

    ``method="exact"`` compiles the design (cached) and computes the exact distribution;
    time-to-event designs have no exact method and raise TrialdeskError. Monte Carlo uses the
    compiled graph, or the event-time simulation for time-to-event designs (``accrual``).
    """
    size = cohort_size if cohort_size is not None else int(getattr(design, "cohort_size", 3))
    max_n = check_sample_size(design, size)
    checked = [check_true_tox(list(rates), design.n_levels) for rates in scenarios]
    goal = design_target(design, target)
    if is_time_to_event(design):
        if method == "exact":
            raise TrialdeskError(
                f"{design.name} has no exact operating characteristics: it decides from the "
                "followed fraction of each pending patient's DLT window, a continuous state that "
                "cannot be enumerated; use Monte Carlo (--trials N --seed S)",
                field="exact",
            )
        if max_n is None:
            raise TrialdeskError(
                f"{design.name} needs a maximum sample size to be simulated", field="max_n"
            )
        return [
            simulate_event_time_oc(
                design,
                rates,
                trials=trials,
                seed=seed,
                cohort_size=size,
                max_n=max_n,
                target=goal,
                accrual=accrual,
            )
            for rates in checked
        ]
    graph = compiled(design, size)
    if method == "exact":
        return exact_oc(graph, checked, target=goal)
    return [simulate_oc(graph, rates, trials=trials, seed=seed, target=goal) for rates in checked]
