"""MTD selection by isotonic regression (BOIN's select.mtd rule)."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialdesk.design.selection import closest_to_target, isotonic_estimates, pava, select_mtd
from trialdesk.errors import TrialdeskError


def test_select_mtd_documented_example() -> None:
    # BOIN package documentation, select.mtd() example: n = (3, 3, 15, 9, 0),
    # y = (0, 0, 4, 4, 0), target 0.3 -> the MTD is dose level 3.
    n = [3, 3, 15, 9, 0]
    y = [0, 0, 4, 4, 0]
    assert select_mtd(n, y, 0.3) == 2
    assert select_mtd(n, y, 0.3, weighting="boin") == 2


def test_pava_pools_violators_with_weights() -> None:
    # 0.5 (weight 2) then 0.2 (weight 3) violate: pooled (1.0 + 0.6) / 5 = 0.32.
    assert pava([0.1, 0.5, 0.2], [1, 2, 3]) == pytest.approx([0.1, 0.32, 0.32])


@given(st.lists(st.tuples(st.floats(0, 1), st.floats(0.1, 20)), min_size=1, max_size=8))
def test_pava_is_monotone_and_keeps_the_weighted_mean(pairs: list[tuple[float, float]]) -> None:
    values = [v for v, _ in pairs]
    weights = [w for _, w in pairs]
    fitted = pava(values, weights)
    assert all(a <= b + 1e-12 for a, b in itertools.pairwise(fitted))
    total = sum(weights)
    assert sum(f * w for f, w in zip(fitted, weights, strict=True)) / total == pytest.approx(
        sum(v * w for v, w in zip(values, weights, strict=True)) / total
    )


def test_ties_below_target_pick_the_higher_level_and_above_the_lower() -> None:
    # select.mtd documentation: among ties, the highest level when the estimate is below the
    # target, the lowest when it is above.
    assert closest_to_target([0.1, 0.1, 0.5], 0.3) == 1
    assert closest_to_target([0.1, 0.45, 0.45], 0.3) == 1
    assert closest_to_target([0.2, 0.4], 0.3) == 0  # equally far on either side: the lower


def test_pooled_levels_above_target_pick_the_lowest_of_the_pool() -> None:
    # Levels 2 and 3 pool to 3/6 = 0.5 > 0.3: the lower one of the pool, level 2.
    assert isotonic_estimates([3, 3, 3], [0, 2, 1]) == pytest.approx([0.0, 0.5, 0.5])
    assert select_mtd([3, 3, 3], [0, 2, 1], 0.45) == 1


def test_eliminated_levels_and_levels_without_patients_are_never_selected() -> None:
    assert select_mtd([3, 6, 3], [0, 1, 3], 0.3, highest_admissible=1) == 1
    assert select_mtd([3, 0, 0], [0, 0, 0], 0.3) == 0
    assert select_mtd([0, 0], [0, 0], 0.3) is None
    assert select_mtd([3, 3], [3, 3], 0.3, highest_admissible=-1) is None


def test_invalid_counts_are_rejected() -> None:
    with pytest.raises(TrialdeskError, match="DLTs"):
        select_mtd([3], [4], 0.3)
