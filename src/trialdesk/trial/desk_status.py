"""What a coordinator must look at today: the trial summary plus the work lists around it
(infusions due or overdue, SAE reporting clocks, candidate DLTs waiting for the investigator).

Plain data for ``trialdesk status`` and the dashboard; nothing is written.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from trialdesk.store.models import AdverseEvent, Infusion, Participant
from trialdesk.trial.adverse_events import open_sae_reports
from trialdesk.trial.cohorts import read_trial
from trialdesk.trial.context import TrialContext
from trialdesk.trial.dlt_review import pending_adjudications
from trialdesk.trial.infusions import infusion_checks_of
from trialdesk.trial.schedule import Status
from trialdesk.trial.state import TrialSummary, trial_summary


@dataclass(frozen=True, slots=True)
class InfusionDue:
    """An infusion to give: ``due`` (its window is open) or ``overdue`` (the window closed and
    it was neither given nor recorded as missed)."""

    study_id: str
    number: int
    state: str
    earliest: date
    latest: date


@dataclass(frozen=True, slots=True)
class SaeClock:
    """An SAE not reported yet: due by ``due_at``; ``hours_left`` is negative once overdue."""

    adverse_event_id: int
    study_id: str
    term: str
    grade: int
    state: str
    due_at: datetime
    hours_left: float


@dataclass(frozen=True, slots=True)
class PendingAdjudication:
    """A candidate DLT waiting for the investigator."""

    assessment_id: int
    adverse_event_id: int
    study_id: str
    term: str
    grade: int
    onset_date: date
    rule: str


@dataclass(frozen=True, slots=True)
class DeskStatus:
    """The trial summary and today's work lists."""

    summary: TrialSummary
    infusions: tuple[InfusionDue, ...]
    sae_clocks: tuple[SaeClock, ...]
    adjudications: tuple[PendingAdjudication, ...]


def desk_status(session: Session, ctx: TrialContext) -> DeskStatus:
    """Read everything a status screen shows, as of the clock's today."""
    reading = read_trial(session, ctx)
    summary = trial_summary(session, ctx, reading)
    return DeskStatus(
        summary=summary,
        infusions=tuple(_infusions_due(session, ctx, summary, reading.infusions)),
        sae_clocks=tuple(_sae_clocks(session, ctx)),
        adjudications=tuple(_adjudications(session)),
    )


def _label(person: Participant) -> str:
    return person.study_id or person.screening_number


def _infusions_due(
    session: Session,
    ctx: TrialContext,
    summary: TrialSummary,
    infusions: Mapping[int, Sequence[Infusion]],
) -> list[InfusionDue]:
    """``infusions``: each enrolled participant's active infusions, as the summary read them."""
    found: list[InfusionDue] = []
    for line in summary.patients:
        person = session.get(Participant, line.participant_id)
        if person is None or person.status in ("withdrawn", "completed"):
            continue
        rows = infusions.get(person.id, ())
        recorded_missed = {row.number for row in rows if row.status == "missed"}
        for check in infusion_checks_of(rows, ctx.protocol, ctx.clock):
            number = int(check.key)
            if check.status == Status.DUE:
                state = "due"
            elif check.status == Status.MISSED and number not in recorded_missed:
                state = "overdue"
            else:
                continue
            found.append(
                InfusionDue(
                    _label(person), number, state, check.window.earliest, check.window.latest
                )
            )
    return found


def _sae_clocks(session: Session, ctx: TrialContext) -> list[SaeClock]:
    found: list[SaeClock] = []
    for event, report in open_sae_reports(session, ctx.protocol, ctx.clock):
        person = session.get(Participant, event.participant_id)
        found.append(
            SaeClock(
                adverse_event_id=event.id,
                study_id=_label(person) if person else f"#{event.participant_id}",
                term=event.term,
                grade=event.grade,
                state=report.state.value,
                due_at=report.due_at,
                hours_left=round(report.time_left.total_seconds() / 3600, 1),
            )
        )
    return found


def _adjudications(session: Session) -> list[PendingAdjudication]:
    found: list[PendingAdjudication] = []
    for assessment in pending_adjudications(session):
        event = session.get(AdverseEvent, assessment.adverse_event_id)
        if event is None:
            continue
        person = session.get(Participant, event.participant_id)
        found.append(
            PendingAdjudication(
                assessment_id=assessment.id,
                adverse_event_id=event.id,
                study_id=_label(person) if person else f"#{event.participant_id}",
                term=event.term,
                grade=event.grade,
                onset_date=event.onset_date,
                rule=assessment.rule_matched,
            )
        )
    return found
