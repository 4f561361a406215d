"""mTPI-2 (Guo, Wang, Ji, Ji, Lin & Li 2017, Contemporary Clinical Trials 58:23-33), keyboard
(Yan, Mandrekar & Yuan 2017, Clinical Cancer Research 23:3994-4003) and i3+3 (Liu, Wang, Ji,
Ji, Lin & Li 2020, Statistics in Biopharmaceutical Research 13:147-155).

mTPI-2 and keyboard both cut [0, 1] into intervals as wide as the equivalence interval
[target - eps1, target + eps2] and follow the interval holding the most posterior mass
(beta(1 + y, 1 + n - y)): below the equivalence interval -> escalate, in it -> stay, above it ->
de-escalate. mTPI-2 keeps the shorter intervals at the ends of [0, 1] and compares unit
probability mass (mass / length); keyboard drops partial keys and compares mass. With the same
width they decide alike, which the tests check on a grid.

i3+3 uses the observed rate y/n against the same interval, with one twist: above the interval it
stays instead of de-escalating when one DLT fewer would put the rate below the interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy import special

from trialdesk.design.interval import IntervalDesign, Move
from trialdesk.errors import TrialdeskError

_EPS = 1e-12


@dataclass(frozen=True)
class _EquivalenceIntervalDesign(IntervalDesign):
    eps1: float = 0.05
    eps2: float = 0.05
    _cuts: NDArray[np.float64] = field(init=False, repr=False, compare=False)
    _target_index: int = field(init=False, repr=False, compare=False, default=0)

    def _check_settings(self) -> None:
        for name, value in (("eps1", self.eps1), ("eps2", self.eps2)):
            if not isinstance(value, int | float) or not value > 0:
                raise TrialdeskError(f"must be a positive number (got {value!r})", field=name)
        if not self.target - self.eps1 > 0 or not self.target + self.eps2 < 1:
            raise TrialdeskError(
                f"the equivalence interval [{self.target - self.eps1:g}, "
                f"{self.target + self.eps2:g}] must lie inside (0, 1); make eps1/eps2 smaller",
                field="eps1",
            )
        cuts, index = self._intervals()
        object.__setattr__(self, "_cuts", cuts)
        object.__setattr__(self, "_target_index", index)

    @property
    def interval(self) -> tuple[float, float]:
        return self.target - self.eps1, self.target + self.eps2

    def _intervals(self) -> tuple[NDArray[np.float64], int]:
        """Cut points of the intervals and the index of the equivalence interval."""
        low, high = self.interval
        width = high - low
        below: list[float] = []  # lower edges of full-width intervals under the target one
        edge = low
        while edge - width > -_EPS:
            edge -= width
            below.append(max(edge, 0.0))
        above: list[float] = []  # upper edges of full-width intervals over the target one
        edge = high
        while edge + width < 1 + _EPS:
            edge += width
            above.append(min(edge, 1.0))
        cuts = [*reversed(below), low, high, *above]
        if self.keeps_partial_intervals():
            if cuts[0] > _EPS:
                cuts.insert(0, 0.0)
            if cuts[-1] < 1 - _EPS:
                cuts.append(1.0)
        return np.array(cuts, dtype=np.float64), cuts.index(low)

    def keeps_partial_intervals(self) -> bool:
        raise NotImplementedError

    def _masses(self, n: int, y: int) -> NDArray[np.float64]:
        cdf = special.betainc(1.0 + y, 1.0 + n - y, self._cuts)
        return np.asarray(np.diff(cdf), dtype=np.float64)

    def strongest(self, n: int, y: int) -> int:
        raise NotImplementedError

    def move(self, n: int, y: int) -> Move:
        index = self.strongest(n, y)
        if index < self._target_index:
            return "E"
        if index > self._target_index:
            return "D"
        return "S"

    def explain(self, n: int, y: int) -> str:
        low, high = self.interval
        where = {"E": "below", "S": "inside", "D": "above", "DU": "above"}[self.action_at(n, y)]
        return f"the DLT rate is most likely {where} the target interval [{low:g}, {high:g}]"


@dataclass(frozen=True)
class Mtpi2(_EquivalenceIntervalDesign):
    """mTPI-2: the interval with the highest unit probability mass."""

    @property
    def name(self) -> str:
        return "mtpi2"

    def keeps_partial_intervals(self) -> bool:
        return True

    def strongest(self, n: int, y: int) -> int:
        upm = self._masses(n, y) / np.diff(self._cuts)
        return int(np.argmax(upm))


@dataclass(frozen=True)
class Keyboard(_EquivalenceIntervalDesign):
    """Keyboard: the full-width key with the highest posterior probability."""

    @property
    def name(self) -> str:
        return "keyboard"

    def keeps_partial_intervals(self) -> bool:
        return False

    def _check_settings(self) -> None:
        super()._check_settings()
        low, high = self.interval
        if low - (high - low) < -_EPS or high + (high - low) > 1 + _EPS:
            raise TrialdeskError(
                f"with target {self.target:g} and key width {high - low:g} there is no full key "
                "on each side of the target key, so the design could never escalate or "
                "de-escalate; use a narrower key (eps1/eps2) or mtpi2",
                field="eps1",
            )

    def strongest(self, n: int, y: int) -> int:
        return int(np.argmax(self._masses(n, y)))


@dataclass(frozen=True)
class I3Plus3(IntervalDesign):
    """i3+3 with equivalence interval [target - eps1, target + eps2]."""

    eps1: float = 0.05
    eps2: float = 0.05

    @property
    def name(self) -> str:
        return "i3+3"

    def _check_settings(self) -> None:
        for name, value in (("eps1", self.eps1), ("eps2", self.eps2)):
            if not isinstance(value, int | float) or not value > 0:
                raise TrialdeskError(f"must be a positive number (got {value!r})", field=name)
        if not self.target - self.eps1 > 0 or not self.target + self.eps2 < 1:
            raise TrialdeskError(
                "the equivalence interval must lie inside (0, 1); make eps1/eps2 smaller",
                field="eps1",
            )

    def move(self, n: int, y: int) -> Move:
        low, high = self.target - self.eps1, self.target + self.eps2
        rate = y / n
        if rate < low:
            return "E"
        if rate <= high:
            return "S"
        return "S" if (y - 1) / n < low else "D"

    def explain(self, n: int, y: int) -> str:
        low, high = self.target - self.eps1, self.target + self.eps2
        rate = y / n
        if rate < low:
            return f"rate {rate:.2f} is below the target interval [{low:g}, {high:g}]"
        if rate <= high:
            return f"rate {rate:.2f} is inside the target interval [{low:g}, {high:g}]"
        if (y - 1) / n < low:
            return (
                f"rate {rate:.2f} is above [{low:g}, {high:g}] but one DLT fewer would be below it"
            )
        return f"rate {rate:.2f} is above the target interval [{low:g}, {high:g}]"
