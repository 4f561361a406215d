"""Monte Carlo operating characteristics: many simulated trials walked through a compiled design.

Every trial is simulated on its own: at each step, one uniform draw per trial picks the number of
DLTs in its next cohort by inverting the binomial distribution at the trial's current dose, and
the trial moves to the successor state. A finished trial sits in its terminal state (a self-loop).
All trials of a chunk advance together as numpy arrays, and chunks run on a small thread pool
(numpy releases the GIL in these kernels).

Reproducibility: chunk i always uses the i-th child of ``SeedSequence(seed)`` with a PCG64
generator, and the chunk size is fixed, so a seed gives the same result whatever the number of
threads or the order in which chunks finish.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from numpy.typing import NDArray

from trialdesk.design.oc.exact import cohort_outcome_probabilities, oc_from_terminal_weights
from trialdesk.design.oc.graph import CompiledDesign
from trialdesk.design.oc.results import OperatingCharacteristics, check_true_tox
from trialdesk.errors import TrialdeskError

CHUNK = 1 << 16
MAX_TRIALS = 100_000_000


def check_trials(trials: object) -> int:
    if not isinstance(trials, int) or isinstance(trials, bool) or not 1 <= trials <= MAX_TRIALS:
        raise TrialdeskError(
            f"must be a whole number from 1 to {MAX_TRIALS:,} (got {trials!r})", field="trials"
        )
    return trials


def check_seed(seed: object) -> int:
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise TrialdeskError(f"must be a whole number, 0 or more (got {seed!r})", field="seed")
    return seed


def _thresholds(graph: CompiledDesign, true_tox: Sequence[float]) -> NDArray[np.float64]:
    """Per state, the cumulative probabilities P(K <= j), j = 0..cohort_size-1, of the next
    cohort's DLT count K (shape (cohort_size, states)). Terminal states get thresholds above 1,
    so their draw is always k = 0 and their self-loop keeps them in place."""
    cumulative = np.cumsum(cohort_outcome_probabilities(true_tox, graph.cohort_size), axis=1)
    per_state = np.full((graph.cohort_size, graph.n_states), 2.0)
    going = graph.dose >= 0
    per_state[:, going] = cumulative[graph.dose[going], : graph.cohort_size].T
    return per_state


def _walk(
    graph: CompiledDesign,
    thresholds: NDArray[np.float64],
    trials: int,
    seed_sequence: np.random.SeedSequence,
) -> NDArray[np.int64]:
    """Simulate ``trials`` trials; return how many ended in each state."""
    rng = np.random.Generator(np.random.PCG64(seed_sequence))
    flat_next = graph.next_state.ravel()
    width = graph.cohort_size + 1
    state = np.zeros(trials, dtype=np.intp)
    uniform = np.empty(trials)
    k = np.empty(trials, dtype=np.intp)
    for _ in range(graph.n_layers - 1):
        rng.random(out=uniform)
        np.less(thresholds[0].take(state), uniform, out=k, casting="unsafe")
        for j in range(1, graph.cohort_size):
            k += thresholds[j].take(state) < uniform
        state *= width
        state += k
        state = flat_next.take(state).astype(np.intp, copy=False)
    return np.bincount(state, minlength=graph.n_states)


def simulate_oc(
    graph: CompiledDesign,
    true_tox: Sequence[float],
    *,
    trials: int,
    seed: int,
    target: float | None,
    max_n: int | None = None,
    threads: int | None = None,
) -> OperatingCharacteristics:
    """Monte Carlo OC of a compiled design in one scenario (seeded, reproducible)."""
    rates = check_true_tox(list(true_tox), graph.n_levels)
    check_trials(trials)
    check_seed(seed)
    counts = terminal_counts(graph, rates, trials=trials, seed=seed, threads=threads)
    return oc_from_terminal_weights(
        graph,
        counts.astype(np.float64),
        rates,
        target=target,
        method="monte-carlo",
        trials=trials,
        seed=seed,
        max_n=max_n,
        total_weight=float(trials),
    )


def terminal_counts(
    graph: CompiledDesign,
    true_tox: Sequence[float],
    *,
    trials: int,
    seed: int,
    threads: int | None = None,
) -> NDArray[np.int64]:
    """How many of ``trials`` simulated trials end in each state."""
    thresholds = _thresholds(graph, true_tox)
    sizes = [CHUNK] * (trials // CHUNK) + ([trials % CHUNK] if trials % CHUNK else [])
    children = np.random.SeedSequence(seed).spawn(len(sizes))
    workers = threads if threads is not None else min(2, os.cpu_count() or 1)
    if workers <= 1 or len(sizes) == 1:
        parts = [
            _walk(graph, thresholds, size, child)
            for size, child in zip(sizes, children, strict=True)
        ]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            parts = list(
                pool.map(
                    lambda job: _walk(graph, thresholds, *job), zip(sizes, children, strict=True)
                )
            )
    counts: NDArray[np.int64] = np.sum(parts, axis=0)
    return counts
