"""Event-time Monte Carlo for time-to-event designs (TITE-BOIN), which have no exact method.

A time-to-event design decides while patients are still inside their DLT window, from the fraction
of the window each has been followed. That state is continuous (it depends on arrival and DLT
times), so it cannot be compiled into a finite graph; instead each trial is simulated in time:

- Time is measured in DLT windows (the window is 1). Patients arrive one by one with exponential
  gaps of mean ``1 / arrivals_per_window`` (a Poisson accrual process).
- A patient at a level with true rate p has a DLT with probability p; the DLT happens at a time
  uniform within the window (the assumption of Yuan et al. 2018, Clin Cancer Res 24:4921).
- The dose of a cohort is decided when its first patient arrives. When the design suspends
  accrual, that patient waits until the next event (a DLT or a window closing) and the design is
  asked again; the cohort's other patients then keep arriving at the accrual rate.
- After ``max_n`` patients, or when the design stops, the trial waits for every window to close
  and the MTD is the one the design recommends from the complete data (its final selection).

Draws per trial (gaps, DLT indicators, DLT times) are made in bulk from one PCG64 stream per chunk
(child i of ``SeedSequence(seed)``), so a seed reproduces the result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from trialdesk.design.base import Decision, Design, LevelState, TrialState
from trialdesk.design.oc.montecarlo import check_seed, check_trials
from trialdesk.design.oc.results import OperatingCharacteristics, check_true_tox, true_mtd
from trialdesk.errors import TrialdeskError

CHUNK = 4096
MAX_DECISIONS_PER_TRIAL = 10_000


@dataclass(frozen=True, slots=True)
class Accrual:
    """Poisson accrual: mean number of patients arriving per DLT window."""

    arrivals_per_window: float = 6.0

    def __post_init__(self) -> None:
        if not 0 < self.arrivals_per_window <= 1000:
            raise TrialdeskError(
                f"must be a positive number of patients per DLT window, at most 1000 "
                f"(got {self.arrivals_per_window!r})",
                field="arrivals_per_window",
            )


@dataclass(slots=True)
class _Patient:
    """One patient; ``window_end`` is computed once so that every comparison with it agrees."""

    level: int
    entry: float
    dlt_time: float | None  # absolute time of the DLT, None when the patient has none
    window_end: float = 0.0

    def __post_init__(self) -> None:
        self.window_end = self.entry + 1.0

    def status(self, now: float) -> tuple[bool, float | None]:
        """(had a DLT by ``now``, followed fraction if still pending else None)."""
        if self.dlt_time is not None and self.dlt_time <= now:
            return True, None
        if now >= self.window_end:
            return False, None
        return False, min(max(now - self.entry, 1e-9), 1.0 - 1e-9)

    def next_event(self, now: float) -> float | None:
        """When this patient's outcome next changes after ``now`` (None: already known)."""
        end = self.dlt_time if self.dlt_time is not None else self.window_end
        return end if end > now else None


@dataclass(frozen=True, slots=True)
class _TrialEnd:
    treated: tuple[int, ...]
    dlts: tuple[int, ...]
    mtd: int | None
    duration: float


def _state(patients: list[_Patient], n_levels: int, now: float, current: int) -> TrialState:
    treated = [0] * n_levels
    dlts = [0] * n_levels
    pending: list[list[float]] = [[] for _ in range(n_levels)]
    for patient in patients:
        treated[patient.level] += 1
        had_dlt, fraction = patient.status(now)
        if had_dlt:
            dlts[patient.level] += 1
        elif fraction is not None:
            pending[patient.level].append(fraction)
    return TrialState(
        levels=tuple(
            LevelState(treated=treated[i], dlts=dlts[i], pending=tuple(pending[i]))
            for i in range(n_levels)
        ),
        current=current,
    )


def _final_mtd(design: Design, state: TrialState, decision: Decision) -> int | None:
    """The design's recommendation once every outcome is known."""
    if decision.stop:
        return decision.mtd
    select = getattr(design, "select", None)
    admissibility = getattr(design, "admissibility", None)
    if callable(select) and callable(admissibility):
        chosen = select(state, admissibility(state))
        return chosen if isinstance(chosen, int) else None
    raise TrialdeskError(
        f"design {design.name} does not stop once the trial is complete and has no final "
        "selection; give it a maximum sample size (max_n)",
        field="max_n",
    )


def _one_trial(
    design: Design,
    true_tox: Sequence[float],
    *,
    cohort_size: int,
    max_n: int,
    gaps: np.ndarray,
    dlt_draws: np.ndarray,
    dlt_fractions: np.ndarray,
) -> _TrialEnd:
    n_levels = design.n_levels
    patients: list[_Patient] = []
    now = float(gaps[0])
    current = 0
    decisions = 0
    stopped = False
    while len(patients) < max_n:
        while True:
            decisions += 1
            if decisions > MAX_DECISIONS_PER_TRIAL:
                raise TrialdeskError(
                    f"design {design.name} kept suspending accrual; the simulation cannot end",
                    field="design",
                )
            decision = design.decide(_state(patients, n_levels, now, current))
            if not decision.suspended or decision.stop:
                break
            events = [t for t in (p.next_event(now) for p in patients) if t is not None]
            if not events:
                raise TrialdeskError(
                    f"design {design.name} suspends accrual with no patient pending",
                    field="design",
                )
            now = min(events)
        if decision.stop or decision.next_dose is None:
            stopped = True
            break
        current = decision.next_dose
        for member in range(min(cohort_size, max_n - len(patients))):
            index = len(patients)
            if member > 0:
                now += float(gaps[index])
            has_dlt = bool(dlt_draws[index] < true_tox[current])
            dlt_time = now + float(dlt_fractions[index]) if has_dlt else None
            patients.append(_Patient(current, now, dlt_time))
        now += float(gaps[len(patients)]) if len(patients) < len(gaps) else 0.0
    # The trial ends when the last outcome is known (not at the next, unneeded arrival).
    end = max((p.next_event(-1.0) or 0.0) for p in patients) if patients else now
    final = _state(patients, n_levels, end, current)
    if stopped and decision.mtd is None:
        mtd = None  # a safety stop: no level is recommended, whatever follows
    else:
        mtd = _final_mtd(design, final, design.decide(final))
    return _TrialEnd(
        treated=tuple(level.treated for level in final.levels),
        dlts=tuple(level.dlts for level in final.levels),
        mtd=mtd,
        duration=end - patients[0].entry if patients else 0.0,
    )


def simulate_event_time_oc(
    design: Design,
    true_tox: Sequence[float],
    *,
    trials: int,
    seed: int,
    cohort_size: int,
    max_n: int,
    target: float | None,
    accrual: Accrual | None = None,
) -> OperatingCharacteristics:
    """Monte Carlo OC of a time-to-event design, simulated in continuous time (see module)."""
    rates = check_true_tox(list(true_tox), design.n_levels)
    check_trials(trials)
    check_seed(seed)
    rate = (accrual or Accrual()).arrivals_per_window
    n_levels = design.n_levels
    selection = np.zeros(n_levels + 1)
    patients = np.zeros(n_levels)
    dlts = np.zeros(n_levels)
    total_n = 0.0
    early = 0
    above = 0
    duration = 0.0
    mtd_true = true_mtd(rates, target)
    first_above = 0 if mtd_true is None else mtd_true + 1
    chunks = [CHUNK] * (trials // CHUNK) + ([trials % CHUNK] if trials % CHUNK else [])
    for size, child in zip(chunks, np.random.SeedSequence(seed).spawn(len(chunks)), strict=True):
        rng = np.random.Generator(np.random.PCG64(child))
        gaps = rng.exponential(1.0 / rate, size=(size, max_n + 1))
        dlt_draws = rng.random((size, max_n))
        dlt_fractions = rng.random((size, max_n))
        for i in range(size):
            end = _one_trial(
                design,
                rates,
                cohort_size=cohort_size,
                max_n=max_n,
                gaps=gaps[i],
                dlt_draws=dlt_draws[i],
                dlt_fractions=dlt_fractions[i],
            )
            selection[0 if end.mtd is None else end.mtd + 1] += 1
            duration += end.duration
            patients += end.treated
            dlts += end.dlts
            n = sum(end.treated)
            total_n += n
            early += n < max_n
            above += sum(end.treated[first_above:]) > 0
    return OperatingCharacteristics(
        design=design.name,
        method="event-time monte-carlo",
        trials=trials,
        true_tox=rates,
        target=target,
        max_n=max_n,
        selection=tuple(float(x) / trials for x in selection[1:]),
        none_selected=float(selection[0]) / trials,
        patients=tuple(float(x) / trials for x in patients),
        dlts=tuple(float(x) / trials for x in dlts),
        mean_n=total_n / trials,
        early_stop=early / trials,
        treated_above_mtd=above / trials if target is not None else None,
        seed=seed,
        mean_duration=duration / trials,
    )
