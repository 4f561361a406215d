"""The continual reassessment method (O'Quigley, Pepe & Fisher 1990) with dfcrm's conventions
(Cheung 2011, *Dose Finding by the Continual Reassessment Method*).

Working models, one parameter beta with prior N(0, prior_variance), default variance 1.34:
- empiric (power): p_k = skeleton_k ** exp(beta)
- logistic: p_k = 1 / (1 + exp(-(intercept + exp(beta) * x_k))), intercept 3 and x_k solved
  from the skeleton so that beta = 0 reproduces it.

The posterior mean and variance of beta come from one fixed dense grid (cached per design, the
integrand's log-likelihood is a matrix product), and as in dfcrm the dose-toxicity curve is the
model evaluated at the posterior mean. The recommended level is the one whose rate is closest to
the target. Options: no skipping of levels when escalating (on by default), no escalation right
after a cohort with a DLT (off by default), a safety stop when P(p_1 > target | data) exceeds
``safety_threshold`` (0.9 by default; None turns it off), ``n_stop`` and ``max_n``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import special

from trialdesk.design.base import Decision, TrialState
from trialdesk.design.checks import (
    check_n_levels,
    check_positive_int,
    check_probability,
    check_start_level,
    check_state_matches,
)
from trialdesk.design.phases import (
    Admissibility,
    MaxSampleSize,
    NoAdmissibleLevel,
    Proposal,
    StopRule,
    StopWhenStayingAtN,
    decide_in_phases,
    first_cohort,
    level_name,
    pending_wait,
    sort_rules,
)
from trialdesk.errors import TrialdeskError

Model = Literal["empiric", "logistic"]
GRID_POINTS = 2401
GRID_SDS = 10.0


def _logit(p: float) -> float:
    return math.log(p / (1 - p))


def getprior(
    halfwidth: float,
    target: float,
    prior_mtd: int,
    n_levels: int,
    model: Model = "empiric",
    intercept: float = 3.0,
) -> tuple[float, ...]:
    """A skeleton whose indifference intervals are target +/- halfwidth (Lee & Cheung 2009).

    The same calibration as dfcrm's ``getprior(halfwidth, target, nu, nlevel, model)``, except
    that ``prior_mtd`` is 0-based here (``nu - 1``). The prior MTD gets the target rate; walking
    outwards, each neighbour is placed so that the switch between two adjacent levels happens
    exactly where the lower one's rate is target - halfwidth and the upper one's target + halfwidth.
    """
    check_n_levels(n_levels)
    check_probability(target, "target")
    if not 0 < halfwidth < min(target, 1 - target):
        raise TrialdeskError(
            f"must be positive and smaller than the target and 1 - target (got {halfwidth!r})",
            field="halfwidth",
        )
    if not isinstance(prior_mtd, int) or not 0 <= prior_mtd < n_levels:
        raise TrialdeskError(
            f"level {prior_mtd!r} (0-based) does not exist; choose 0 to {n_levels - 1}",
            field="prior_mtd",
        )
    low, high = target - halfwidth, target + halfwidth
    if model == "empiric":
        # Work in z_k = log(skeleton_k); p_k(beta) = exp(exp(beta) z_k).
        z = [0.0] * n_levels
        z[prior_mtd] = math.log(target)
        for k in range(prior_mtd, 0, -1):
            scale = math.log(high) / z[k]  # exp(beta) at which level k reaches target + hw
            z[k - 1] = math.log(low) / scale
        for k in range(prior_mtd, n_levels - 1):
            scale = math.log(low) / z[k]
            z[k + 1] = math.log(high) / scale
        return tuple(math.exp(v) for v in z)
    if model == "logistic":
        x = [0.0] * n_levels
        x[prior_mtd] = _logit(target) - intercept
        for k in range(prior_mtd, 0, -1):
            scale = (_logit(high) - intercept) / x[k]
            x[k - 1] = (_logit(low) - intercept) / scale
        for k in range(prior_mtd, n_levels - 1):
            scale = (_logit(low) - intercept) / x[k]
            x[k + 1] = (_logit(high) - intercept) / scale
        return tuple(1 / (1 + math.exp(-(intercept + v))) for v in x)
    raise TrialdeskError(f"must be empiric or logistic (got {model!r})", field="model")


@dataclass(frozen=True, slots=True)
class CrmPosterior:
    """The posterior of beta and what follows from it."""

    mean: float
    variance: float
    dlt_rates: tuple[float, ...]
    prob_lowest_above_target: float
    closest: int


@dataclass(frozen=True)
class Crm:
    """CRM with the empiric or one-parameter logistic model (see module docstring)."""

    n_levels: int
    target: float
    cohort_size: int = 3
    start_level: int = 0
    max_n: int | None = None
    model: Model = "empiric"
    skeleton: tuple[float, ...] | None = None
    prior_mtd: int | None = None
    halfwidth: float = 0.05
    prior_variance: float = 1.34
    intercept: float = 3.0
    no_skip: bool = True
    no_escalation_after_dlt: bool = False
    safety_threshold: float | None = 0.9
    n_stop: int | None = None
    stop_rules: tuple[StopRule, ...] = field(init=False, repr=False, compare=False)
    _grid: NDArray[np.float64] = field(init=False, repr=False, compare=False)
    _log_prior: NDArray[np.float64] = field(init=False, repr=False, compare=False)
    _log_p: NDArray[np.float64] = field(init=False, repr=False, compare=False)
    _log_q: NDArray[np.float64] = field(init=False, repr=False, compare=False)
    _lowest_cut: float = field(init=False, repr=False, compare=False, default=0.0)

    @property
    def name(self) -> str:
        return "crm"

    def __post_init__(self) -> None:
        check_n_levels(self.n_levels)
        check_probability(self.target, "target")
        check_positive_int(self.cohort_size, "cohort_size")
        check_start_level(self.start_level, self.n_levels)
        check_positive_int(self.max_n, "max_n", allow_none=True)
        check_positive_int(self.n_stop, "n_stop", allow_none=True)
        if self.model not in ("empiric", "logistic"):
            raise TrialdeskError(f"must be empiric or logistic (got {self.model!r})", field="model")
        if not (isinstance(self.prior_variance, int | float) and self.prior_variance > 0):
            raise TrialdeskError("must be a positive number, e.g. 1.34", field="prior_variance")
        if self.safety_threshold is not None:
            check_probability(self.safety_threshold, "safety_threshold")
        skeleton = self._skeleton()
        object.__setattr__(self, "skeleton", skeleton)
        self._build_grid(skeleton)
        rules: list[StopRule] = [NoAdmissibleLevel()]
        if self.max_n is not None:
            rules.append(MaxSampleSize(self.max_n))
        if self.n_stop is not None:
            rules.append(StopWhenStayingAtN(self.n_stop))
        object.__setattr__(self, "stop_rules", sort_rules(rules))

    def _skeleton(self) -> tuple[float, ...]:
        if self.skeleton is None:
            prior_mtd = (self.n_levels - 1) // 2 if self.prior_mtd is None else self.prior_mtd
            if not isinstance(self.halfwidth, int | float):
                raise TrialdeskError("must be a number, e.g. 0.05", field="halfwidth")
            return getprior(
                self.halfwidth, self.target, prior_mtd, self.n_levels, self.model, self.intercept
            )
        skeleton = tuple(float(s) for s in self.skeleton)
        if len(skeleton) != self.n_levels:
            raise TrialdeskError(
                f"needs one prior DLT rate per level ({self.n_levels}), got {len(skeleton)}",
                field="skeleton",
            )
        if not all(0 < s < 1 for s in skeleton) or any(b <= a for a, b in pairwise(skeleton)):
            raise TrialdeskError(
                "must be strictly increasing rates between 0 and 1, e.g. 0.05,0.1,0.2,0.35",
                field="skeleton",
            )
        if self.model == "logistic" and skeleton[-1] >= 1 / (1 + math.exp(-self.intercept)):
            raise TrialdeskError(
                f"with the logistic model and intercept {self.intercept:g} every prior rate "
                f"must be below {1 / (1 + math.exp(-self.intercept)):.3f}",
                field="skeleton",
            )
        return skeleton

    def _build_grid(self, skeleton: Sequence[float]) -> None:
        sd = math.sqrt(self.prior_variance)
        grid = np.linspace(-GRID_SDS * sd, GRID_SDS * sd, GRID_POINTS)
        scale = np.exp(grid)[np.newaxis, :]
        if self.model == "empiric":
            log_s = np.log(np.asarray(skeleton))[:, np.newaxis]
            log_p = scale * log_s
            log_q = np.log(-np.expm1(log_p))
            target_scale = math.log(self.target) / math.log(skeleton[0])
        else:
            x = np.array([_logit(s) - self.intercept for s in skeleton])[:, np.newaxis]
            eta = self.intercept + scale * x
            log_p = -np.logaddexp(0.0, -eta)
            log_q = -np.logaddexp(0.0, eta)
            target_scale = (_logit(self.target) - self.intercept) / (
                _logit(skeleton[0]) - self.intercept
            )
        # p_1 decreases in beta: p_1 > target exactly when beta < log(target_scale).
        cut = math.log(target_scale) if target_scale > 0 else -math.inf
        object.__setattr__(self, "_grid", grid)
        object.__setattr__(self, "_log_prior", -0.5 * grid**2 / self.prior_variance)
        object.__setattr__(self, "_log_p", np.ascontiguousarray(log_p))
        object.__setattr__(self, "_log_q", np.ascontiguousarray(log_q))
        object.__setattr__(self, "_lowest_cut", cut)

    def dlt_rates(self, beta: float) -> tuple[float, ...]:
        """The working model's DLT rate per level at ``beta``."""
        assert self.skeleton is not None
        if self.model == "empiric":
            return tuple(s ** math.exp(beta) for s in self.skeleton)
        return tuple(
            float(special.expit(self.intercept + math.exp(beta) * (_logit(s) - self.intercept)))
            for s in self.skeleton
        )

    def posterior(self, treated: Sequence[int], dlts: Sequence[int]) -> CrmPosterior:
        """Posterior of beta given complete outcomes per level."""
        n = np.asarray(treated, dtype=np.float64)
        y = np.asarray(dlts, dtype=np.float64)
        log_post = self._log_prior + y @ self._log_p + (n - y) @ self._log_q
        weights = np.exp(log_post - log_post.max())
        total = float(weights.sum())
        grid = self._grid
        mean = float(weights @ grid) / total
        variance = float(weights @ (grid - mean) ** 2) / total
        prob_low = self._mass_below(weights, total)
        rates = self.dlt_rates(mean)
        closest = min(range(self.n_levels), key=lambda k: (abs(rates[k] - self.target), k))
        return CrmPosterior(mean, variance, rates, prob_low, closest)

    def _mass_below(self, weights: NDArray[np.float64], total: float) -> float:
        """Posterior P(beta < cut), accurate to O(h^4) in the grid step h.

        Whole cells below the cut: the trapezoid rule with its Euler-Maclaurin end correction.
        The cell holding the cut: the exact integral of the cubic through the four nearest grid
        values (Simpson's rule is exact for cubics).
        """
        grid = self._grid
        cut = self._lowest_cut
        step = float(grid[1] - grid[0])
        cell = int((cut - grid[0]) // step) if cut > grid[0] else -1
        if cell < 1:
            return 0.0
        if cell > len(grid) - 3:
            return 1.0
        below = float(weights[:cell].sum()) + float(weights[cell]) / 2 - float(weights[0]) / 2
        slope = float(weights[cell + 1] - weights[cell - 1]) / 2
        below -= slope / 12
        before, here, after, beyond = (float(w) for w in weights[cell - 1 : cell + 3])

        def cubic(x: float) -> float:
            return (
                -before * x * (x - 1) * (x - 2) / 6
                + here * (x + 1) * (x - 1) * (x - 2) / 2
                - after * (x + 1) * x * (x - 2) / 2
                + beyond * (x + 1) * x * (x - 1) / 6
            )

        fraction = (cut - float(grid[cell])) / step
        partial = fraction / 6 * (here + 4 * cubic(fraction / 2) + cubic(fraction))
        return min(max((below + partial) / total, 0.0), 1.0)

    # Phases -----------------------------------------------------------------------------------
    def admissibility(self, state: TrialState, post: CrmPosterior) -> Admissibility:
        if (
            self.safety_threshold is not None
            and state.levels[0].complete > 0
            and post.prob_lowest_above_target > self.safety_threshold
        ):
            return Admissibility(
                highest=None,
                reason=(
                    f"P(DLT rate at level 1 > {self.target:g}) = "
                    f"{post.prob_lowest_above_target:.2f}, above {self.safety_threshold:g}: "
                    "the lowest level is too toxic"
                ),
            )
        return Admissibility(highest=self.n_levels - 1)

    def propose(self, state: TrialState, post: CrmPosterior) -> Proposal:
        if state.total_treated == 0:
            return first_cohort(self.start_level)
        waiting = pending_wait(state)
        if waiting is not None:
            return waiting
        current = state.current
        rates = ", ".join(f"{r:.2f}" for r in post.dlt_rates)
        finding = (
            f"estimated DLT rates {rates} by level; {level_name(post.closest)} is closest to the "
            f"target {self.target:g}"
        )
        chosen = post.closest
        limits: list[str] = []
        if self.no_skip and chosen > current + 1:
            chosen = current + 1
            limits.append("no level is skipped when escalating")
        if self.no_escalation_after_dlt and state.last_cohort_had_dlt and chosen > current:
            chosen = current
            limits.append("no escalation right after a DLT")
        if limits:
            finding += f" ({'; '.join(limits)})"
        if chosen > current:
            return Proposal("escalate", chosen, finding, f"escalate to {level_name(chosen)}")
        if chosen < current:
            return Proposal("de-escalate", chosen, finding, f"de-escalate to {level_name(chosen)}")
        return Proposal("stay", chosen, finding, f"stay at {level_name(chosen)}")

    def decide(self, state: TrialState) -> Decision:
        check_state_matches(state.n_levels, self.n_levels)
        post = self.posterior(
            [level.complete for level in state.levels], [level.dlts for level in state.levels]
        )
        admissible = self.admissibility(state, post)
        return decide_in_phases(
            state,
            admissibility=admissible,
            propose=lambda adm: self.propose(state, post),
            stop_rules=self.stop_rules,
            select=lambda adm: post.closest,
        )
