"""Exact operating characteristics: probability mass pushed forward over a compiled design.

Mass starts at 1 on the empty trial. Layer by layer (cohort by cohort), each continuing state
sends its mass along its edges, weighted by the binomial probability of k DLTs among the cohort
at the state's dose. Mass that reaches a terminal state stays there, so after the last layer the
terminal masses are the exact distribution of how the trial ends, from which every OC follows.
Several scenarios go through at once (one column of mass per scenario).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from trialdesk.design.oc.graph import CompiledDesign
from trialdesk.design.oc.results import (
    Method,
    OperatingCharacteristics,
    check_true_tox,
    true_mtd,
)

FloatArray = NDArray[np.float64]


def cohort_outcome_probabilities(true_tox: Sequence[float], cohort_size: int) -> FloatArray:
    """P(k DLTs in a cohort at each level): shape (levels, cohort_size + 1)."""
    return np.array(
        [
            [
                math.comb(cohort_size, k) * rate**k * (1.0 - rate) ** (cohort_size - k)
                for k in range(cohort_size + 1)
            ]
            for rate in true_tox
        ],
        dtype=np.float64,
    )


def terminal_distribution(
    graph: CompiledDesign, scenarios: Sequence[Sequence[float]]
) -> FloatArray:
    """Exact probability that the trial ends in each state: shape (states, scenarios).

    Non-terminal states get 0. Each column sums to 1 (up to rounding).
    """
    n_scenarios = len(scenarios)
    outcome = np.stack(
        [cohort_outcome_probabilities(rates, graph.cohort_size) for rates in scenarios], axis=-1
    )  # (levels, k, scenarios)
    mass = np.zeros((graph.n_states, n_scenarios))
    mass[0, :] = 1.0
    ends = np.zeros_like(mass)
    starts = graph.layer_starts
    dose = graph.dose
    for c in range(graph.n_layers):
        lo, hi = int(starts[c]), int(starts[c + 1])
        layer_mass = mass[lo:hi]
        layer_dose = dose[lo:hi]
        stopping = layer_dose < 0
        ends[lo:hi][stopping] = layer_mass[stopping]
        going = np.flatnonzero(~stopping)
        if going.size == 0:
            continue
        states = going + lo
        weights = layer_mass[going][:, None, :] * outcome[layer_dose[going]]  # (n, k, scen)
        targets = graph.next_state[states].ravel()  # (n * k)
        flat = weights.reshape(targets.size, n_scenarios)
        for j in range(n_scenarios):
            mass[:, j] += np.bincount(targets, weights=flat[:, j], minlength=graph.n_states)
    return ends


def oc_from_terminal_weights(
    graph: CompiledDesign,
    weights: FloatArray,
    true_tox: Sequence[float],
    *,
    target: float | None,
    method: Method,
    trials: int | None,
    seed: int | None = None,
    max_n: int | None = None,
    total_weight: float = 1.0,
) -> OperatingCharacteristics:
    """OC from a distribution over terminal states (``weights`` sums to ``total_weight``: 1 for
    probabilities, the number of trials for Monte Carlo counts, divided out once at the end so
    that sums of counts stay exact)."""
    levels = graph.n_levels
    treated = graph.treated.astype(np.float64)
    total = treated.sum(axis=1)
    selection = np.bincount(graph.mtd + 1, weights=weights, minlength=levels + 1) / total_weight
    limit = max_n if max_n is not None else graph.max_n
    if limit is None:  # no maximum: the most patients any course of the design can treat
        limit = int(total[graph.terminal].max())
    mtd = true_mtd(true_tox, target)
    above: float | None = None
    if target is not None:
        first_above = 0 if mtd is None else mtd + 1
        treated_above = treated[:, first_above:].sum(axis=1) > 0
        above = float(weights[treated_above].sum()) / total_weight
    return OperatingCharacteristics(
        design=graph.design_name,
        method=method,
        trials=trials,
        true_tox=tuple(float(rate) for rate in true_tox),
        target=target,
        max_n=limit,
        selection=tuple(float(p) for p in selection[1:]),
        none_selected=float(selection[0]),
        patients=tuple(float(x) / total_weight for x in weights @ treated),
        dlts=tuple(float(x) / total_weight for x in weights @ graph.dlts.astype(np.float64)),
        mean_n=float(weights @ total) / total_weight,
        early_stop=float(weights[total < limit].sum()) / total_weight,
        treated_above_mtd=above,
        seed=seed,
    )


def exact_oc(
    graph: CompiledDesign,
    scenarios: Sequence[Sequence[float]],
    *,
    target: float | None,
    max_n: int | None = None,
) -> list[OperatingCharacteristics]:
    """Exact OC of a compiled design, one result per scenario (computed together)."""
    checked = [check_true_tox(list(rates), graph.n_levels) for rates in scenarios]
    ends = terminal_distribution(graph, checked)
    return [
        oc_from_terminal_weights(
            graph, ends[:, j], rates, target=target, method="exact", trials=None, max_n=max_n
        )
        for j, rates in enumerate(checked)
    ]
