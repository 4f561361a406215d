"""Stop rules compose in a fixed phase order: listing order never changes a decision."""

from __future__ import annotations

import itertools

import pytest

from trialdesk.design.base import TrialState
from trialdesk.design.outcomes import state_from_outcomes
from trialdesk.design.phases import (
    Admissibility,
    MaxSampleSize,
    NoAdmissibleLevel,
    Proposal,
    StopRule,
    StopWhenNextLevelFull,
    StopWhenStayingAtN,
    decide_in_phases,
    sort_rules,
)

RULES: list[StopRule] = [
    NoAdmissibleLevel(),
    MaxSampleSize(9),
    StopWhenStayingAtN(6),
    StopWhenNextLevelFull(6),
]

STATES = [
    "1NNN 1NNN",  # level 1 full, max_n not reached: staying-at-n and full both fire
    "1NNN 2NNN 2NNT",  # 9 patients: max_n also fires
    "1NNN 2TTN",  # nothing fires
    "1TTT",  # no admissible level
]


def _decide(state: TrialState, rules: tuple[StopRule, ...]):  # type: ignore[no-untyped-def]
    too_toxic = state.levels[0].dlts >= 3
    admissibility = Admissibility(highest=None if too_toxic else 2, reason="level 1 too toxic")
    proposal = Proposal("stay", state.current, "finding", "stay")
    return decide_in_phases(
        state,
        admissibility=admissibility,
        propose=lambda _: proposal,
        stop_rules=rules,
        select=lambda _: 0,
    )


@pytest.mark.parametrize("outcomes", STATES)
def test_any_order_of_stop_rules_gives_the_same_decision(outcomes: str) -> None:
    state = state_from_outcomes(outcomes, 3)
    decisions = {_decide(state, sort_rules(order)) for order in itertools.permutations(RULES)}
    assert len(decisions) == 1


def test_sorting_puts_the_safety_stop_first() -> None:
    state = state_from_outcomes("1TTT", 3)
    decision = _decide(state, sort_rules(reversed(RULES)))
    assert decision.stop and decision.mtd is None
    assert decision.stop_reason == "level 1 too toxic"


def test_designs_sort_their_rules_whatever_the_construction_order() -> None:
    from trialdesk.design.boin import Boin

    a = Boin(n_levels=3, target=0.3, max_n=9, n_stop=6)
    assert [type(r).__name__ for r in a.stop_rules] == [
        "NoAdmissibleLevel",
        "StopWhenStayingAtN",
        "MaxSampleSize",
    ]


def test_without_sorting_the_order_would_matter() -> None:
    # Guards the test above: two rules fire here, so an unsorted chain could report either.
    state = state_from_outcomes("1NNN 2NNN 2NNT", 3)
    reasons = {_decide(state, tuple(order)).stop_reason for order in itertools.permutations(RULES)}
    assert len(reasons) > 1
