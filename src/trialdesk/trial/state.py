"""The trial at a glance, as of today: where dose finding stands and where each patient is in
the DLT window. Plain data for the doors to render (``trialdesk status``, the dashboard)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from trialdesk.store.models import Enrolment, Participant
from trialdesk.trial.cohorts import EnrolledPatient, TrialReading, read_trial
from trialdesk.trial.context import TrialContext
from trialdesk.trial.decisions import open_decisions, readiness, signed_stop, stored_decision
from trialdesk.trial.dlt import patient_evaluability
from trialdesk.trial.dlt_review import (
    EnrolledRecords,
    patient_dlt_facts,
    pending_adjudications,
)
from trialdesk.trial.enrolment import EnrolmentRefused, next_assignment


@dataclass(frozen=True, slots=True)
class PatientLine:
    """One enrolled patient: identity, level and cohort, evaluability, DLT window position.

    ``window_day``: days since the window started (0 on the first infusion), None before it.
    ``days_left``: whole days still inside the window (0 on its last day and after).
    """

    participant_id: int
    study_id: str
    level: int
    cohort: int
    standing: str
    standing_reason: str
    window_start: date | None
    window_end: date | None
    window_day: int | None
    days_left: int | None
    window_open: bool
    override: bool


@dataclass(frozen=True, slots=True)
class LevelLine:
    """One dose level as the design counts it."""

    level: int
    treated: int
    dlts: int
    pending: int


@dataclass(frozen=True, slots=True)
class TrialSummary:
    """Where the trial stands on ``as_of``.

    ``next_level`` / ``next_cohort``: where the design would put the next patient, or None with
    ``enrolment_blocked`` saying why (``interlock`` names the rule). ``decision_ready``: the
    design can decide for ``current_cohort`` now; ``unsigned_decisions``: computed decisions
    waiting for a signature. ``stopped``: a signed stop; ``mtd_level`` then the declared MTD.
    """

    as_of: date
    protocol_id: str
    current_level: int | None
    current_cohort: int | None
    enrolled: int
    max_sample_size: int | None
    next_level: int | None
    next_cohort: int | None
    enrolment_blocked: str | None
    interlock: str | None
    decision_ready: bool
    decision_reason: str
    unsigned_decisions: tuple[int, ...]
    pending_adjudications: int
    stopped: bool
    mtd_level: int | None
    stop_reason: str | None
    levels: tuple[LevelLine, ...]
    patients: tuple[PatientLine, ...]


def trial_summary(
    session: Session, ctx: TrialContext, reading: TrialReading | None = None
) -> TrialSummary:
    """Read the store once and summarise (nothing is written); ``reading``: one already made
    with :func:`read_trial` in this unit of work, for a caller that needs it too."""
    reading = reading or read_trial(session, ctx)
    cohort = reading.last_cohort
    try:
        assignment = next_assignment(session, ctx, reading)
        blocked, interlock = None, None
    except EnrolmentRefused as refused:
        assignment, blocked, interlock = None, refused.reason, refused.interlock.value
    ready = readiness(session, ctx, reading)
    stop = signed_stop(session)
    stopped = stop is not None
    decided = stored_decision(stop) if stop is not None else {}
    return TrialSummary(
        as_of=reading.as_of,
        protocol_id=ctx.protocol.id,
        current_level=cohort.level if cohort else None,
        current_cohort=cohort.number if cohort else None,
        enrolled=len(reading.patients),
        max_sample_size=ctx.protocol.max_sample_size,
        next_level=assignment.level if assignment else None,
        next_cohort=assignment.cohort_number if assignment else None,
        enrolment_blocked=blocked,
        interlock=interlock,
        decision_ready=ready.ready,
        decision_reason=ready.reason,
        unsigned_decisions=tuple(d.id for d in open_decisions(session, cohort.number))
        if cohort
        else (),
        pending_adjudications=len(pending_adjudications(session)),
        stopped=stopped,
        mtd_level=decided.get("mtd_level") if stopped else None,
        stop_reason=decided.get("reason") if stopped else None,
        levels=tuple(
            LevelLine(index + 1, level.treated, level.dlts, len(level.pending))
            for index, level in enumerate(reading.state.levels)
        ),
        patients=tuple(_patient_line(p, reading.as_of) for p in reading.patients),
    )


def patient_line(
    session: Session,
    ctx: TrialContext,
    participant: Participant,
    enrolment: Enrolment,
    records: EnrolledRecords | None = None,
) -> PatientLine:
    """One enrolled patient's line of :func:`trial_summary`, for that patient alone (a page
    about one participant needs no other patient's records); ``records``: the patient's
    active infusions and DLT statuses if the caller has read them already."""
    as_of = ctx.clock.today()
    facts = (
        records.facts(session, participant, enrolment, ctx.protocol, ctx.clock)
        if records is not None
        else patient_dlt_facts(session, participant.id, ctx.protocol, ctx.clock)
    )
    standing = patient_evaluability(facts, ctx.dlt, as_of)
    return _patient_line(EnrolledPatient(participant, enrolment, standing), as_of)


def _patient_line(patient: EnrolledPatient, as_of: date) -> PatientLine:
    window = patient.standing.window
    started = window is not None and as_of >= window.start
    return PatientLine(
        participant_id=patient.participant.id,
        study_id=patient.label,
        level=patient.enrolment.dose_level,
        cohort=patient.enrolment.cohort_number,
        standing=patient.standing.state.value,
        standing_reason=patient.standing.reason,
        window_start=window.start if window else None,
        window_end=window.end if window else None,
        window_day=(as_of - window.start).days if window is not None and started else None,
        days_left=window.days_left(as_of) if window else None,
        window_open=window.is_open(as_of) if window else False,
        override=patient.enrolment.override,
    )
