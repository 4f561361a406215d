"""CRM: dfcrm's documented example, skeleton calibration, restrictions and the safety stop."""

from __future__ import annotations

import math

import pytest

from trialdesk.design.crm import Crm, getprior
from trialdesk.design.outcomes import state_from_outcomes
from trialdesk.errors import TrialdeskError

# dfcrm documentation, crm() example: skeleton, target 0.2, and ten patients' outcomes.
SKELETON = (0.05, 0.10, 0.20, 0.35, 0.50, 0.70)
LEVELS = (3, 4, 4, 3, 3, 4, 3, 2, 2, 2)
DLTS = (0, 0, 1, 0, 0, 1, 1, 0, 0, 0)


def _counts() -> tuple[list[int], list[int]]:
    treated, dlts = [0] * 6, [0] * 6
    for level, dlt in zip(LEVELS, DLTS, strict=True):
        treated[level - 1] += 1
        dlts[level - 1] += dlt
    return treated, dlts


def _outcomes() -> str:
    return " ".join(f"{lv}{'T' if d else 'N'}" for lv, d in zip(LEVELS, DLTS, strict=True))


def test_dfcrm_documented_example() -> None:
    # dfcrm crm() example (empiric model, prior variance 1.34): posterior mean of beta -0.2122,
    # posterior variance 0.1576, recommended dose 2.
    design = Crm(n_levels=6, target=0.2, skeleton=SKELETON)
    post = design.posterior(*_counts())
    assert post.mean == pytest.approx(-0.2122, abs=5e-5)
    assert post.variance == pytest.approx(0.1576, abs=5e-5)
    assert post.closest == 1
    decision = design.decide(state_from_outcomes(_outcomes(), 6))
    assert (decision.action, decision.next_dose) == ("stay", 1)  # last patient was at level 2
    assert "level 2 is closest to the target 0.2" in decision.reason


def test_dlt_rates_are_the_model_at_the_posterior_mean() -> None:
    design = Crm(n_levels=6, target=0.2, skeleton=SKELETON)
    post = design.posterior(*_counts())
    expected = [s ** math.exp(post.mean) for s in SKELETON]
    assert post.dlt_rates == pytest.approx(expected)


def test_logistic_model_reproduces_the_skeleton_at_beta_zero() -> None:
    design = Crm(n_levels=6, target=0.2, skeleton=SKELETON, model="logistic")
    assert design.dlt_rates(0.0) == pytest.approx(SKELETON)
    assert design.posterior([0] * 6, [0] * 6).mean == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("model", ["empiric", "logistic"])
def test_getprior_gives_indifference_intervals_of_the_requested_halfwidth(model: str) -> None:
    # Lee & Cheung (2009), the calibration dfcrm's getprior() implements: the prior MTD gets
    # the target, and wherever level k's rate is target + hw, level k-1's is target - hw.
    target, hw, nu = 0.25, 0.05, 2
    skeleton = getprior(hw, target, nu, 5, model)  # type: ignore[arg-type]
    assert skeleton[nu] == pytest.approx(target)
    design = Crm(n_levels=5, target=target, skeleton=skeleton, model=model)  # type: ignore[arg-type]
    for k in range(1, 5):
        # beta at which level k has rate target + hw (rates decrease in beta).
        lo, hi = -10.0, 10.0
        for _ in range(200):
            mid = (lo + hi) / 2
            if design.dlt_rates(mid)[k] > target + hw:
                lo = mid
            else:
                hi = mid
        assert design.dlt_rates(lo)[k - 1] == pytest.approx(target - hw, abs=1e-9)


def test_no_skipping_when_escalating() -> None:
    design = Crm(n_levels=6, target=0.2, skeleton=SKELETON)
    free = Crm(n_levels=6, target=0.2, skeleton=SKELETON, no_skip=False)
    state = state_from_outcomes("1NNN 1NNN", 6)
    assert (free.decide(state).next_dose or 0) > 1
    assert design.decide(state).next_dose == 1


def test_no_escalation_right_after_a_dlt_when_configured() -> None:
    strict = Crm(n_levels=6, target=0.2, skeleton=SKELETON, no_escalation_after_dlt=True)
    loose = Crm(n_levels=6, target=0.2, skeleton=SKELETON)
    state = state_from_outcomes("1NNN 1NNN 1NNN 1NNT", 6)
    assert loose.decide(state).action == "escalate"
    decision = strict.decide(state)
    assert decision.action == "stay" and "no escalation right after a DLT" in decision.reason


def test_safety_stop_when_the_lowest_level_is_likely_too_toxic() -> None:
    design = Crm(n_levels=6, target=0.2, skeleton=SKELETON, safety_threshold=0.9)
    decision = design.decide(state_from_outcomes("1TTN", 6))
    assert decision.stop and decision.mtd is None
    assert "lowest level is too toxic" in decision.reason
    assert (
        not Crm(n_levels=6, target=0.2, skeleton=SKELETON, safety_threshold=None)
        .decide(state_from_outcomes("1TTN", 6))
        .stop
    )


def test_max_n_stops_and_recommends_the_closest_level() -> None:
    design = Crm(n_levels=6, target=0.2, skeleton=SKELETON, max_n=10)
    decision = design.decide(state_from_outcomes(_outcomes(), 6))
    assert decision.stop and decision.mtd == 1


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"skeleton": (0.1, 0.05, 0.2, 0.3, 0.4, 0.5)}, "skeleton"),
        ({"skeleton": (0.1, 0.2)}, "skeleton"),
        ({"model": "probit"}, "model"),
        ({"prior_variance": 0}, "prior_variance"),
        ({"halfwidth": 0.3}, "halfwidth"),
    ],
)
def test_invalid_settings(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(TrialdeskError) as info:
        Crm(n_levels=6, target=0.2, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


@pytest.mark.parametrize("model", ["empiric", "logistic"])
@pytest.mark.parametrize(
    ("treated", "dlts"),
    [
        ((0, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0)),
        ((3, 6, 9, 3, 0, 0), (0, 1, 3, 2, 0, 0)),
        ((30, 0, 0, 0, 0, 0), (0, 0, 0, 0, 0, 0)),
        ((3, 0, 0, 0, 0, 0), (3, 0, 0, 0, 0, 0)),
    ],
)
def test_grid_posterior_agrees_with_adaptive_quadrature(
    model: str, treated: tuple[int, ...], dlts: tuple[int, ...]
) -> None:
    from scipy import integrate

    design = Crm(n_levels=6, target=0.2, skeleton=SKELETON, model=model)  # type: ignore[arg-type]

    def density(beta: float) -> float:
        rates = design.dlt_rates(beta)
        like = math.prod(
            r**y * (1 - r) ** (n - y) for r, n, y in zip(rates, treated, dlts, strict=True)
        )
        return like * math.exp(-(beta**2) / (2 * 1.34))

    def moment(k: int, upper: float = 15.0) -> float:
        return float(
            integrate.quad(lambda b: b**k * density(b), -15, upper, limit=200, epsabs=1e-13)[0]
        )

    mass = moment(0)
    mean = moment(1) / mass
    post = design.posterior(treated, dlts)
    assert post.mean == pytest.approx(mean, abs=1e-6)
    assert post.variance == pytest.approx(moment(2) / mass - mean**2, abs=1e-6)
    # P(p_1 > target): p_1 falls as beta grows, so it is P(beta < beta*), p_1(beta*) = 0.2.
    lo, hi = -15.0, 15.0
    for _ in range(200):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if design.dlt_rates(mid)[0] > 0.2 else (lo, mid)
    below = integrate.quad(density, -15, lo, limit=200, epsabs=1e-13)[0] / mass
    assert post.prob_lowest_above_target == pytest.approx(below, abs=1e-6)
