"""Follow-up records on the participant page, corrected or voided with a reason: a measurement
(value, unit, date, visit) and a concomitant medication course (drug, dose, dates, route,
indication). The use-cases refuse a missing reason and a role that may not write clinical data;
the page shows the form again as typed."""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.models import Base, ConcomitantMedication, Measurement
from trialdesk.trial.context import TrialContext
from trialdesk.trial.follow_up import (
    correct_concomitant_medication,
    correct_measurement,
    void_concomitant_medication,
    void_measurement,
)
from trialdesk.trial.lookup import get_row
from trialdesk.trial.records import check_version
from trialdesk.web import form_fields as f
from trialdesk.web.auth import page_account
from trialdesk.web.pages_common import form_values
from trialdesk.web.pages_participants import write
from trialdesk.web.sessions import Account

router = APIRouter(include_in_schema=False)
PageAccount = Annotated[Account, Depends(page_account)]
RowT = TypeVar("RowT", bound=Base)
BASE = "/desk/participants/{participant_id}"


def _own(session: Session, model: type[RowT], row_id: int, participant_id: int, what: str) -> RowT:
    """The record, refused when it is another participant's (a mistyped address)."""
    row = get_row(session, model, row_id, what)
    if getattr(row, "participant_id", None) != participant_id:
        raise TrialdeskError(f"{what} #{row_id} is not this participant's", field="id")
    return row


@router.post(f"{BASE}/measurements/{{measurement_id}}/correct")
async def correct_measurement_page(
    request: Request, account: PageAccount, participant_id: int, measurement_id: int
) -> Response:
    values = form_values(await request.form())

    def action(session: Session, ctx: TrialContext) -> object:
        check_version(
            session,
            _own(session, Measurement, measurement_id, participant_id, "measurement"),
            f.seen_version(values),
        )
        changes: dict[str, object] = {
            "value": f.required_number(values, "value"),
            "unit": f.text(values, "unit"),
            "measured_on": f.required_day(values, "measured_on"),
            "visit_id": f.text(values, "visit_id"),
        }
        return correct_measurement(
            session,
            measurement_id,
            changes,
            reason=values.get("reason", ""),
            protocol=ctx.protocol,
            actor=account.username,
            clock=ctx.clock,
        )

    form = f"measurement-correct-{measurement_id}"
    return write(
        request, account, participant_id, form, values, action, f"measurement-{measurement_id}"
    )


@router.post(f"{BASE}/measurements/{{measurement_id}}/void")
async def void_measurement_page(
    request: Request, account: PageAccount, participant_id: int, measurement_id: int
) -> Response:
    values = form_values(await request.form())

    def action(session: Session, ctx: TrialContext) -> object:
        check_version(
            session,
            _own(session, Measurement, measurement_id, participant_id, "measurement"),
            f.seen_version(values),
        )
        return void_measurement(
            session,
            measurement_id,
            reason=values.get("reason", ""),
            actor=account.username,
            clock=ctx.clock,
        )

    form = f"measurement-void-{measurement_id}"
    return write(
        request, account, participant_id, form, values, action, f"measurement-{measurement_id}"
    )


@router.post(f"{BASE}/medications/{{medication_id}}/correct")
async def correct_medication_page(
    request: Request, account: PageAccount, participant_id: int, medication_id: int
) -> Response:
    values = form_values(await request.form())

    def action(session: Session, ctx: TrialContext) -> object:
        check_version(
            session,
            _own(session, ConcomitantMedication, medication_id, participant_id, "medication"),
            f.seen_version(values),
        )
        changes: dict[str, object] = {
            "drug": values.get("drug", ""),
            "dose": f.required_number(values, "dose"),
            "dose_unit": values.get("dose_unit", ""),
            "start_date": f.required_day(values, "start_date"),
            "end_date": f.day(values, "end_date", optional=True),
            "route": f.text(values, "route"),
            "indication": f.text(values, "indication"),
        }
        return correct_concomitant_medication(
            session,
            medication_id,
            changes,
            reason=values.get("reason", ""),
            actor=account.username,
            clock=ctx.clock,
        )

    form = f"medication-correct-{medication_id}"
    return write(
        request, account, participant_id, form, values, action, f"medication-{medication_id}"
    )


@router.post(f"{BASE}/medications/{{medication_id}}/void")
async def void_medication_page(
    request: Request, account: PageAccount, participant_id: int, medication_id: int
) -> Response:
    values = form_values(await request.form())

    def action(session: Session, ctx: TrialContext) -> object:
        check_version(
            session,
            _own(session, ConcomitantMedication, medication_id, participant_id, "medication"),
            f.seen_version(values),
        )
        return void_concomitant_medication(
            session,
            medication_id,
            reason=values.get("reason", ""),
            actor=account.username,
            clock=ctx.clock,
        )

    form = f"medication-void-{medication_id}"
    return write(
        request, account, participant_id, form, values, action, f"medication-{medication_id}"
    )
