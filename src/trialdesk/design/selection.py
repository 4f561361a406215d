"""MTD selection after the trial: isotonic regression of the DLT rates, then the level closest to
the target (the rule of BOIN's ``select.mtd``).

Ties, as ``select.mtd`` documents them: among levels whose isotonic estimates are equally close
to the target, the highest level when the estimate is below the target and the lowest level when
it is above. Two levels equally far on either side of the target (one below, one above) resolve to
the lower one, which is also what ``select.mtd``'s tie-breaking gives.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from trialdesk.errors import TrialdeskError

Weighting = Literal["n", "boin"]


def pava(values: Sequence[float], weights: Sequence[float]) -> list[float]:
    """Weighted isotonic (non-decreasing) regression by pooling adjacent violators."""
    if len(values) != len(weights):
        raise TrialdeskError("values and weights must have the same length", field="weights")
    blocks: list[tuple[float, float, int]] = []  # (mean, weight, size)
    for value, weight in zip(values, weights, strict=True):
        if weight <= 0:
            raise TrialdeskError("every weight must be positive", field="weights")
        mean, total, size = float(value), float(weight), 1
        while blocks and blocks[-1][0] > mean:
            prev_mean, prev_total, prev_size = blocks.pop()
            mean = (prev_mean * prev_total + mean * total) / (prev_total + total)
            total += prev_total
            size += prev_size
        blocks.append((mean, total, size))
    fitted: list[float] = []
    for mean, _, size in blocks:
        fitted.extend([mean] * size)
    return fitted


def isotonic_estimates(
    treated: Sequence[int], dlts: Sequence[int], *, weighting: Weighting = "n"
) -> list[float | None]:
    """Isotonic DLT-rate estimates per level (None for levels without patients).

    weighting "n": raw rates y/n weighted by n. "boin": BOIN's select.mtd convention, rates
    (y + 0.05)/(n + 0.1) weighted by the inverse of their beta(0.05, 0.05) posterior variance.
    """
    used = [i for i, n in enumerate(treated) if n > 0]
    if not used:
        return [None] * len(treated)
    values: list[float] = []
    weights: list[float] = []
    for i in used:
        n, y = treated[i], dlts[i]
        if weighting == "n":
            values.append(y / n)
            weights.append(float(n))
        else:
            a, b = y + 0.05, n - y + 0.05
            values.append(a / (n + 0.1))
            weights.append(((n + 0.1) ** 2 * (n + 1.1)) / (a * b))
    fitted = pava(values, weights)
    result: list[float | None] = [None] * len(treated)
    for i, estimate in zip(used, fitted, strict=True):
        result[i] = estimate
    return result


def closest_to_target(estimates: Sequence[float | None], target: float) -> int | None:
    """Index of the estimate closest to ``target`` with select.mtd's tie rule (see module)."""
    best: int | None = None
    best_key: tuple[float, int] | None = None
    for i, estimate in enumerate(estimates):
        if estimate is None:
            continue
        distance = round(abs(estimate - target), 12)
        # Below the target prefer higher levels, at or above it prefer lower ones.
        key = (distance, -i if estimate < target else i)
        if best_key is None or key < best_key:
            best, best_key = i, key
    return best


def select_mtd(
    treated: Sequence[int],
    dlts: Sequence[int],
    target: float,
    *,
    highest_admissible: int | None = None,
    weighting: Weighting = "n",
) -> int | None:
    """The MTD (0-based) after the trial, or None if no admissible level has patients.

    ``highest_admissible`` drops eliminated levels (that level and those above it stay out of
    the regression); None means every level is admissible. Pass -1 when none is.
    """
    if len(treated) != len(dlts):
        raise TrialdeskError("treated and dlts need one entry per level", field="dlts")
    for n, y in zip(treated, dlts, strict=True):
        if n < 0 or y < 0 or y > n:
            raise TrialdeskError(
                f"each level needs 0 <= DLTs <= patients (got {y} of {n})", field="dlts"
            )
    limit = len(treated) if highest_admissible is None else highest_admissible + 1
    if limit <= 0:
        return None
    estimates = isotonic_estimates(treated[:limit], dlts[:limit], weighting=weighting)
    return closest_to_target(estimates, target)
