"""Properties of every design along trials it runs itself: random DLT outcomes, the design
choosing each next dose, until it stops."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialdesk.design.base import Design
from trialdesk.design.outcomes import (
    Cohort,
    format_outcomes,
    state_from_cohorts,
    state_from_outcomes,
)
from trialdesk.design.registry import DESIGN_NAMES, make_design
from trialdesk.design.three_plus_three import ThreePlusThree

N_LEVELS = 5
MAX_N = 30


def _design(name: str) -> Design:
    return make_design(name, n_levels=N_LEVELS, target=0.3, max_n=MAX_N)


DESIGNS = {name: _design(name) for name in DESIGN_NAMES}


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(DESIGN_NAMES), outcomes=st.lists(st.booleans(), min_size=60, max_size=60)
)
def test_designs_stay_in_bounds_and_never_skip_when_escalating(
    name: str, outcomes: list[bool]
) -> None:
    design = DESIGNS[name]
    cohorts: list[Cohort] = []
    draws = iter(outcomes)
    for _ in range(MAX_N // 3 + 1):
        state = state_from_cohorts(cohorts, N_LEVELS)
        decision = design.decide(state)
        assert decision.reason.endswith(".") and "level 0" not in decision.reason
        if decision.stop:
            assert decision.next_dose is None and decision.action == "stop"
            assert decision.mtd is None or 0 <= decision.mtd < N_LEVELS
            break
        assert decision.next_dose is not None and 0 <= decision.next_dose < N_LEVELS
        assert decision.mtd is None
        if cohorts:
            assert decision.next_dose <= state.current + 1
            step = decision.next_dose - state.current
            expected = "escalate" if step > 0 else "stay" if step == 0 else "de-escalate"
            assert decision.action == expected
        cohorts.append(Cohort(decision.next_dose, tuple(next(draws) for _ in range(3))))
    else:
        pytest.fail(f"{name} did not stop by the maximum sample size")
    # The same history written as an outcome string gives the same final decision.
    text = format_outcomes(cohorts)
    assert design.decide(state_from_outcomes(text, N_LEVELS)) == decision


@settings(max_examples=60, deadline=None)
@given(outcomes=st.lists(st.booleans(), min_size=60, max_size=60))
def test_three_plus_three_never_holds_more_than_six_or_returns_above_two_dlts(
    outcomes: list[bool],
) -> None:
    design = ThreePlusThree(n_levels=N_LEVELS)
    cohorts: list[Cohort] = []
    draws = iter(outcomes)
    while True:
        state = state_from_cohorts(cohorts, N_LEVELS)
        decision = design.decide(state)
        if decision.stop:
            if decision.mtd is not None:
                mtd = state.levels[decision.mtd]
                assert mtd.treated == 6 and mtd.dlts <= 1
            break
        assert decision.next_dose is not None
        target = state.levels[decision.next_dose]
        assert target.treated < 6 and target.dlts < 2
        assert all(level.dlts < 2 for level in state.levels[: decision.next_dose + 1])
        cohorts.append(Cohort(decision.next_dose, tuple(next(draws) for _ in range(3))))


@pytest.mark.parametrize("p", [0.05, 0.1, 0.2, 0.3, 0.5, 0.7])
def test_three_plus_three_escalation_probability_matches_the_closed_form(p: float) -> None:
    # Issue 4 item 8 / Storer (1989): from a fresh level, 3+3 escalates with probability
    # P0 + P1 * P0, where Pk = C(3, k) p^k (1 - p)^(3 - k). Enumerated here from the design's own
    # decisions over every outcome of the first and, when it expands, the second cohort.
    design = ThreePlusThree(n_levels=3)

    def prob(cohort: tuple[bool, ...]) -> float:
        return math.prod(p if dlt else 1 - p for dlt in cohort)

    cohorts = [tuple(bool(bits >> i & 1) for i in range(3)) for bits in range(8)]
    escalate = 0.0
    for first in cohorts:
        history = [Cohort(0, (False,) * 3), Cohort(1, first)]
        decision = design.decide(state_from_cohorts(history, 3))
        if decision.action == "escalate":
            escalate += prob(first)
        elif decision.action == "stay":
            for second in cohorts:
                after = design.decide(state_from_cohorts([*history, Cohort(1, second)], 3))
                if after.action == "escalate":
                    escalate += prob(first) * prob(second)
    p0 = (1 - p) ** 3
    p1 = 3 * p * (1 - p) ** 2
    assert escalate == pytest.approx(p0 + p1 * p0, abs=1e-12)
