"""Treatment and follow-up under `/api`: infusions, adverse events (CTCAE v5.0), measurements.

Corrections are PATCH with ``{"changes": {...}, "reason": ...}``; records entered by mistake are
voided with a reason (nothing is deleted). Every write is audited by the use-case.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, TypeVar
from typing import Protocol as TypingProtocol

from fastapi import APIRouter, Query, Request
from pydantic import AwareDatetime, BaseModel, Field
from sqlalchemy.orm import Session

from trialdesk.protocol.models import Protocol
from trialdesk.store.models import AdverseEvent, Base, Infusion, Measurement
from trialdesk.trial.adverse_events import (
    AdverseEventRecorded,
    correct_adverse_event,
    mark_sae_reported,
    new_event_claims,
    record_adverse_event,
    void_adverse_event,
)
from trialdesk.trial.clock import Clock
from trialdesk.trial.follow_up import (
    MeasurementRecorded,
    correct_measurement,
    record_measurement,
    void_measurement,
)
from trialdesk.trial.infusions import (
    InfusionRecorded,
    correct_infusion,
    record_infusion,
    record_missed_infusion,
    schedule_infusions,
    void_infusion,
)
from trialdesk.trial.queries import coerce_value
from trialdesk.web.api_screenings import ProblemRoute
from trialdesk.web.api_trial_common import (
    PROBLEMS,
    ClinicalReader,
    ClinicalWriter,
    Correction,
    Page,
    Reason,
    Void,
    check_seen_version,
    cursor_query,
    limit_query,
    listed_page,
    open_desk,
    plain,
    row_document,
)
from trialdesk.web.sessions import Account

FoundT = TypeVar("FoundT")
FoundT_co = TypeVar("FoundT_co", covariant=True)

router = APIRouter(prefix="/api", tags=["treatment and follow-up"], route_class=ProblemRoute)


class ScheduleIn(BaseModel):
    first_on: date = Field(description="Date of the first infusion.")


class InfusionIn(BaseModel):
    given_at: AwareDatetime = Field(description="ISO 8601 with the zone.")
    cells_given: float = Field(description="Cells actually given.")
    product_lot: str
    interrupted: bool = False
    interruption_note: str | None = None
    reaction_note: str | None = None


class AdverseEventIn(BaseModel):
    term: str | int = Field(description="CTCAE v5.0 term or MedDRA code.", examples=["Fatigue"])
    grade: int = Field(ge=1, le=5)
    onset_date: date
    attribution_hdmsc: str = Field(examples=["possible"])
    attribution_standard: str = Field(examples=["unrelated"])
    resolution_date: date | None = None
    serious: bool = False
    serious_criteria: list[str] = Field(default_factory=list)
    action_taken: str | None = None
    outcome: str | None = None


class ReportedIn(BaseModel):
    reported_at: AwareDatetime


class MeasurementIn(BaseModel):
    code: str = Field(examples=["pneumonitis_grade", "spo2", "lab:creatinine"])
    value: float
    measured_on: date
    unit: str | None = None
    visit_id: str | None = None


def _infusion(found: InfusionRecorded) -> dict[str, Any]:
    return row_document(found.infusion, check=plain(found.check))


def _event(found: AdverseEventRecorded) -> dict[str, Any]:
    return row_document(
        found.event,
        grade_text=found.grade_text,
        dlt=None if found.dlt is None else row_document(found.dlt),
        sae_report=plain(found.report),
    )


def _measurement(found: MeasurementRecorded) -> dict[str, Any]:
    return row_document(found.measurement, visit=plain(found.visit))


# --- Infusions ---------------------------------------------------------------------------


@router.post(
    "/participants/{participant_id}/infusions/schedule",
    status_code=201,
    summary="Plan the protocol's infusions from the first date",
    responses=PROBLEMS,
)
def schedule(
    request: Request, account: ClinicalWriter, participant_id: int, body: ScheduleIn
) -> list[dict[str, Any]]:
    with open_desk(request, account) as desk:
        rows = schedule_infusions(
            desk.session,
            participant_id,
            first_on=body.first_on,
            protocol=desk.ctx.protocol,
            actor=desk.actor,
            clock=desk.ctx.clock,
        )
        return [row_document(row) for row in rows]


@router.post(
    "/participants/{participant_id}/infusions/{number}",
    summary="Record infusion number N as given (a dose above the assigned level is refused)",
    responses=PROBLEMS,
)
def give(
    request: Request, account: ClinicalWriter, participant_id: int, number: int, body: InfusionIn
) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        found = record_infusion(
            desk.session,
            participant_id,
            number,
            given_at=body.given_at,
            cells_given=body.cells_given,
            product_lot=body.product_lot,
            interrupted=body.interrupted,
            interruption_note=body.interruption_note,
            reaction_note=body.reaction_note,
            protocol=desk.ctx.protocol,
            actor=desk.actor,
            clock=desk.ctx.clock,
        )
        return _infusion(found)


@router.post(
    "/participants/{participant_id}/infusions/{number}/missed",
    summary="Record infusion number N as missed, with the reason",
    responses=PROBLEMS,
)
def missed(
    request: Request, account: ClinicalWriter, participant_id: int, number: int, body: Reason
) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        row = record_missed_infusion(
            desk.session,
            participant_id,
            number,
            reason=body.reason,
            protocol=desk.ctx.protocol,
            actor=desk.actor,
            clock=desk.ctx.clock,
        )
        return row_document(row)


@router.patch("/infusions/{infusion_id}", summary="Correct a given infusion", responses=PROBLEMS)
def correct_given(
    request: Request, account: ClinicalWriter, infusion_id: int, body: Correction
) -> dict[str, Any]:
    return _corrected(request, account, correct_infusion, Infusion, infusion_id, body, _infusion)


@router.post("/infusions/{infusion_id}/void", summary="Void an infusion", responses=PROBLEMS)
def void_given(
    request: Request, account: ClinicalWriter, infusion_id: int, body: Void
) -> dict[str, Any]:
    return _voided(request, account, void_infusion, Infusion, infusion_id, body)


# --- Adverse events ----------------------------------------------------------------------


@router.get(
    "/adverse-events",
    summary="Adverse events, newest first, a page at a time",
    response_model=Page,
    responses=PROBLEMS,
)
def list_events(
    request: Request,
    account: ClinicalReader,
    participant_id: int | None = Query(None, description="Only this participant's."),
    serious: bool | None = Query(None, description="Only serious (true) or non-serious."),
    limit: int = limit_query(),
    cursor: int | None = cursor_query(),
) -> dict[str, Any]:
    where = []
    if participant_id is not None:
        where.append(AdverseEvent.participant_id == participant_id)
    if serious is not None:
        where.append(AdverseEvent.serious.is_(serious))
    return listed_page(request, account, AdverseEvent, where=where, limit=limit, cursor=cursor)


@router.post(
    "/participants/{participant_id}/adverse-events",
    status_code=201,
    summary="Record an adverse event (CTCAE v5.0); a match of the DLT rule is flagged",
    responses=PROBLEMS,
)
def add_event(
    request: Request, account: ClinicalWriter, participant_id: int, body: AdverseEventIn
) -> dict[str, Any]:
    with open_desk(request, account, new_event_claims(participant_id)) as desk:
        found = record_adverse_event(
            desk.session,
            participant_id,
            term=body.term,
            grade=body.grade,
            onset_date=body.onset_date,
            attribution_hdmsc=body.attribution_hdmsc,
            attribution_standard=body.attribution_standard,
            resolution_date=body.resolution_date,
            serious=body.serious,
            serious_criteria=body.serious_criteria,
            action_taken=body.action_taken,
            outcome=body.outcome,
            protocol=desk.ctx.protocol,
            actor=desk.actor,
            clock=desk.ctx.clock,
        )
        return _event(found)


@router.patch(
    "/adverse-events/{adverse_event_id}", summary="Correct an adverse event", responses=PROBLEMS
)
def correct_event(
    request: Request, account: ClinicalWriter, adverse_event_id: int, body: Correction
) -> dict[str, Any]:
    return _corrected(
        request, account, correct_adverse_event, AdverseEvent, adverse_event_id, body, _event
    )


@router.post(
    "/adverse-events/{adverse_event_id}/void", summary="Void an adverse event", responses=PROBLEMS
)
def void_event(
    request: Request, account: ClinicalWriter, adverse_event_id: int, body: Void
) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        check_seen_version(desk, AdverseEvent, adverse_event_id, body.version)
        row = void_adverse_event(
            desk.session,
            adverse_event_id,
            reason=body.reason,
            protocol=desk.ctx.protocol,
            actor=desk.actor,
            clock=desk.ctx.clock,
        )
        return row_document(row)


@router.post(
    "/adverse-events/{adverse_event_id}/reported",
    summary="Mark an SAE reported (stops its reporting clock)",
    responses=PROBLEMS,
)
def reported(
    request: Request, account: ClinicalWriter, adverse_event_id: int, body: ReportedIn
) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        clock = mark_sae_reported(
            desk.session,
            adverse_event_id,
            reported_at=body.reported_at,
            protocol=desk.ctx.protocol,
            actor=desk.actor,
            clock=desk.ctx.clock,
        )
        return {"adverse_event_id": adverse_event_id, "sae_report": plain(clock)}


# --- Measurements ------------------------------------------------------------------------


@router.post(
    "/participants/{participant_id}/measurements",
    status_code=201,
    summary="Record a follow-up value (pneumonitis grade, SpO2, FVC, DLCO, labs ...)",
    responses=PROBLEMS,
)
def add_measurement(
    request: Request, account: ClinicalWriter, participant_id: int, body: MeasurementIn
) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        found = record_measurement(
            desk.session,
            participant_id,
            code=body.code,
            value=body.value,
            measured_on=body.measured_on,
            unit=body.unit,
            visit_id=body.visit_id,
            protocol=desk.ctx.protocol,
            actor=desk.actor,
            clock=desk.ctx.clock,
        )
        return _measurement(found)


@router.patch("/measurements/{measurement_id}", summary="Correct a measurement", responses=PROBLEMS)
def correct_value(
    request: Request, account: ClinicalWriter, measurement_id: int, body: Correction
) -> dict[str, Any]:
    return _corrected(
        request, account, correct_measurement, Measurement, measurement_id, body, _measurement
    )


@router.post(
    "/measurements/{measurement_id}/void", summary="Void a measurement", responses=PROBLEMS
)
def void_value(
    request: Request, account: ClinicalWriter, measurement_id: int, body: Void
) -> dict[str, Any]:
    return _voided(request, account, void_measurement, Measurement, measurement_id, body)


class _Corrects(TypingProtocol[FoundT_co]):
    """A use-case that corrects one record (``correct_infusion`` and its kin)."""

    def __call__(
        self,
        session: Session,
        record_id: int,
        changes: Mapping[str, object],
        /,
        *,
        reason: str,
        protocol: Protocol,
        actor: str,
        clock: Clock,
    ) -> FoundT_co: ...


class _Voids(TypingProtocol):
    """A use-case that voids one record and needs nothing of the protocol to do so."""

    def __call__(
        self, session: Session, record_id: int, /, *, reason: str, actor: str, clock: Clock
    ) -> Base: ...


def _corrected(
    request: Request,
    account: Account,
    correct: _Corrects[FoundT],
    model: type[Base],
    record_id: int,
    body: Correction,
    document: Callable[[FoundT], dict[str, Any]],
) -> dict[str, Any]:
    """A PATCH correction: the changes coerced to the model's column types, applied and audited
    by ``correct``, and what it returns rendered by ``document``."""
    with open_desk(request, account) as desk:
        check_seen_version(desk, model, record_id, body.version)
        found = correct(
            desk.session,
            record_id,
            _coerced(model, body.changes),
            reason=body.reason,
            protocol=desk.ctx.protocol,
            actor=desk.actor,
            clock=desk.ctx.clock,
        )
        return document(found)


def _voided(
    request: Request,
    account: Account,
    void: _Voids,
    model: type[Base],
    record_id: int,
    body: Void,
) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        check_seen_version(desk, model, record_id, body.version)
        row = void(
            desk.session, record_id, reason=body.reason, actor=desk.actor, clock=desk.ctx.clock
        )
        return row_document(row)


def _coerced(model: Any, changes: dict[str, Any]) -> dict[str, object]:
    return {name: coerce_value(model, name, value, label=name) for name, value in changes.items()}
