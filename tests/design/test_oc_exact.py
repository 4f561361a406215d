"""Exact operating characteristics: known answers, an independent brute-force enumeration, and
properties every distribution of trial endings must have."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import product

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialdesk.design.base import Decision, LevelState, TrialState
from trialdesk.design.oc import graph as graph_module
from trialdesk.design.oc.api import operating_characteristics
from trialdesk.design.oc.exact import exact_oc, terminal_distribution
from trialdesk.design.oc.graph import compile_design, compiled
from trialdesk.design.oc.results import true_mtd
from trialdesk.design.outcomes import state_from_outcomes
from trialdesk.design.pathways import dose_transition_pathways
from trialdesk.design.registry import design_from_protocol, make_design
from trialdesk.errors import TrialdeskError
from trialdesk.protocol import builtin_protocol

RATES = (0.05, 0.12, 0.30, 0.45, 0.60)


def escalation_probability(p: float) -> float:
    """3+3: P(escalate from a level) = P0 + P1 * P0, Pk = C(3,k) p^k (1-p)^(3-k): 0 of 3, or
    1 of 3 then 0 of 3 more (Storer 1989, Biometrics 45:925-937; the standard 3+3 algebra, also
    in Lin & Shih 2001, Biostatistics 2:203-215)."""

    def pk(k: int) -> float:
        return math.comb(3, k) * p**k * (1 - p) ** (3 - k)

    return pk(0) + pk(1) * pk(0)


@pytest.mark.parametrize("rates", [RATES, (0.2, 0.33, 0.5, 0.1, 0.7), (0.0, 0.01, 0.99, 1.0, 0.5)])
def test_three_plus_three_reaches_each_level_with_the_closed_form_probability(
    rates: tuple[float, ...],
) -> None:
    design = make_design("3+3", n_levels=5)
    graph = compile_design(design)
    ends = terminal_distribution(graph, [rates])[:, 0]
    for level in range(1, 5):
        reached = float(ends[graph.treated[:, level] > 0].sum())
        expected = math.prod(escalation_probability(p) for p in rates[:level])
        assert reached == pytest.approx(expected, abs=1e-12)


def three_plus_three_selection(rates: tuple[float, ...]) -> list[float]:
    """Closed-form P(MTD = none, level 1, ..., level K) of the 3+3 with de-escalation, by the
    route of Lin & Shih 2001 (Biostatistics 2:203-215, "A+B designs with dose de-escalation"),
    written here for A = B = 3, escalation on 0/3 or 1/6, exclusion on 2 or more DLTs.

    A first visit to level j ends in one of: 0/3 then escalate (e0 = P0), 1/3 then 0/3 then
    escalate (e1 = P1 P0), or failure (the level is excluded). The top level cannot escalate: it
    succeeds with 0/3 then at most 1/3 more, or 1/3 then 0/3. After a failure at level k the
    trial goes down: a level left at 1/6 is the MTD at once; a level left at 0/3 gets 3 more and
    is the MTD with at most one DLT among them (s = P0 + P1), else it is excluded in turn.
    """

    def pk(p: float, k: int) -> float:
        return math.comb(3, k) * p**k * (1 - p) ** (3 - k)

    top = len(rates) - 1
    e0 = [pk(p, 0) for p in rates]
    e1 = [pk(p, 1) * pk(p, 0) for p in rates]
    s = [pk(p, 0) + pk(p, 1) for p in rates]
    fail = [1 - e0[j] - e1[j] for j in range(top)]
    fail.append(1 - (e0[top] * s[top] + e1[top]))
    reach = [math.prod(e0[j] + e1[j] for j in range(k)) for k in range(top + 1)]
    selection = [0.0] * (top + 2)  # index 0: no MTD
    selection[top + 1] = reach[top] * (e0[top] * s[top] + e1[top])
    for k in range(top + 1):  # first failure at level k
        for i in range(-1, k):  # the chain stops at level i (-1: every lower level excluded)
            below = math.prod(e0[j] * (1 - s[j]) for j in range(i + 1, k))
            if i < 0:
                selection[0] += below * fail[k]
            else:
                success = e1[i] + e0[i] * s[i]
                prefix = math.prod(e0[j] + e1[j] for j in range(i))
                selection[i + 1] += prefix * success * below * fail[k]
    return selection


@pytest.mark.parametrize(
    "rates",
    [RATES, (0.2, 0.33, 0.5, 0.1, 0.7), (0.01, 0.02, 0.04, 0.08, 0.16), (0.5, 0.6, 0.7, 0.8, 0.9)],
)
def test_three_plus_three_selection_equals_the_closed_form_to_1e_12(
    rates: tuple[float, ...],
) -> None:
    closed = three_plus_three_selection(rates)
    assert sum(closed) == pytest.approx(1.0, abs=1e-12)
    (oc,) = operating_characteristics(make_design("3+3", n_levels=5), [rates], method="exact")
    assert [oc.none_selected, *oc.selection] == pytest.approx(closed, abs=1e-12)


# Brute force: every patient-by-patient outcome sequence, no merging of states -----------------
def _enumerate(
    design: object, rates: tuple[float, ...]
) -> Iterator[tuple[float, TrialState, Decision]]:
    """(probability, final state, final decision) of every course of the trial, by walking each
    patient's N/T outcome (2^3 branches per cohort) and asking the design at every step."""
    decide = design.decide  # type: ignore[attr-defined]
    n_levels = len(rates)

    def walk(probability: float, state: TrialState) -> Iterator[tuple[float, TrialState, Decision]]:
        decision = decide(state)
        if decision.stop:
            yield probability, state, decision
            return
        level = decision.next_dose
        p = rates[level]
        for letters in product((False, True), repeat=3):
            dlts = sum(letters)
            chance = math.prod(p if t else 1 - p for t in letters)
            if chance == 0:
                continue
            levels = list(state.levels)
            old = levels[level]
            levels[level] = LevelState(treated=old.treated + 3, dlts=old.dlts + dlts)
            yield from walk(
                probability * chance,
                TrialState(tuple(levels), current=level, last_cohort_had_dlt=dlts > 0),
            )

    yield from walk(1.0, state_from_outcomes("", n_levels))


@pytest.mark.parametrize(
    ("name", "rates", "max_n"),
    [
        ("3+3", (0.1, 0.25, 0.4), None),
        ("3+3", (0.3, 0.05, 0.6, 0.2), 15),
        ("boin", (0.1, 0.3, 0.5), 12),
    ],
)
def test_exact_oc_equals_a_brute_force_enumeration_to_1e_12(
    name: str, rates: tuple[float, ...], max_n: int | None
) -> None:
    design = make_design(name, n_levels=len(rates), target=0.3, max_n=max_n)
    (oc,) = exact_oc(compile_design(design), [rates], target=0.3)
    selection = [0.0] * (len(rates) + 1)
    patients = [0.0] * len(rates)
    dlts = [0.0] * len(rates)
    mean_n = total = 0.0
    for probability, state, decision in _enumerate(design, rates):
        total += probability
        selection[0 if decision.mtd is None else decision.mtd + 1] += probability
        for i, level in enumerate(state.levels):
            patients[i] += probability * level.treated
            dlts[i] += probability * level.dlts
        mean_n += probability * state.total_treated
    assert total == pytest.approx(1.0, abs=1e-12)
    assert oc.none_selected == pytest.approx(selection[0], abs=1e-12)
    assert oc.selection == pytest.approx(selection[1:], abs=1e-12)
    assert oc.patients == pytest.approx(patients, abs=1e-12)
    assert oc.dlts == pytest.approx(dlts, abs=1e-12)
    assert oc.mean_n == pytest.approx(mean_n, abs=1e-12)


def test_exact_oc_agrees_with_the_full_pathway_tree() -> None:
    """The designs' pathway tree, grown until every path stops, is a third route to the OC."""
    rates = (0.1, 0.35, 0.5)
    design = make_design("3+3", n_levels=3)
    tree = dose_transition_pathways(design, state_from_outcomes("", 3), cohorts=8, true_rates=rates)
    selection = [0.0] * 4
    for leaf in tree.leaves():
        assert leaf.decision.stop
        selection[0 if leaf.decision.mtd is None else leaf.decision.mtd + 1] += (
            leaf.path_probability or 0.0
        )
    (oc,) = exact_oc(compile_design(design), [rates], target=0.3)
    assert [oc.none_selected, *oc.selection] == pytest.approx(selection, abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(0.0, 1.0), min_size=4, max_size=4),
    st.sampled_from(["3+3", "boin", "i3+3"]),
)
def test_every_distribution_of_endings_is_a_probability_distribution(
    rates: list[float], name: str
) -> None:
    design = make_design(name, n_levels=4, target=0.25, max_n=18)
    (oc,) = operating_characteristics(design, [rates], method="exact", target=0.25)
    assert sum(oc.selection) + oc.none_selected == pytest.approx(1.0, abs=1e-12)
    assert all(-1e-15 <= p <= 1 + 1e-12 for p in (*oc.selection, oc.none_selected))
    assert sum(oc.patients) == pytest.approx(oc.mean_n, abs=1e-9)
    assert all(d <= n + 1e-9 for d, n in zip(oc.dlts, oc.patients, strict=True))
    assert oc.mean_n <= 18 + 1e-9
    assert 0 <= oc.early_stop <= 1 + 1e-12
    assert oc.treated_above_mtd is not None and 0 <= oc.treated_above_mtd <= 1 + 1e-12


def test_scenarios_computed_together_equal_scenarios_computed_alone() -> None:
    design = make_design("boin", n_levels=5, target=0.3, max_n=30)
    graph = compiled(design)
    scenarios = [RATES, (0.3, 0.4, 0.5, 0.6, 0.7), (0.01, 0.02, 0.03, 0.04, 0.05)]
    together = exact_oc(graph, scenarios, target=0.3)
    for rates, oc in zip(scenarios, together, strict=True):
        (alone,) = exact_oc(graph, [rates], target=0.3)
        assert oc.selection == pytest.approx(alone.selection, abs=1e-14)
        assert oc.mean_n == pytest.approx(alone.mean_n, abs=1e-12)


def test_certain_outcomes_give_certain_answers() -> None:
    """No DLT anywhere: 3+3 climbs every level and stops at the top with 6 there; every DLT
    certain: the first cohort excludes level 1 and the trial ends without an MTD."""
    design = make_design("3+3", n_levels=3)
    (safe,) = operating_characteristics(design, [(0.0, 0.0, 0.0)], method="exact", target=0.3)
    assert safe.selection == pytest.approx((0, 0, 1)) and safe.patients == pytest.approx((3, 3, 6))
    assert safe.treated_above_mtd == 0
    (toxic,) = operating_characteristics(design, [(1.0, 1.0, 1.0)], method="exact", target=0.3)
    assert toxic.none_selected == 1 and toxic.mean_n == 3 and toxic.early_stop == 1
    assert toxic.treated_above_mtd == 1  # no true MTD: every treated patient is above it


def test_true_mtd_is_the_highest_level_at_or_below_the_target() -> None:
    assert true_mtd(RATES, 0.3) == 2
    assert true_mtd((0.1, 0.4, 0.2), 0.3) == 2
    assert true_mtd((0.35, 0.5), 0.3) is None
    assert true_mtd(RATES, None) is None


def test_nct06021067_three_plus_three_from_the_builtin_protocol() -> None:
    protocol = builtin_protocol().protocol
    design = design_from_protocol(protocol)
    assert (design.n_levels, getattr(design, "max_n", None)) == (3, 15)
    rates = (0.05, 0.15, 0.35)
    (oc,) = operating_characteristics(design, [rates], method="exact", target=0.3)
    assert oc.mean_n <= 15 + 1e-12
    # Reaching level 3 needs escalating from levels 1 and 2 (closed form above).
    reach_top = escalation_probability(0.05) * escalation_probability(0.15)
    ends = terminal_distribution(compiled(design), [rates])[:, 0]
    graph = compiled(design)
    assert float(ends[graph.treated[:, 2] > 0].sum()) == pytest.approx(reach_top, abs=1e-12)


def test_compiled_graphs_are_cached_by_configuration() -> None:
    first = compiled(make_design("boin", n_levels=3, target=0.3, max_n=12))
    again = compiled(make_design("boin", n_levels=3, target=0.3, max_n=12))
    other = compiled(make_design("boin", n_levels=3, target=0.25, max_n=12))
    assert first is again and other is not first
    assert np.all(first.next_state[first.terminal] == np.flatnonzero(first.terminal)[:, None])


# A design of our own: the engine needs nothing but the Design protocol -------------------------
@dataclass
class _StayAtOneLevel:
    """Treat level 1 until ``limit`` patients (not frozen: never cached)."""

    limit: int
    name: str = "stay"
    n_levels: int = 2
    calls: list[int] = field(default_factory=list)

    def decide(self, state: TrialState) -> Decision:
        self.calls.append(state.total_treated)
        if state.total_treated >= self.limit:
            return Decision("stop", None, True, "done", mtd=0)
        return Decision("stay", 0, False, "stay")


def test_any_design_compiles_and_each_state_is_asked_once() -> None:
    design = _StayAtOneLevel(limit=9)
    graph = compile_design(design)
    # After c cohorts at one level a state is its DLT count y (0..3c) and whether the last
    # cohort had a DLT (both possible for 1 <= y <= 3c - 3): 1 + 4 + 10 + 16 = 31 states.
    assert graph.n_states == 31 and len(design.calls) == 31
    (oc,) = exact_oc(graph, [(0.2, 0.9)], target=0.3)
    assert oc.dlts[0] == pytest.approx(9 * 0.2) and oc.selection == pytest.approx((1.0, 0.0))
    assert compiled(design) is not compiled(design)  # a mutable design is never cached


def test_a_design_that_never_stops_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(graph_module, "MAX_PATIENTS", 30)
    with pytest.raises(TrialdeskError, match="max_n"):
        compile_design(_StayAtOneLevel(limit=10_000))


def test_a_time_to_event_design_has_no_exact_method() -> None:
    design = make_design("tite-boin", n_levels=5, target=0.3, max_n=30)
    with pytest.raises(TrialdeskError, match="no exact operating characteristics"):
        operating_characteristics(design, [RATES], method="exact")


def test_a_sample_size_that_is_not_whole_cohorts_is_refused() -> None:
    design = make_design("boin", n_levels=5, target=0.3, max_n=31)
    with pytest.raises(TrialdeskError, match="multiple of the cohort size"):
        operating_characteristics(design, [RATES], method="exact")


def test_rates_must_match_the_levels_and_lie_in_0_1() -> None:
    design = make_design("boin", n_levels=5, target=0.3, max_n=30)
    with pytest.raises(TrialdeskError, match="one rate per level"):
        operating_characteristics(design, [(0.1, 0.2)], method="exact")
    with pytest.raises(TrialdeskError, match="from 0 to 1"):
        operating_characteristics(design, [(0.1, 0.2, 1.2, 0.3, 0.4)], method="exact")
