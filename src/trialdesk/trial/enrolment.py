"""Enrolment under the design's interlocks: the design assigns the dose level, and the desk
refuses, saying why, when the current cohort is full and its outcomes are not all known, when
the design has stopped the trial, or at a level the design has closed.

An investigator may override the waiting interlock or choose another level than the design's,
with a written reason; the enrolment is marked and audited as an override. No override opens a
closed level or reopens a stopped trial.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.models import Enrolment, Participant
from trialdesk.trial.cohorts import TrialReading, highest_open_level, read_trial, the_design
from trialdesk.trial.context import TrialContext
from trialdesk.trial.decisions import (
    open_decisions,
    readiness,
    signed_decision_for,
    signed_stop,
    stored_decision,
)
from trialdesk.trial.lookup import require_role
from trialdesk.trial.participants import (
    get_participant,
    latest_screening,
    require_open,
    valid_consent,
)
from trialdesk.trial.records import check_actor, check_reason, create, update
from trialdesk.trial.roles import Action

MAX_WEIGHT_KG = 500.0


class Interlock(StrEnum):
    """Why the design does not let a patient be enrolled now."""

    COHORT_FULL = "cohort_full"
    """The current cohort is full and its outcomes are not all known (windows open)."""
    DECISION_PENDING = "decision_pending"
    """The cohort's outcomes are known; the decision must be computed and signed first."""
    TRIAL_STOPPED = "trial_stopped"
    """A signed decision stopped the trial; enrolment is closed."""
    LEVEL_CLOSED = "level_closed"
    """The level is above the highest level the design still allows."""

    @property
    def overridable(self) -> bool:
        return self in (Interlock.COHORT_FULL, Interlock.DECISION_PENDING)


class EnrolmentRefused(TrialdeskError):
    """An interlock refused the enrolment; ``interlock`` says which, ``reason`` says why (the
    message without the field name, for building a longer message or showing it on its own)."""

    def __init__(self, interlock: Interlock, message: str) -> None:
        self.interlock = interlock
        self.reason = message
        super().__init__(message, field="dose_level")


@dataclass(frozen=True, slots=True)
class Assignment:
    """Where the next patient goes: level (from 1), cohort number, and why."""

    level: int
    cohort_number: int
    reason: str


def next_assignment(
    session: Session, ctx: TrialContext, reading: TrialReading | None = None
) -> Assignment:
    """The level and cohort the design gives the next patient, or :class:`EnrolmentRefused`."""
    reading = reading or read_trial(session, ctx)
    stop = signed_stop(session)
    if stop is not None:
        decided = stored_decision(stop)
        raise EnrolmentRefused(
            Interlock.TRIAL_STOPPED,
            f"the design stopped the trial (decision #{stop.id}, signed by {stop.signer_name}): "
            f"{decided.get('reason')} Enrolment is closed",
        )
    cohort = reading.last_cohort
    if cohort is None:
        return _checked_open(
            ctx,
            reading,
            Assignment(
                reading.start_level, 1, f"the first cohort starts at level {reading.start_level}"
            ),
        )
    signed = signed_decision_for(session, cohort.number)
    if signed is None and len(cohort.counted) < reading.cohort_size:
        filled = len(cohort.counted)
        return _checked_open(
            ctx,
            reading,
            Assignment(
                cohort.level,
                cohort.number,
                f"cohort {cohort.number} at level {cohort.level} has {filled} of "
                f"{reading.cohort_size} patients",
            ),
        )
    if signed is not None:
        decided = stored_decision(signed)
        level = int(decided["next_level"])
        return _checked_open(
            ctx,
            reading,
            Assignment(
                level,
                cohort.number + 1,
                f"decision #{signed.id} (signed by {signed.signer_name}): {decided['reason']}",
            ),
        )
    ready = readiness(session, ctx, reading)
    if ready.ready:
        pending = open_decisions(session, cohort.number)
        step = (
            f"decision #{pending[-1].id} waits for an investigator's signature"
            if pending
            else "compute the decision and have an investigator sign it"
        )
        raise EnrolmentRefused(
            Interlock.DECISION_PENDING,
            f"cohort {cohort.number} at level {cohort.level} is full and the design can decide "
            f"({ready.reason}); {step} before the next patient is enrolled",
        )
    raise EnrolmentRefused(
        Interlock.COHORT_FULL,
        f"cohort {cohort.number} at level {cohort.level} is full and its DLT outcomes are not "
        f"all known ({ready.reason}); the next patient can be enrolled once the design has "
        "decided",
    )


def enrol(
    session: Session,
    ctx: TrialContext,
    participant_id: int,
    *,
    enrolled_on: date,
    baseline_weight_kg: float,
    actor: str,
    dose_level: int | None = None,
    override_reason: str | None = None,
) -> Enrolment:
    """Enrol an eligible, consented participant at the level the design assigns.

    ``dose_level`` other than the design's, or an enrolment the waiting interlock refuses,
    is an override: only an investigator (``actor``) may make it, with ``override_reason``.
    """
    who = check_actor(actor)
    person = get_participant(session, participant_id)
    _check_can_enrol(session, ctx, person, enrolled_on, baseline_weight_kg)
    reading = read_trial(session, ctx)
    try:
        assignment: Assignment | None = next_assignment(session, ctx, reading)
        refusal: EnrolmentRefused | None = None
    except EnrolmentRefused as refused:
        assignment, refusal = None, refused
    wanted = dose_level if dose_level is not None else (assignment.level if assignment else None)
    override = refusal is not None or (assignment is not None and wanted != assignment.level)
    if not override and override_reason and override_reason.strip():
        raise TrialdeskError(
            "there is nothing to override: the design assigns this enrolment; leave the "
            "override reason out",
            field="override_reason",
        )
    if override:
        if refusal is not None and not refusal.interlock.overridable:
            raise refusal
        if wanted is None:
            assert refusal is not None
            raise EnrolmentRefused(
                refusal.interlock,
                f"{refusal.reason}. An investigator may override with a written reason and the "
                "dose level to give",
            )
        if not override_reason or not override_reason.strip():
            design_says = (
                f"the design assigns level {assignment.level}"
                if assignment is not None
                else refusal.reason
                if refusal is not None
                else "the design assigns no level"
            )
            raise TrialdeskError(
                f"enrolling at level {wanted} is an override ({design_says}); an investigator "
                "must give a written reason",
                field="override_reason",
            )
        require_role(session, who, Action.OVERRIDE_ENROLMENT)
        _check_level_open(ctx, reading, wanted)
        assignment = _override_assignment(reading, wanted, check_reason(override_reason))
    assert assignment is not None
    study_id = _next_study_id(session, ctx)
    row = Enrolment(
        participant_id=person.id,
        enrolled_on=enrolled_on,
        dose_level=assignment.level,
        cohort_number=assignment.cohort_number,
        baseline_weight_kg=float(baseline_weight_kg),
        assigned_by=who,
        override=override,
        override_reason=check_reason(override_reason) if override else None,
        recorded_at=ctx.clock.now(),
    )
    why = (
        f"OVERRIDE of the design by investigator {who}: {row.override_reason}"
        if override
        else f"enrolled; level {assignment.level} assigned by the design ({assignment.reason})"
    )
    create(session, row, actor=who, clock=ctx.clock, reason=why)
    update(
        session,
        person,
        {"study_id": study_id, "status": "enrolled"},
        actor=who,
        reason=f"enrolled as {study_id}",
        clock=ctx.clock,
    )
    return row


def _check_can_enrol(
    session: Session, ctx: TrialContext, person: Participant, on: date, weight: float
) -> None:
    require_open(person, "enrolled")
    today = ctx.clock.today()
    if on > today:
        raise TrialdeskError(
            f"{on} is in the future (today is {today}); enrol on the day it happens",
            field="enrolled_on",
        )
    if not (0 < weight <= MAX_WEIGHT_KG):
        raise TrialdeskError(
            f"{weight} kg is not a possible body weight; give the baseline weight in kg",
            field="baseline_weight_kg",
        )
    screening = latest_screening(session, person.id).screening
    if screening is None:
        raise TrialdeskError(
            f"{person.screening_number} has no screening; link an eligible screening first",
            field="participant_id",
        )
    if screening.verdict != "eligible":
        raise TrialdeskError(
            f"{person.screening_number}'s latest screening (#{screening.id}, "
            f"{screening.screening_date}) is {screening.verdict}, not eligible",
            field="participant_id",
        )
    valid_days = ctx.protocol.conduct.screening_valid_days
    if screening.screening_date > on:
        raise TrialdeskError(
            f"the screening (#{screening.id}) is dated {screening.screening_date}, after the "
            f"enrolment date {on}",
            field="enrolled_on",
        )
    if on - screening.screening_date > timedelta(days=valid_days):
        raise TrialdeskError(
            f"the eligible screening (#{screening.id}) is from {screening.screening_date}, "
            f"{(on - screening.screening_date).days} days before enrolment; the protocol allows "
            f"{valid_days}. Screen the participant again",
            field="enrolled_on",
        )
    consent = valid_consent(session, person.id)
    if consent is None:
        raise TrialdeskError(
            f"{person.screening_number} has no informed consent on record; record it first",
            field="participant_id",
        )
    if consent.consent_date > on:
        raise TrialdeskError(
            f"consent was signed on {consent.consent_date}, after the enrolment date {on}; "
            "consent must come first",
            field="enrolled_on",
        )


def _checked_open(ctx: TrialContext, reading: TrialReading, assignment: Assignment) -> Assignment:
    _check_level_open(ctx, reading, assignment.level)
    return assignment


def _check_level_open(ctx: TrialContext, reading: TrialReading, level: int) -> None:
    if not 1 <= level <= reading.n_levels:
        raise TrialdeskError(
            f"dose level {level} does not exist; the protocol has levels 1 to {reading.n_levels}",
            field="dose_level",
        )
    highest, why = highest_open_level(the_design(ctx), reading.state)
    if highest is None or level > highest:
        allowed = "no level is open" if highest is None else f"the highest open level is {highest}"
        raise EnrolmentRefused(
            Interlock.LEVEL_CLOSED,
            f"the design has closed level {level} ({why}); {allowed}",
        )


def _override_assignment(reading: TrialReading, level: int, reason: str) -> Assignment:
    cohort = reading.last_cohort
    if cohort is not None and cohort.level == level and len(cohort.counted) < reading.cohort_size:
        return Assignment(level, cohort.number, f"override: {reason}")
    return Assignment(level, (cohort.number + 1) if cohort else 1, f"override: {reason}")


def _next_study_id(session: Session, ctx: TrialContext) -> str:
    count = session.scalar(select(func.count()).select_from(Enrolment)) or 0
    return ctx.protocol.conduct.study_id_format.format(n=count + 1)
