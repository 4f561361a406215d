"""mTPI-2, keyboard and i3+3, and properties every BOIN-like design shares."""

from __future__ import annotations

import pytest

from trialdesk.design.boin import Boin, TiteBoin
from trialdesk.design.interval import IntervalDesign
from trialdesk.design.mtpi import I3Plus3, Keyboard, Mtpi2
from trialdesk.design.outcomes import state_from_outcomes
from trialdesk.errors import TrialdeskError

RANK = {"E": 0, "S": 1, "D": 2, "DU": 3}


@pytest.mark.parametrize("target", [0.15, 0.2, 0.25, 0.3, 0.33, 0.4])
def test_mtpi2_and_keyboard_decide_alike_with_the_same_interval_width(target: float) -> None:
    # Yan, Mandrekar & Yuan (2017) and Guo et al. (2017): with equal interval width the
    # keyboard and mTPI-2 designs give the same decisions. Checked for every n <= 30.
    mtpi2 = Mtpi2(n_levels=5, target=target)
    keyboard = Keyboard(n_levels=5, target=target)
    differ = [
        (n, y)
        for n in range(1, 31)
        for y in range(n + 1)
        if mtpi2.action_at(n, y) != keyboard.action_at(n, y)
    ]
    assert differ == []


def test_keyboard_without_a_full_key_below_is_refused() -> None:
    with pytest.raises(TrialdeskError, match="no full key"):
        Keyboard(n_levels=5, target=0.1)
    Mtpi2(n_levels=5, target=0.1)  # mTPI-2 keeps the shorter interval at 0


@pytest.mark.parametrize(
    ("n", "y", "action"),
    [
        # Liu et al. (2020), i3+3 rule with target 0.3 and interval [0.25, 0.35]:
        (3, 0, "E"),
        (3, 1, "S"),  # 0.33 inside the interval
        (3, 2, "D"),  # 0.67 above; 1/3 is not below 0.25
        (1, 1, "S"),  # 1.0 above, but 0/1 would be below the interval: stay
        (2, 1, "S"),  # same twist
        (5, 2, "S"),  # 0.4 above; 1/5 = 0.2 below the interval: stay
        (4, 2, "D"),  # 0.5 above; 1/4 = 0.25 is not below: de-escalate
        (6, 1, "E"),
        (6, 3, "D"),
        (3, 3, "DU"),  # P(p > 0.3 | 3/3) = 0.992 > 0.95: eliminated
    ],
)
def test_i3plus3_rules(n: int, y: int, action: str) -> None:
    assert I3Plus3(n_levels=5, target=0.3).action_at(n, y) == action


DESIGNS: list[IntervalDesign] = [
    Boin(n_levels=5, target=0.3),
    TiteBoin(n_levels=5, target=0.25),
    Mtpi2(n_levels=5, target=0.3),
    Keyboard(n_levels=5, target=0.2),
    I3Plus3(n_levels=5, target=0.3),
]


@pytest.mark.parametrize("design", DESIGNS, ids=lambda d: d.name)
def test_more_dlts_never_mean_a_bolder_move(design: IntervalDesign) -> None:
    for n in range(1, 31):
        ranks = [RANK[design.action_at(n, y)] for y in range(n + 1)]
        assert ranks == sorted(ranks), n


@pytest.mark.parametrize("design", DESIGNS, ids=lambda d: d.name)
def test_elimination_is_shared(design: IntervalDesign) -> None:
    # P(p > target | data) > 0.95 under beta(1, 1), at least 3 patients.
    assert design.action_at(2, 2) != "DU"
    assert design.action_at(3, 3) == "DU"


@pytest.mark.parametrize("design", DESIGNS, ids=lambda d: d.name)
def test_every_design_walks_a_trial(design: IntervalDesign) -> None:
    decision = design.decide(state_from_outcomes("1NNN 2NNN", 5))
    assert (decision.action, decision.next_dose) == ("escalate", 2)
    decision = design.decide(state_from_outcomes("1NNN 2NNN 3TTT", 5))
    assert (decision.action, decision.next_dose) == ("de-escalate", 1)
    assert "eliminated" in decision.reason
