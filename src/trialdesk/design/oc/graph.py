"""Compile a design into a finite graph of trial states.

A design that is not time-to-event decides from sufficient statistics only: per level the patients
treated and their DLTs, the current level and whether the last cohort had a DLT (the whole
:class:`~trialdesk.design.base.TrialState` once every DLT window has closed). Two histories that
reach the same statistics therefore have the same future, so they can be merged into one state.
Starting from the empty trial, every reachable state is visited once, breadth first, and asked
for its decision exactly once. A state that continues has one edge per possible number of DLTs in
the next cohort (0 to the cohort size); a state that stops carries the recommended MTD.

Each cohort adds ``cohort_size`` patients, so the layer of a state (its number of cohorts) strictly
grows along every edge: the graph is a layered DAG, and breadth-first order is a topological
order. Exact operating characteristics are a forward pass of probability mass over the layers
(:mod:`.exact`); Monte Carlo walks many trials through the same integer tables (:mod:`.montecarlo`).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from trialdesk.design.base import Design, LevelState, TrialState
from trialdesk.errors import TrialdeskError

#: Safety limits: a design that never stops (no max_n) must not exhaust memory.
MAX_STATES = 3_000_000
MAX_PATIENTS = 2_000

IntArray = NDArray[np.int32]
SmallArray = NDArray[np.int16]

_StateKey = tuple[tuple[tuple[int, int], ...], int, bool]


@dataclass(frozen=True, eq=False)
class CompiledDesign:
    """The reachable states of a design and its transitions, as integer arrays.

    States are numbered in breadth-first order (state 0 is the empty trial); ``layer_starts[c]``
    is the first state after ``c`` cohorts, so ``layer_starts[c]:layer_starts[c + 1]`` is layer c.

    dose[s]: level (0-based) of the next cohort, -1 when the trial stops in s.
    next_state[s, k]: the state after that cohort has k DLTs; s itself when s is terminal.
    mtd[s]: for a terminal state, the recommended MTD, -1 when no level is recommended.
    treated[s, level], dlts[s, level]: the counts of the state.
    """

    design_name: str
    n_levels: int
    cohort_size: int
    max_n: int | None
    dose: IntArray
    next_state: IntArray
    mtd: IntArray
    treated: SmallArray
    dlts: SmallArray
    layer_starts: IntArray
    compile_seconds: float

    @property
    def n_states(self) -> int:
        return int(self.dose.shape[0])

    @property
    def terminal(self) -> NDArray[np.bool_]:
        return self.dose < 0

    @property
    def n_layers(self) -> int:
        return int(self.layer_starts.shape[0]) - 1

    @property
    def total_treated(self) -> IntArray:
        totals: IntArray = self.treated.sum(axis=1, dtype=np.int32)
        return totals


def _key(levels: tuple[tuple[int, int], ...], current: int, last_dlt: bool) -> _StateKey:
    return (levels, current, last_dlt)


def _trial_state(key: _StateKey) -> TrialState:
    levels, current, last_dlt = key
    return TrialState(
        levels=tuple(LevelState(treated=n, dlts=y) for n, y in levels),
        current=current,
        last_cohort_had_dlt=last_dlt,
    )


def compile_design(design: Design, cohort_size: int | None = None) -> CompiledDesign:
    """Explore every state the design can reach, asking it once per state (no cache).

    ``cohort_size`` defaults to the design's own (3 when it has none). Raises TrialdeskError when
    the design asks to wait for pending patients (it is time-to-event and needs the event-time
    simulation), or when it does not stop within MAX_PATIENTS patients / MAX_STATES states.
    """
    began = time.perf_counter()
    size = _cohort_size(design, cohort_size)
    n_levels = design.n_levels
    empty = tuple((0, 0) for _ in range(n_levels))
    layer: dict[_StateKey, int] = {_key(empty, 0, False): 0}
    keys: list[_StateKey] = [_key(empty, 0, False)]
    dose: list[int] = []
    mtd: list[int] = []
    edges: list[tuple[int, ...]] = []
    layer_starts = [0]
    while layer:
        layer_starts.append(layer_starts[-1] + len(layer))
        following: dict[_StateKey, int] = {}
        for key, index in layer.items():
            decision = design.decide(_trial_state(key))
            if decision.stop or decision.next_dose is None:
                dose.append(-1)
                mtd.append(-1 if decision.mtd is None else decision.mtd)
                edges.append((index,) * (size + 1))
                continue
            if decision.suspended:
                raise TrialdeskError(
                    f"design {design.name} waits for pending patients with every outcome known; "
                    "it needs the event-time simulation, not a compiled graph",
                    field="design",
                )
            level = decision.next_dose
            levels, _, _ = key
            level_treated, level_dlts = levels[level]
            if level_treated + size > MAX_PATIENTS:
                raise TrialdeskError(
                    f"design {design.name} had not stopped after {MAX_PATIENTS} patients at a "
                    "level; give it a maximum sample size (max_n)",
                    field="max_n",
                )
            targets = []
            for k in range(size + 1):
                grown = (
                    *levels[:level],
                    (level_treated + size, level_dlts + k),
                    *levels[level + 1 :],
                )
                successor = _key(grown, level, k > 0)
                found = following.get(successor)
                if found is None:
                    found = layer_starts[-1] + len(following)
                    following[successor] = found
                    keys.append(successor)
                targets.append(found)
            dose.append(level)
            mtd.append(-1)
            edges.append(tuple(targets))
        if len(keys) > MAX_STATES:
            raise TrialdeskError(
                f"design {design.name} reaches more than {MAX_STATES:,} states; lower max_n",
                field="max_n",
            )
        layer = following
    treated = np.array([[n for n, _ in key[0]] for key in keys], dtype=np.int16)
    dlts = np.array([[y for _, y in key[0]] for key in keys], dtype=np.int16)
    return CompiledDesign(
        design_name=design.name,
        n_levels=n_levels,
        cohort_size=size,
        max_n=_max_n(design),
        dose=np.array(dose, dtype=np.int32),
        next_state=np.array(edges, dtype=np.int32).reshape(len(keys), size + 1),
        mtd=np.array(mtd, dtype=np.int32),
        treated=treated.reshape(len(keys), n_levels),
        dlts=dlts.reshape(len(keys), n_levels),
        layer_starts=np.array(layer_starts, dtype=np.int32),
        compile_seconds=time.perf_counter() - began,
    )


def _cohort_size(design: Design, cohort_size: int | None) -> int:
    size = cohort_size if cohort_size is not None else getattr(design, "cohort_size", 3)
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= 12:
        raise TrialdeskError(
            f"must be a whole number from 1 to 12 (got {size!r})", field="cohort_size"
        )
    return size


def _max_n(design: Design) -> int | None:
    value = getattr(design, "max_n", None)
    return value if isinstance(value, int) else None


# Cache ---------------------------------------------------------------------------------------
_CACHE_SIZE = 32
_cache: OrderedDict[tuple[str, str, int], CompiledDesign] = OrderedDict()
_cache_lock = threading.Lock()


def cache_key(design: Design, cohort_size: int) -> tuple[str, str, int] | None:
    """A key naming the design's whole configuration, or None when it cannot be trusted.

    Only frozen dataclasses qualify: their repr lists every setting (fields that are derived
    state are kept out of repr), whereas an arbitrary object's repr may be its memory address.
    """
    if not dataclasses.is_dataclass(design) or not type(design).__dataclass_params__.frozen:
        return None
    cls = type(design)
    return (f"{cls.__module__}.{cls.__qualname__}", repr(design), cohort_size)


def compiled(design: Design, cohort_size: int | None = None) -> CompiledDesign:
    """The compiled graph of ``design``, from a small cache keyed by its configuration."""
    size = _cohort_size(design, cohort_size)
    key = cache_key(design, size)
    if key is None:
        return compile_design(design, size)
    with _cache_lock:
        hit = _cache.get(key)
        if hit is not None:
            _cache.move_to_end(key)
            return hit
    graph = compile_design(design, size)
    with _cache_lock:
        _cache[key] = graph
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return graph


def clear_cache() -> None:
    with _cache_lock:
        _cache.clear()
