"""The coordinator's dashboard, ``/desk``: where dose finding stands and today's work.

Everything comes from :func:`trialdesk.trial.desk_status.desk_status` (the same reading as
``trialdesk status``) plus the newest pre-screen contact requests from the public page, each
with a form that starts its screening (:mod:`trialdesk.trial.prescreen_intake`) or a link to
the participant it became.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from trialdesk.errors import TrialdeskError
from trialdesk.protocol.summary import per_unit_text
from trialdesk.store.models import Participant
from trialdesk.store.prescreen_contacts import PrescreenContact, recent_contacts
from trialdesk.trial.desk_status import DeskStatus, desk_status
from trialdesk.trial.prescreen_intake import participants_of, start_screening
from trialdesk.trial.state import PatientLine
from trialdesk.web.auth import page_account
from trialdesk.web.pages_common import (
    FormState,
    desk_session,
    read_refusal,
    refused,
    render,
    status_of,
)
from trialdesk.web.sessions import Account

router = APIRouter(include_in_schema=False)
PageAccount = Annotated[Account, Depends(page_account)]
RECENT_CONTACTS = 8


@dataclass(frozen=True, slots=True)
class WindowBar:
    """One patient's DLT window as a bar: how much of it has passed, in percent."""

    line: PatientLine
    length_days: int
    percent: int


def window_bars(status: DeskStatus) -> list[WindowBar]:
    bars: list[WindowBar] = []
    for line in status.summary.patients:
        if line.window_start is None or line.window_end is None:
            bars.append(WindowBar(line, 0, 0))
            continue
        length = max(1, (line.window_end - line.window_start).days)
        passed = 0 if line.window_day is None else min(length, line.window_day)
        bars.append(WindowBar(line, length, round(100 * passed / length)))
    return bars


@router.get("/desk")
def dashboard(request: Request, account: PageAccount) -> Response:
    return show(request, account, FormState())


def show(request: Request, account: Account, state: FormState, code: int = 200) -> Response:
    if (refusal := read_refusal(request, account)) is not None:
        return refusal
    with desk_session(request) as (session, ctx):
        status = desk_status(session, ctx)
        contacts: list[PrescreenContact] = recent_contacts(session, RECENT_CONTACTS)
        return render(
            request,
            account,
            "desk/dashboard.html",
            {
                "status": status,
                "s": status.summary,
                "bars": window_bars(status),
                "contacts": contacts,
                "started": {
                    contact_id: session.get(Participant, person_id)
                    for contact_id, person_id in participants_of(
                        session, [c.id for c in contacts]
                    ).items()
                },
                "state": state.of("contact"),
                "pid_of": {line.study_id: line.participant_id for line in status.summary.patients},
                # Only the doses' texts: the whole protocol summary cost ~1 ms a view.
                "doses": {dose.level: per_unit_text(dose) for dose in ctx.protocol.doses},
            },
            status=code,
        )


@router.post("/desk/contacts/{contact_id}/screening")
def start_contact_screening(request: Request, account: PageAccount, contact_id: int) -> Response:
    """Register the pre-screen contact as a participant and open its screening page."""
    try:
        with desk_session(request) as (session, ctx):
            person_id = start_screening(session, ctx, contact_id, actor=account.username).id
    except TrialdeskError as exc:
        state = refused(exc, {"contact_id": str(contact_id)}, "contact")
        return show(request, account, state, status_of(state, exc))
    return RedirectResponse(f"/desk/screening?participant_id={person_id}", status_code=303)
