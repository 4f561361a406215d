"""Scenarios and operating characteristics (OC), the numbers a statistician compares designs by.

Definitions (also in docs/benchmarks.md and the CLI help):

- **true MTD** of a scenario: the highest level whose true DLT rate is at or below the target;
  none when even the first level is above it.
- **selection**: probability that the trial ends recommending each level; **none_selected**: that
  it ends without recommending any (a safety stop).
- **patients / dlts**: mean number of patients treated and of DLTs at each level.
- **early_stop**: probability that the trial stops before treating the maximum sample size
  ``max_n``, whatever the rule (a safety stop, 3+3's "no change is possible", BOIN's n_stop);
  for a design without ``max_n``, before the most patients any course of the design can treat.
- **treated_above_mtd**: probability that at least one patient is treated at a level above the
  true MTD (any treated patient counts when there is no true MTD); undefined without a target.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from trialdesk.errors import TrialdeskError

Method = Literal["exact", "monte-carlo", "event-time monte-carlo"]


@dataclass(frozen=True, slots=True)
class Scenario:
    """True DLT rates per level (0-based order), with an optional name for tables and plots."""

    true_tox: tuple[float, ...]
    name: str = ""

    def label(self, index: int) -> str:
        return self.name or f"scenario {index + 1}"


def check_true_tox(values: Sequence[object], n_levels: int | None = None) -> tuple[float, ...]:
    """Validated true DLT rates: numbers in [0, 1], one per dose level."""
    rates: list[float] = []
    for i, value in enumerate(values):
        if (
            not isinstance(value, int | float)
            or isinstance(value, bool)
            or not math.isfinite(value)
            or not 0 <= value <= 1
        ):
            raise TrialdeskError(
                f"rate {i + 1} is {value!r}; every true DLT rate must be a number from 0 to 1, "
                "e.g. 0.05,0.12,0.30",
                field="true_tox",
            )
        rates.append(float(value))
    if not rates:
        raise TrialdeskError("give one true DLT rate per dose level", field="true_tox")
    if n_levels is not None and len(rates) != n_levels:
        raise TrialdeskError(
            f"{len(rates)} rates given for {n_levels} dose levels; give one rate per level",
            field="true_tox",
        )
    return tuple(rates)


def parse_rates(text: str, field: str = "true_tox") -> tuple[float, ...]:
    """``"0.05,0.12,0.30"`` -> (0.05, 0.12, 0.30); commas or spaces separate."""
    parts = [part for part in text.replace(",", " ").split() if part]
    values: list[float] = []
    for part in parts:
        try:
            values.append(float(part))
        except ValueError:
            raise TrialdeskError(
                f"{part!r} is not a number; write rates such as 0.05,0.12,0.30", field=field
            ) from None
    return check_true_tox(values)


def true_mtd(true_tox: Sequence[float], target: float | None) -> int | None:
    """0-based highest level with true rate <= target; None when there is none (or no target)."""
    if target is None:
        return None
    below = [i for i, rate in enumerate(true_tox) if rate <= target + 1e-12]
    return max(below) if below else None


@dataclass(frozen=True, slots=True)
class OperatingCharacteristics:
    """OC of one design in one scenario. Probabilities are fractions (0-1) here; the JSON and
    the tables show percentages.

    trials: number of simulated trials (None for the exact method).
    true_mtd: 0-based, None when no level is at or below the target (or no target was given).
    treated_above_mtd: None when no target was given.
    mean_duration: event-time simulation only: mean time from the first patient's arrival to
        the last outcome, in DLT windows (None where time is not simulated).
    """

    design: str
    method: Method
    trials: int | None
    true_tox: tuple[float, ...]
    target: float | None
    max_n: int | None
    selection: tuple[float, ...]
    none_selected: float
    patients: tuple[float, ...]
    dlts: tuple[float, ...]
    mean_n: float
    early_stop: float
    treated_above_mtd: float | None
    seed: int | None = None
    mean_duration: float | None = None

    @property
    def n_levels(self) -> int:
        return len(self.selection)

    @property
    def true_mtd(self) -> int | None:
        return true_mtd(self.true_tox, self.target)

    @property
    def mean_dlts(self) -> float:
        return float(sum(self.dlts))

    def standard_error(self, probability: float) -> float:
        """Monte Carlo standard error of an estimated probability (0 for the exact method)."""
        if self.trials is None:
            return 0.0
        return math.sqrt(max(probability * (1 - probability), 0.0) / self.trials)

    def to_json(self) -> dict[str, Any]:
        """The ``trialdesk simulate --json`` object: percentages for selection, none_selected and
        early_stop; means for patients, dlts and mean_n; ``trials`` null for the exact method."""
        return {
            "method": self.method,
            "trials": self.trials,
            "selection": [_percent(p) for p in self.selection],
            "none_selected": _percent(self.none_selected),
            "patients": list(self.patients),
            "dlts": list(self.dlts),
            "mean_n": self.mean_n,
            "early_stop": _percent(self.early_stop),
        }


def _percent(probability: float) -> float:
    """A percentage without binary noise such as 60.31999999999999 (kept to 1e-10 %)."""
    return round(100 * probability, 10)
