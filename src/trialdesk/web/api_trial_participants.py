"""`/api/participants`: pre-screen contacts, linked screenings, consent, enrolment, withdrawal."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from trialdesk.store.models import (
    AdverseEvent,
    Consent,
    Enrolment,
    Infusion,
    Measurement,
    Participant,
    ParticipantScreening,
)
from trialdesk.store.participant_rows import dlt_assessments_of, rows_of
from trialdesk.trial.enrolment import enrol
from trialdesk.trial.participants import (
    NEW_CONTACT_CLAIMS,
    get_participant,
    link_screening,
    record_consent,
    register_contact,
)
from trialdesk.trial.withdrawal import withdraw
from trialdesk.web.api_screenings import ProblemRoute
from trialdesk.web.api_trial_common import (
    PROBLEMS,
    ClinicalReader,
    ClinicalWriter,
    Page,
    cursor_query,
    limit_query,
    listed_page,
    open_desk,
    row_document,
)

router = APIRouter(prefix="/api/participants", tags=["participants"], route_class=ProblemRoute)


class ContactIn(BaseModel):
    contact_note: str | None = Field(None, description="How to reach them; free text.")
    sex: str | None = Field(None, description="female or male.")
    birth_date: date | None = None


class ScreeningLinkIn(BaseModel):
    screening_id: int = Field(description="Id of a stored screening (POST /api/screenings).")


class ConsentIn(BaseModel):
    consent_date: date = Field(description="The date the participant signed.")
    form_version: str = Field(examples=["v2.1 2025-10-01"])
    obtained_by: str = Field(description="Name of who obtained consent.")


class EnrolmentIn(BaseModel):
    enrolled_on: date
    baseline_weight_kg: float = Field(gt=0, description="Baseline body weight in kg.")
    dose_level: int | None = Field(
        None, description="Override only (investigator): a level other than the design's."
    )
    override_reason: str | None = Field(None, description="Required with an override.")


class WithdrawalIn(BaseModel):
    reason: str


@router.get(
    "",
    summary="Participants, newest first, a page at a time",
    response_model=Page,
    responses=PROBLEMS,
)
def list_participants(
    request: Request,
    account: ClinicalReader,
    limit: int = limit_query(),
    cursor: int | None = cursor_query(),
) -> dict[str, Any]:
    return listed_page(request, account, Participant, where=[], limit=limit, cursor=cursor)


@router.post("", status_code=201, summary="Register a pre-screen contact", responses=PROBLEMS)
def add_participant(request: Request, account: ClinicalWriter, body: ContactIn) -> dict[str, Any]:
    with open_desk(request, account, NEW_CONTACT_CLAIMS) as desk:
        row = register_contact(
            desk.session,
            desk.ctx,
            actor=desk.actor,
            contact_note=body.contact_note,
            sex=body.sex,
            birth_date=body.birth_date,
        )
        return row_document(row)


@router.get(
    "/{participant_id}",
    summary="One participant with consents, enrolment, infusions, AEs and measurements",
    responses=PROBLEMS,
)
def read_participant(
    request: Request, account: ClinicalReader, participant_id: int
) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        return participant_document(desk.session, participant_id)


@router.post(
    "/{participant_id}/screenings",
    status_code=201,
    summary="Link a stored screening (its verdict decides eligibility)",
    responses=PROBLEMS,
)
def add_screening(
    request: Request, account: ClinicalWriter, participant_id: int, body: ScreeningLinkIn
) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        link_screening(desk.session, desk.ctx, participant_id, body.screening_id, actor=desk.actor)
        return participant_document(desk.session, participant_id)


@router.post(
    "/{participant_id}/consents",
    status_code=201,
    summary="Record written informed consent",
    responses=PROBLEMS,
)
def add_consent(
    request: Request, account: ClinicalWriter, participant_id: int, body: ConsentIn
) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        row = record_consent(
            desk.session,
            desk.ctx,
            participant_id,
            consent_date=body.consent_date,
            form_version=body.form_version,
            obtained_by=body.obtained_by,
            actor=desk.actor,
        )
        return row_document(row)


@router.post(
    "/{participant_id}/enrolment",
    status_code=201,
    summary="Enrol at the design's level (the interlocks may refuse, with the reason)",
    responses=PROBLEMS,
)
def add_enrolment(
    request: Request, account: ClinicalWriter, participant_id: int, body: EnrolmentIn
) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        row = enrol(
            desk.session,
            desk.ctx,
            participant_id,
            enrolled_on=body.enrolled_on,
            baseline_weight_kg=body.baseline_weight_kg,
            actor=desk.actor,
            dose_level=body.dose_level,
            override_reason=body.override_reason,
        )
        person = get_participant(desk.session, participant_id)
        return row_document(row, study_id=person.study_id)


@router.post(
    "/{participant_id}/withdrawal",
    summary="Withdraw the participant (records stay)",
    responses=PROBLEMS,
)
def add_withdrawal(
    request: Request, account: ClinicalWriter, participant_id: int, body: WithdrawalIn
) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        row = withdraw(desk.session, desk.ctx, participant_id, reason=body.reason, actor=desk.actor)
        return row_document(row)


def participant_document(session: Session, participant_id: int) -> dict[str, Any]:
    """The participant and every record of theirs (voided ones included, marked)."""
    person = get_participant(session, participant_id)

    def rows(model: Any, order: str = "id") -> list[dict[str, Any]]:
        found = rows_of(session, model, participant_id, order_by=(order,))
        return [row_document(row) for row in found]

    events = rows(AdverseEvent)
    assessments = {
        row.adverse_event_id: row_document(row)
        for row in dlt_assessments_of(session, participant_id)
    }
    for event in events:
        event["dlt"] = assessments.get(event["id"])
    return row_document(
        person,
        screenings=[row["screening_id"] for row in rows(ParticipantScreening)],
        consents=rows(Consent),
        enrolment=next(iter(rows(Enrolment)), None),
        infusions=rows(Infusion, "number"),
        adverse_events=events,
        measurements=rows(Measurement, "measured_on"),
    )
