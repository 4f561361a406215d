"""BOIN (Liu & Yuan 2015, JRSS-C 64:507-523) and TITE-BOIN (Yuan, Lin, Li, Nie & Wang 2018,
Clinical Cancer Research 24:4921-4930).

BOIN escalates when the observed DLT rate at the current level is at or below lambda_e and
de-escalates when it is at or above lambda_d. The boundaries minimise the probability of a wrong
decision between three point hypotheses: p = phi1 (too low, default 0.6 phi), p = phi (the target)
and p = phi2 (too high, default 1.4 phi), which gives them in closed form.

Stopping, as in BOIN's ``get.oc``: the lowest level eliminated (no MTD); ``n_stop`` patients at
the current level when the design would stay there; ``max_n`` patients in all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from trialdesk.design.base import LevelState, TrialState
from trialdesk.design.interval import IntervalDesign, Move
from trialdesk.design.phases import Proposal, dlt_finding, level_name, patients_text
from trialdesk.errors import TrialdeskError


def boin_boundaries(
    target: float, phi1: float | None = None, phi2: float | None = None
) -> tuple[float, float]:
    """(lambda_e, lambda_d) for ``target``; phi1 = 0.6 target and phi2 = 1.4 target by default."""
    low = 0.6 * target if phi1 is None else phi1
    high = 1.4 * target if phi2 is None else phi2
    if not 0 < low < target < high < 1:
        raise TrialdeskError(
            f"need 0 < phi1 < target < phi2 < 1 (got phi1={low:g}, target={target:g}, "
            f"phi2={high:g})",
            field="phi1" if not 0 < low < target else "phi2",
        )
    lambda_e = math.log((1 - low) / (1 - target)) / math.log(
        target * (1 - low) / (low * (1 - target))
    )
    lambda_d = math.log((1 - target) / (1 - high)) / math.log(
        high * (1 - target) / (target * (1 - high))
    )
    return lambda_e, lambda_d


@dataclass(frozen=True)
class Boin(IntervalDesign):
    """BOIN. ``phi1``/``phi2`` default to 0.6 and 1.4 times the target."""

    phi1: float | None = None
    phi2: float | None = None
    _boundaries: tuple[float, float] = field(init=False, repr=False, compare=False)

    @property
    def name(self) -> str:
        return "boin"

    def _check_settings(self) -> None:
        object.__setattr__(self, "_boundaries", boin_boundaries(self.target, self.phi1, self.phi2))

    @property
    def boundaries(self) -> tuple[float, float]:
        """(lambda_e, lambda_d)."""
        return self._boundaries

    def move_for_rate(self, rate: float) -> Move:
        lambda_e, lambda_d = self.boundaries
        if rate <= lambda_e:
            return "E"
        if rate >= lambda_d:
            return "D"
        return "S"

    def move(self, n: int, y: int) -> Move:
        return self.move_for_rate(y / n)

    def explain_rate(self, rate: float) -> str:
        lambda_e, lambda_d = self.boundaries
        if rate <= lambda_e:
            return f"rate {rate:.2f} is at or below the escalation boundary {lambda_e:.3f}"
        if rate >= lambda_d:
            return f"rate {rate:.2f} is at or above the de-escalation boundary {lambda_d:.3f}"
        return f"rate {rate:.2f} is between the boundaries {lambda_e:.3f} and {lambda_d:.3f}"

    def explain(self, n: int, y: int) -> str:
        return self.explain_rate(y / n)


@dataclass(frozen=True)
class TiteBoin(Boin):
    """TITE-BOIN: decides without waiting for every patient's DLT window to close.

    At the current level each pending patient counts for the fraction of the window followed so
    far (the paper's uniform prior on the time to DLT within the window), so the rate compared
    with the BOIN boundaries is ``y / (complete + STFT)``, STFT being the standardised total
    follow-up time: the sum of the pending patients' followed fractions.

    Accrual is suspended while more than ``max_pending_fraction`` (0.5) of the patients at the
    current level are pending: the paper's requirement of enough complete data before a
    decision. ``min_complete_to_escalate`` (default 0, off) can demand in addition that so many
    patients at the current level have complete data before escalating.

    Elimination counts every patient treated at a level (pending ones as without DLT so far), as
    the reference implementation (R package TITEgBOIN) does, which avoids eliminating a level on
    thin complete data; the final selection uses complete data.
    """

    max_pending_fraction: float = 0.5
    min_complete_to_escalate: int = 0

    @property
    def name(self) -> str:
        return "tite-boin"

    def _check_settings(self) -> None:
        super()._check_settings()
        if not 0 < self.max_pending_fraction < 1:
            raise TrialdeskError(
                f"must be strictly between 0 and 1 (got {self.max_pending_fraction!r})",
                field="max_pending_fraction",
            )
        if self.min_complete_to_escalate < 0:
            raise TrialdeskError("must be 0 or more", field="min_complete_to_escalate")

    def elimination_counts(self, counts: LevelState) -> tuple[int, int]:
        return counts.treated, counts.dlts

    @staticmethod
    def effective_size(complete: int, pending: tuple[float, ...]) -> float:
        """Complete patients plus the standardised total follow-up time of pending ones."""
        return complete + sum(min(max(f, 0.0), 1.0) for f in pending)

    def current_move(self, state: TrialState) -> tuple[Move, str] | Proposal:
        current = state.current
        counts = state.levels[current]
        pending = len(counts.pending)
        if pending > self.max_pending_fraction * counts.treated:
            return Proposal(
                "stay",
                current,
                f"{pending} of {patients_text(counts.treated)} at {level_name(current)} are "
                "still inside the DLT window",
                "suspend accrual until more outcomes are known (more than "
                f"{self.max_pending_fraction:.0%} pending)",
                suspended=True,
            )
        size = self.effective_size(counts.complete, counts.pending)
        rate = counts.dlts / size if size > 0 else 0.0
        move = self.move_for_rate(rate)
        finding = dlt_finding(counts.dlts, counts.treated, current)
        if pending:
            finding += f", {pending} pending (effective sample size {size:.2f})"
        finding += f" ({self.explain_rate(rate)})"
        if move == "E" and counts.complete < self.min_complete_to_escalate:
            return Proposal(
                "stay",
                current,
                finding,
                f"stay at {level_name(current)} until {self.min_complete_to_escalate} patients "
                "there have complete DLT data",
            )
        return move, finding
