"""Monte Carlo operating characteristics agree with the exact ones within Monte Carlo error and
are reproducible from a seed; the event-time simulation of TITE-BOIN behaves like BOIN when
every outcome is known before the next cohort."""

from __future__ import annotations

import math

import pytest

from trialdesk.design.oc.api import operating_characteristics
from trialdesk.design.oc.event_time import Accrual
from trialdesk.design.oc.graph import compiled
from trialdesk.design.oc.montecarlo import simulate_oc, terminal_counts
from trialdesk.design.oc.results import OperatingCharacteristics
from trialdesk.design.registry import make_design
from trialdesk.errors import TrialdeskError

RATES = (0.05, 0.12, 0.30, 0.45, 0.60)
TOXIC = (0.30, 0.40, 0.50, 0.60, 0.70)


def assert_within_mc_error(
    simulated: OperatingCharacteristics, exact: OperatingCharacteristics, sds: float = 4.0
) -> None:
    """Every selection probability within ``sds`` binomial standard errors of the exact value
    (the standard error of the exact probability, floored so that p = 0 is not a zero-width
    interval)."""
    n = simulated.trials
    assert n is not None
    pairs = [
        *zip(simulated.selection, exact.selection, strict=True),
        (simulated.none_selected, exact.none_selected),
        (simulated.early_stop, exact.early_stop),
    ]
    if simulated.treated_above_mtd is not None and exact.treated_above_mtd is not None:
        pairs.append((simulated.treated_above_mtd, exact.treated_above_mtd))
    for estimate, truth in pairs:
        se = math.sqrt(max(truth * (1 - truth), 1.0 / n) / n)
        assert abs(estimate - truth) <= sds * se, (estimate, truth, se)


@pytest.mark.parametrize("name", ["3+3", "boin", "crm"])
@pytest.mark.parametrize("rates", [RATES, TOXIC])
def test_monte_carlo_agrees_with_exact_within_four_standard_errors(
    name: str, rates: tuple[float, ...]
) -> None:
    design = make_design(name, n_levels=5, target=0.3, max_n=30)
    (exact,) = operating_characteristics(design, [rates], method="exact", target=0.3)
    (simulated,) = operating_characteristics(design, [rates], trials=20_000, seed=7, target=0.3)
    assert_within_mc_error(simulated, exact)
    # Mean N: its standard deviation is at most max_n, so 4 SE is at most 4 * 30 / sqrt(n).
    assert abs(simulated.mean_n - exact.mean_n) <= 4 * 30 / math.sqrt(20_000)


def test_a_seed_reproduces_the_result_and_another_seed_does_not() -> None:
    graph = compiled(make_design("boin", n_levels=5, target=0.3, max_n=30))
    first = simulate_oc(graph, RATES, trials=5_000, seed=11, target=0.3)
    again = simulate_oc(graph, RATES, trials=5_000, seed=11, target=0.3)
    other = simulate_oc(graph, RATES, trials=5_000, seed=12, target=0.3)
    assert first == again
    assert first.selection != other.selection


def test_the_number_of_threads_does_not_change_the_result() -> None:
    graph = compiled(make_design("3+3", n_levels=5))
    trials = 3 * (1 << 16) + 17  # several chunks and a remainder
    one = terminal_counts(graph, RATES, trials=trials, seed=3, threads=1)
    two = terminal_counts(graph, RATES, trials=trials, seed=3, threads=2)
    assert (one == two).all() and int(one.sum()) == trials


def test_monte_carlo_frequencies_sum_to_one_and_count_whole_trials() -> None:
    design = make_design("i3+3", n_levels=5, target=0.3, max_n=30)
    (oc,) = operating_characteristics(design, [TOXIC], trials=1_001, seed=5)
    assert sum(oc.selection) + oc.none_selected == pytest.approx(1.0, abs=1e-12)
    assert all(round(p * 1_001, 9).is_integer() for p in oc.selection)
    assert oc.method == "monte-carlo" and oc.trials == 1_001 and oc.seed == 5


def test_bad_trial_counts_and_seeds_are_refused() -> None:
    design = make_design("boin", n_levels=5, target=0.3, max_n=30)
    with pytest.raises(TrialdeskError, match="trials"):
        operating_characteristics(design, [RATES], trials=0)
    with pytest.raises(TrialdeskError, match="seed"):
        operating_characteristics(design, [RATES], trials=10, seed=-1)


# Event-time simulation (TITE-BOIN) ---------------------------------------------------------
def test_tite_boin_with_every_outcome_known_in_time_behaves_like_boin() -> None:
    """With one arrival per 100 DLT windows no patient is pending at a decision, so TITE-BOIN
    takes BOIN's decisions and its OC must match BOIN's exact OC within Monte Carlo error."""
    tite = make_design("tite-boin", n_levels=5, target=0.3, max_n=30)
    boin = make_design("boin", n_levels=5, target=0.3, max_n=30)
    (exact,) = operating_characteristics(boin, [TOXIC], method="exact")
    (simulated,) = operating_characteristics(
        tite, [TOXIC], trials=1_500, seed=2, accrual=Accrual(arrivals_per_window=0.01)
    )
    assert simulated.method == "event-time monte-carlo"
    assert_within_mc_error(simulated, exact)


def test_tite_boin_with_fast_accrual_is_reproducible_and_stays_within_max_n() -> None:
    tite = make_design("tite-boin", n_levels=5, target=0.3, max_n=30)
    first = operating_characteristics(tite, [RATES], trials=300, seed=4)[0]
    again = operating_characteristics(tite, [RATES], trials=300, seed=4)[0]
    assert first == again
    assert first.mean_n <= 30 and sum(first.patients) == pytest.approx(first.mean_n)
    assert sum(first.selection) + first.none_selected == pytest.approx(1.0)


def test_tite_boin_finishes_sooner_than_waiting_out_every_window() -> None:
    """A design that waits for every DLT window needs at least one window per cohort (10 for
    N = 30); TITE-BOIN with 6 arrivals per window does not wait that long. With slow accrual
    the duration is the accrual time: 29 gaps of 1/rate windows plus the last window."""
    tite = make_design("tite-boin", n_levels=5, target=0.3, max_n=30)
    (fast,) = operating_characteristics(tite, [RATES], trials=300, seed=8)
    assert fast.mean_duration is not None and fast.mean_duration < 10
    (slow,) = operating_characteristics(
        tite, [RATES], trials=300, seed=8, accrual=Accrual(arrivals_per_window=0.5)
    )
    assert slow.mean_duration is not None
    assert slow.mean_duration == pytest.approx(29 * 2 + 1, rel=0.05)
    boin = make_design("boin", n_levels=5, target=0.3, max_n=30)
    assert operating_characteristics(boin, [RATES], method="exact")[0].mean_duration is None


def test_accrual_must_be_positive() -> None:
    with pytest.raises(TrialdeskError, match="arrivals_per_window"):
        Accrual(arrivals_per_window=0)
