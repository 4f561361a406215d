"""The coordinator's dashboard, ``/desk``: where dose finding stands and today's work.

Everything comes from :func:`trialdesk.trial.desk_status.desk_status` (the same reading as
``trialdesk status``) plus the newest pre-screen contact requests from the public page.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from trialdesk.protocol.summary import summarise
from trialdesk.store.prescreen_contacts import PrescreenContact, recent_contacts
from trialdesk.trial.desk_status import DeskStatus, desk_status
from trialdesk.trial.state import PatientLine
from trialdesk.web.auth import page_account
from trialdesk.web.pages_common import desk_session, page_lang, read_refusal, render
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
                "pid_of": {line.study_id: line.participant_id for line in status.summary.patients},
                "doses": {
                    row.level: row.per_unit
                    for row in summarise(
                        ctx.protocol, weight_kg=None, lang=page_lang(request)
                    ).doses
                },
            },
        )
