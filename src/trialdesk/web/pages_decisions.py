"""The decisions page, ``/desk/decisions``: the design's state per dose level, whether it can
decide now and why, the computed decision with its reasoning and the state it was computed
on, the investigator's signature (password re-entered), and every decision made so far with
its signature manifestation."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from trialdesk.design.base import TrialState
from trialdesk.errors import TrialdeskError
from trialdesk.protocol.summary import summarise
from trialdesk.store.models import EscalationDecision
from trialdesk.trial.cohorts import state_from_json
from trialdesk.trial.decisions import (
    SIGNATURE_MEANING,
    compute_decision,
    readiness,
    sign_decision,
    stored_decision,
)
from trialdesk.trial.roles import Action, check_permitted
from trialdesk.trial.signatures import manifest
from trialdesk.trial.state import trial_summary
from trialdesk.web.auth import page_account
from trialdesk.web.pages_common import (
    FormState,
    desk_session,
    form_values,
    page_lang,
    read_refusal,
    refused,
    render,
    status_of,
)
from trialdesk.web.sessions import Account

router = APIRouter(include_in_schema=False)
PageAccount = Annotated[Account, Depends(page_account)]


@dataclass(frozen=True, slots=True)
class DecisionView:
    row: EscalationDecision
    decided: dict[str, Any]
    state: TrialState
    signature: str


@router.get("/desk/decisions")
def decisions_page(request: Request, account: PageAccount) -> Response:
    return show(request, account, FormState())


def show(request: Request, account: Account, state: FormState, status: int = 200) -> Response:
    if (refusal := read_refusal(request, account)) is not None:
        return refusal
    lang = page_lang(request)
    with desk_session(request) as (session, ctx):
        rows = list(
            session.scalars(select(EscalationDecision).order_by(EscalationDecision.id.desc()))
        )
        views = [
            DecisionView(
                row,
                stored_decision(row),
                state_from_json(row.state_json),
                manifest(row, "zh" if lang == "zh" else "en"),
            )
            for row in rows
        ]
        doses = summarise(ctx.protocol, weight_kg=None, lang=lang).doses
        return render(
            request,
            account,
            "desk/decisions.html",
            {
                "s": trial_summary(session, ctx),
                "ready": readiness(session, ctx),
                "open": [v for v in views if v.row.signed_at is None and not v.row.superseded],
                "history": views,
                "doses": {row.level: row.per_unit for row in doses},
                "design": ctx.protocol.design,
                "meaning": SIGNATURE_MEANING,
                "state": state,
            },
            status=status,
        )


@router.post("/desk/decisions/compute")
async def compute(request: Request, account: PageAccount) -> Response:
    values = form_values(await request.form())
    try:
        check_permitted(account.username, account.role, Action.COMPUTE_DECISION)
        with desk_session(request) as (session, ctx):
            compute_decision(session, ctx, actor=account.username)
    except TrialdeskError as exc:
        state = refused(exc, values, "compute")
        return show(request, account, state, status_of(state, exc))
    return RedirectResponse("/desk/decisions#open", status_code=303)


@router.post("/desk/decisions/{decision_id}/sign")
async def sign(request: Request, account: PageAccount, decision_id: int) -> Response:
    values = form_values(await request.form())
    kept = {k: v for k, v in values.items() if k != "password"}  # a password is never echoed
    try:
        with desk_session(request) as (session, ctx):
            sign_decision(
                session,
                ctx,
                decision_id,
                username=account.username,
                password=values.get("password", ""),
            )
    except TrialdeskError as exc:
        state = refused(exc, kept, f"sign-{decision_id}")
        return show(request, account, state, status_of(state, exc))
    return RedirectResponse("/desk/decisions#history", status_code=303)
