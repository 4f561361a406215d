"""3+3 walk-throughs: the rules of issue 4 item 2 and the NCT06021067 protocol's design text."""

from __future__ import annotations

import pytest

from trialdesk.design.base import LevelState, TrialState
from trialdesk.design.outcomes import state_from_outcomes
from trialdesk.design.three_plus_three import ThreePlusThree
from trialdesk.errors import TrialdeskError

DESIGN = ThreePlusThree(n_levels=5)


def decide(outcomes: str, design: ThreePlusThree = DESIGN):  # type: ignore[no-untyped-def]
    return design.decide(state_from_outcomes(outcomes, design.n_levels))


def test_first_cohort_starts_at_the_start_level() -> None:
    decision = decide("")
    assert (decision.action, decision.next_dose, decision.stop) == ("stay", 0, False)
    assert (
        ThreePlusThree(n_levels=5, start_level=2).decide(state_from_outcomes("", 5)).next_dose == 2
    )


@pytest.mark.parametrize(
    ("outcomes", "action", "next_dose"),
    [
        ("1NNN", "escalate", 1),  # 0 of 3 -> escalate
        ("1NNN 2NTN", "stay", 1),  # 1 of 3 -> 3 more at the same level
        ("1NNN 2NTN 2NNN", "escalate", 2),  # 1 of 6 -> escalate
        ("1NNN 2TNN 2NNN", "escalate", 2),
        ("1NNN 2NNN 3TTN", "de-escalate", 1),  # 2 of 3 -> expand the lower level (3) to 6
        ("1NNN 2NTN 2NTN", "de-escalate", 0),  # 2 of 6 -> expand level 1 (3) to 6
    ],
)
def test_rules(outcomes: str, action: str, next_dose: int) -> None:
    decision = decide(outcomes)
    assert (decision.action, decision.next_dose, decision.stop) == (action, next_dose, False)


def test_two_of_six_with_a_full_level_below_stops_with_that_level_as_mtd() -> None:
    decision = decide("1NNN 1NTN 2NTN 2NNT")
    assert decision.stop and decision.mtd == 0 and decision.next_dose is None
    assert "2 of 6 patients had a DLT at level 2, more than 3+3 allows" in decision.reason
    assert decision.reason.endswith("level 1 is the MTD.")


def test_de_escalation_then_expansion_then_mtd() -> None:
    walk = "1NNN 2NNN 3NTT"
    assert decide(walk).next_dose == 1
    walk += " 2NNN"  # level 2 now holds 6 with 0 DLTs; level 3 exceeded: no change possible
    decision = decide(walk)
    assert decision.stop and decision.mtd == 1
    assert "level 2 is the MTD" in decision.reason


def test_never_re_escalates_to_an_excluded_level() -> None:
    # Level 3 exceeded; level 2 expanded with 0 DLTs would otherwise escalate.
    decision = decide("1NNN 2NNN 3TTN 2NNN")
    assert decision.stop and decision.mtd == 1
    # Level 2 with only 3 so far after the de-escalation: expand, never back to level 3.
    decision = decide("1NNN 2NTN 2NNN 3TTN")
    assert decision.stop and decision.mtd == 1


def test_lowest_level_too_toxic_stops_without_mtd() -> None:
    for walk in ("1TTN", "1NTN 1TNN"):
        decision = decide(walk)
        assert decision.stop and decision.mtd is None
        assert "no level can be recommended" in decision.reason


def test_highest_level_is_expanded_to_six_then_is_the_mtd() -> None:
    walk = "1NNN 2NNN 3NNN 4NNN 5NNN"
    decision = decide(walk)
    assert (decision.action, decision.next_dose) == ("stay", 4)
    decision = decide(walk + " 5NTN")
    assert decision.stop and decision.mtd == 4


def test_max_sample_size_stops_and_selects_from_levels_with_six() -> None:
    design = ThreePlusThree(n_levels=5, max_n=9)
    decision = decide("1NTN 1NNN 2NNN", design)
    assert decision.stop and decision.mtd == 0
    assert "maximum sample size of 9" in decision.reason


def test_waits_while_patients_are_inside_the_dlt_window() -> None:
    state = TrialState(levels=(LevelState(3, 0, (0.5,)), LevelState(), LevelState()), current=0)
    decision = ThreePlusThree(n_levels=3).decide(state)
    assert decision.suspended and decision.action == "stay" and decision.next_dose == 0


def test_decision_is_the_same_whatever_order_the_levels_were_reached() -> None:
    # The 3+3 decision depends only on per-level counts and the current level.
    a = decide("1NNN 2NTN 2NNN 3NNN")
    b = decide("1NNN 2NNN 2NTN 3NNN")
    assert a == b


def test_state_with_wrong_number_of_levels_is_rejected() -> None:
    with pytest.raises(TrialdeskError, match="5"):
        DESIGN.decide(state_from_outcomes("1NNN", 4))


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(TrialdeskError, match="start_level"):
        ThreePlusThree(n_levels=3, start_level=3)
    with pytest.raises(TrialdeskError, match="n_levels"):
        ThreePlusThree(n_levels=0)
