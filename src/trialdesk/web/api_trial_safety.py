"""DLT adjudication, escalation decisions, the desk's status and the DSMB's safety summary."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from trialdesk.store.models import DltAssessment, EscalationDecision
from trialdesk.trial.decisions import (
    SIGNATURE_MEANING,
    compute_decision,
    get_decision,
    sign_decision,
    stored_decision,
)
from trialdesk.trial.desk_status import desk_status
from trialdesk.trial.dlt_review import adjudicate_dlt
from trialdesk.trial.roles import Action
from trialdesk.trial.safety_summary import safety_summary
from trialdesk.web.api_screenings import ProblemRoute
from trialdesk.web.api_trial_common import (
    PROBLEMS,
    ClinicalReader,
    Page,
    Reason,
    cursor_query,
    limit_query,
    listed_page,
    open_desk,
    plain,
    row_document,
)
from trialdesk.web.auth import requires
from trialdesk.web.sessions import Account

router = APIRouter(prefix="/api", tags=["safety and decisions"], route_class=ProblemRoute)
Adjudicator = Annotated[Account, Depends(requires(Action.ADJUDICATE_DLT))]
Computer = Annotated[Account, Depends(requires(Action.COMPUTE_DECISION))]
Signer = Annotated[Account, Depends(requires(Action.SIGN_DECISION))]
Board = Annotated[Account, Depends(requires(Action.READ_SAFETY_SUMMARY))]


class SignatureIn(BaseModel):
    password: str = Field(description="Your own password again (electronic signature).")
    meaning: str = Field(SIGNATURE_MEANING, description="What the signature means.")


@router.get("/dlt-assessments", summary="DLT assessments (candidates first)", responses=PROBLEMS)
def list_assessments(
    request: Request,
    account: ClinicalReader,
    status: str | None = Query(None, description="candidate, confirmed or rejected."),
) -> list[dict[str, Any]]:
    with open_desk(request, account) as desk:
        statement = select(DltAssessment).order_by(DltAssessment.id)
        if status is not None:
            statement = statement.where(DltAssessment.status == status)
        return [row_document(row) for row in desk.session.scalars(statement)]


def _adjudicate(
    request: Request, account: Account, assessment_id: int, confirm: bool, why: str
) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        row = adjudicate_dlt(
            desk.session,
            assessment_id,
            confirm=confirm,
            reason=why,
            actor=desk.actor,
            clock=desk.ctx.clock,
        )
        return row_document(row)


@router.post(
    "/dlt-assessments/{assessment_id}/confirm",
    summary="Confirm a candidate DLT (investigator), with the reason",
    responses=PROBLEMS,
)
def confirm(
    request: Request, account: Adjudicator, assessment_id: int, body: Reason
) -> dict[str, Any]:
    return _adjudicate(request, account, assessment_id, True, body.reason)


@router.post(
    "/dlt-assessments/{assessment_id}/reject",
    summary="Reject a candidate DLT (investigator), with the reason",
    responses=PROBLEMS,
)
def reject(
    request: Request, account: Adjudicator, assessment_id: int, body: Reason
) -> dict[str, Any]:
    return _adjudicate(request, account, assessment_id, False, body.reason)


def _decision(row: EscalationDecision) -> dict[str, Any]:
    return row_document(row, decision=stored_decision(row))


@router.get(
    "/decisions",
    summary="Escalation decisions, newest first, a page at a time",
    response_model=Page,
    responses=PROBLEMS,
)
def list_decisions(
    request: Request,
    account: ClinicalReader,
    limit: int = limit_query(),
    cursor: int | None = cursor_query(),
) -> dict[str, Any]:
    return listed_page(
        request,
        account,
        EscalationDecision,
        where=[],
        limit=limit,
        cursor=cursor,
        document=_decision,
    )


@router.post(
    "/decisions/compute",
    status_code=201,
    summary="Compute the design's decision for the current cohort (refused, with the reason, "
    "while it cannot decide yet)",
    responses=PROBLEMS,
)
def compute(request: Request, account: Computer) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        return _decision(compute_decision(desk.session, desk.ctx, actor=desk.actor))


@router.get("/decisions/{decision_id}", summary="One decision", responses=PROBLEMS)
def read_decision(request: Request, account: ClinicalReader, decision_id: int) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        return _decision(get_decision(desk.session, decision_id))


@router.post(
    "/decisions/{decision_id}/sign",
    summary="Sign a computed decision (investigator; password again)",
    responses=PROBLEMS,
)
def sign(request: Request, account: Signer, decision_id: int, body: SignatureIn) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        row = sign_decision(
            desk.session,
            desk.ctx,
            decision_id,
            username=desk.actor,
            password=body.password,
            meaning=body.meaning,
        )
        return _decision(row)


@router.get(
    "/status",
    summary="The desk today: level and cohort, DLT windows, infusions due, SAE clocks, "
    "adjudications and decisions pending",
    responses=PROBLEMS,
)
def status(request: Request, account: ClinicalReader) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        found: dict[str, Any] = plain(desk_status(desk.session, desk.ctx))
        return found


@router.get(
    "/safety-summary",
    summary="Aggregate safety per dose level (what the DSMB sees; no participant data)",
    responses=PROBLEMS,
)
def safety(request: Request, account: Board) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        found: dict[str, Any] = plain(safety_summary(desk.session, desk.ctx))
        return found
