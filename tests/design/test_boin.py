"""BOIN and TITE-BOIN: boundaries, decisions, elimination, stopping."""

from __future__ import annotations

import pytest

from trialdesk.design.base import LevelState, TrialState
from trialdesk.design.boin import Boin, TiteBoin, boin_boundaries
from trialdesk.design.outcomes import state_from_outcomes
from trialdesk.errors import TrialdeskError


@pytest.mark.parametrize(
    ("target", "lambda_e", "lambda_d"),
    [
        # Liu & Yuan (2015), JRSS-C 64:507-523, Table 1 (phi1 = 0.6 phi, phi2 = 1.4 phi).
        (0.30, 0.2365, 0.3585),
        (0.25, 0.1968, 0.2984),
    ],
)
def test_boundaries_match_liu_and_yuan_table_1(
    target: float, lambda_e: float, lambda_d: float
) -> None:
    e, d = boin_boundaries(target)
    assert e == pytest.approx(lambda_e, abs=5e-5)
    assert d == pytest.approx(lambda_d, abs=5e-5)


def test_decisions_follow_the_boundaries() -> None:
    design = Boin(n_levels=5, target=0.3)
    assert design.decide(state_from_outcomes("1NNN", 5)).action == "escalate"
    assert design.decide(state_from_outcomes("1NNN 2NTN", 5)).action == "stay"  # 0.33
    assert design.decide(state_from_outcomes("1NNN 2TTN", 5)).action == "de-escalate"
    # 1 of 6 = 0.167 <= 0.2365 escalates; 2 of 6 = 0.333 stays.
    assert design.decide(state_from_outcomes("1NNN 2NTN 2NNN", 5)).action == "escalate"
    assert design.decide(state_from_outcomes("1NNN 2NTN 2NTN", 5)).action == "stay"


def test_de_escalation_at_the_lowest_level_stays() -> None:
    decision = Boin(n_levels=5, target=0.3).decide(state_from_outcomes("1TNN 1NTN", 5))
    assert (decision.action, decision.next_dose, decision.stop) == ("stay", 0, False)


def test_elimination_of_a_level_and_those_above() -> None:
    design = Boin(n_levels=5, target=0.3)
    # 3 of 3 at level 2: P(p > 0.3 | beta(4, 1)) = 1 - 0.3^4 = 0.9919 > 0.95 -> eliminated.
    assert design.eliminates(3, 3) and not design.eliminates(3, 2)  # 2/3: 1-0.2160... = 0.784
    state = state_from_outcomes("1NNN 2TTT", 5)
    assert design.admissibility(state).highest == 0
    # Back at level 1 with 0 DLTs, BOIN would escalate but level 2 is eliminated: stay.
    decision = design.decide(state_from_outcomes("1NNN 2TTT 1NNN", 5))
    assert (decision.action, decision.next_dose) == ("stay", 0)


def test_safety_stop_when_the_lowest_level_is_eliminated() -> None:
    decision = Boin(n_levels=5, target=0.3).decide(state_from_outcomes("1TTT", 5))
    assert decision.stop and decision.mtd is None
    assert "too toxic" in decision.reason


def test_n_stop_only_when_the_design_would_stay() -> None:
    design = Boin(n_levels=5, target=0.3, n_stop=9)
    staying = design.decide(state_from_outcomes("1NNN 2NTN 2NTN 2NTN", 5))  # 3/9 stays
    assert staying.stop and staying.mtd == 1
    moving = design.decide(state_from_outcomes("1NNN 2NNN 2NTN 2NNN", 5))  # 1/9 escalates
    assert not moving.stop and moving.next_dose == 2


def test_max_n_stop_selects_by_isotonic_regression() -> None:
    design = Boin(n_levels=3, target=0.3, max_n=12)
    decision = design.decide(state_from_outcomes("1NNN 2NNN 3NTT 2NTN", 3))
    assert decision.stop and decision.mtd == 1


def test_bad_settings_are_rejected() -> None:
    with pytest.raises(TrialdeskError, match="target"):
        Boin(n_levels=5, target=1.2)
    with pytest.raises(TrialdeskError, match="phi"):
        Boin(n_levels=5, target=0.3, phi1=0.35)


def _level(treated: int, dlts: int, pending: tuple[float, ...] = ()) -> LevelState:
    return LevelState(treated=treated, dlts=dlts, pending=pending)


def test_tite_boin_weights_pending_patients_by_follow_up() -> None:
    design = TiteBoin(n_levels=3, target=0.3)
    # Level 1: 6 treated, 1 DLT, 2 pending followed for 90% and 80% of the window:
    # effective size 3 + 1 complete... = 4 complete + 1.7 = 5.7 -> rate 1/5.7 = 0.175 -> escalate.
    state = TrialState(levels=(_level(6, 1, (0.9, 0.8)), _level(0, 0), _level(0, 0)))
    assert design.effective_size(4, (0.9, 0.8)) == pytest.approx(5.7)
    assert design.decide(state).action == "escalate"
    # Same patients followed only 10% and 5%: effective size 4.15 -> rate 0.241 > 0.2365: stay.
    state = TrialState(levels=(_level(6, 1, (0.1, 0.05)), _level(0, 0), _level(0, 0)))
    assert design.decide(state).action == "stay"


def test_tite_boin_suspends_when_more_than_half_are_pending() -> None:
    design = TiteBoin(n_levels=3, target=0.3)
    state = TrialState(levels=(_level(3, 0, (0.5, 0.2)), _level(0, 0), _level(0, 0)))
    decision = design.decide(state)
    assert decision.suspended and decision.action == "stay" and decision.next_dose == 0
    half = TrialState(levels=(_level(6, 0, (0.5, 0.2, 0.1)), _level(0, 0), _level(0, 0)))
    assert design.decide(half).action == "escalate"  # exactly half pending: not suspended


def test_tite_boin_de_escalates_without_waiting_when_dlts_demand_it() -> None:
    design = TiteBoin(n_levels=3, target=0.3)
    # 2 DLTs among 4, 2 pending (exactly half: not suspended): 2 / (2 + 0.4) -> de-escalate.
    state = TrialState(levels=(_level(3, 0), _level(4, 2, (0.3, 0.1)), _level(0, 0)), current=1)
    decision = design.decide(state)
    assert decision.action == "de-escalate" and not decision.suspended


def test_tite_boin_scenario_from_the_titegboin_documentation() -> None:
    # next_TITE_QuasiBOIN() example (R package TITEgBOIN): n = (3, 3, 4, 4, 4, 0), pending
    # (0, 0, 0, 1, 2, 0), DLTs (0, 0, 1, 1, 1, 0), pending follow-up 14 and 28 of 28 days in
    # total at levels 4 and 5, current level 5. Worked by hand: effective size at level 5 is
    # 4 - 2 + 28/28 = 3, rate 1/3 lies between 0.2365 and 0.3585, 2 of 4 pending is not more
    # than half -> stay at level 5.
    levels = (
        _level(3, 0),
        _level(3, 0),
        _level(4, 1),
        _level(4, 1, (0.5,)),
        _level(4, 1, (0.5, 0.5)),
        _level(0, 0),
    )
    decision = TiteBoin(n_levels=6, target=0.3).decide(TrialState(levels=levels, current=4))
    assert (decision.action, decision.next_dose, decision.suspended) == ("stay", 4, False)
    assert "effective sample size 3.00" in decision.reason


def test_tite_boin_optional_complete_data_before_escalating() -> None:
    state = TrialState(levels=(_level(3, 0, (0.9,)), _level(0, 0), _level(0, 0)))
    assert TiteBoin(n_levels=3, target=0.3).decide(state).action == "escalate"
    strict = TiteBoin(n_levels=3, target=0.3, min_complete_to_escalate=3)
    decision = strict.decide(state)
    assert decision.action == "stay" and "complete DLT data" in decision.reason


def test_tite_boin_elimination_counts_pending_patients_as_treated() -> None:
    # 6 treated, 3 DLTs, 2 still pending. On the 4 complete patients, beta(4, 2) gives
    # P(p > 0.3) = 0.969 > 0.95 (eliminated); counting all 6 treated, beta(4, 4) gives 0.874.
    design = TiteBoin(n_levels=3, target=0.3)
    state = TrialState(levels=(_level(3, 0), _level(6, 3, (0.2, 0.2)), _level(0, 0)), current=1)
    assert design.admissibility(state).highest == 2
    assert Boin(n_levels=3, target=0.3).admissibility(state).highest == 0


def test_boin_waits_for_pending_patients_but_tite_boin_does_not() -> None:
    state = TrialState(levels=(_level(6, 0, (0.9,)), _level(0, 0), _level(0, 0)))
    assert Boin(n_levels=3, target=0.3).decide(state).suspended
    assert TiteBoin(n_levels=3, target=0.3).decide(state).action == "escalate"


def test_an_untreated_current_level_gets_the_next_cohort() -> None:
    state = TrialState(levels=(_level(3, 0), _level(0, 0), _level(0, 0)), current=1)
    for design in (Boin(n_levels=3, target=0.3), TiteBoin(n_levels=3, target=0.3)):
        decision = design.decide(state)
        assert (decision.action, decision.next_dose) == ("stay", 1)


def test_stopping_with_pending_patients_marks_the_mtd_provisional() -> None:
    state = TrialState(levels=(_level(6, 0), _level(6, 1, (0.5,)), _level(0, 0)), current=1)
    decision = TiteBoin(n_levels=3, target=0.3, max_n=12).decide(state)
    assert decision.stop and decision.mtd is not None
    assert "provisional: 1 patient still inside the DLT window" in decision.reason
