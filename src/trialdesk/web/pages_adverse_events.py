"""Adverse events on the participant page: record one (CTCAE v5.0 term looked up as you type,
each grade's text beside its choice), correct or void one with a reason, mark an SAE reported,
and the investigator's DLT adjudication."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from trialdesk.clinical.ctcae import search
from trialdesk.errors import TrialdeskError
from trialdesk.store.models import AdverseEvent
from trialdesk.trial.adverse_events import (
    correct_adverse_event,
    mark_sae_reported,
    new_event_claims,
    record_adverse_event,
    void_adverse_event,
)
from trialdesk.trial.context import TrialContext
from trialdesk.trial.dlt_review import adjudicate_dlt
from trialdesk.trial.lookup import get_row, site_zone
from trialdesk.trial.records import check_version
from trialdesk.web import form_fields as f
from trialdesk.web.auth import page_account
from trialdesk.web.pages_common import form_values, read_refusal, render
from trialdesk.web.pages_participants import write
from trialdesk.web.participant_view import known_term
from trialdesk.web.sessions import Account

router = APIRouter(include_in_schema=False)
PageAccount = Annotated[Account, Depends(page_account)]
SEARCH_LIMIT = 8


async def _posted(request: Request) -> dict[str, str]:
    """The form's fields; the ticked SAE criteria joined by commas (kept as typed on refusal)."""
    form = await request.form()
    values = form_values(form)
    values["serious_criteria"] = ",".join(
        str(v) for v in form.getlist("serious_criteria") if isinstance(v, str)
    )
    return values


def _criteria(values: Mapping[str, str]) -> list[str]:
    return [c for c in values.get("serious_criteria", "").split(",") if c]


@router.post("/desk/participants/{participant_id}/adverse-events")
async def add_adverse_event(
    request: Request, account: PageAccount, participant_id: int
) -> Response:
    values = await _posted(request)

    def action(session: Session, ctx: TrialContext) -> object:
        return record_adverse_event(
            session,
            participant_id,
            term=f.required(values, "term"),
            grade=f.required_whole(values, "grade"),
            onset_date=f.required_day(values, "onset_date"),
            resolution_date=f.day(values, "resolution_date", optional=True),
            serious=f.ticked(values, "serious"),
            serious_criteria=_criteria(values),
            attribution_hdmsc=values.get("attribution_hdmsc", ""),
            attribution_standard=values.get("attribution_standard", ""),
            action_taken=f.text(values, "action_taken"),
            outcome=f.text(values, "outcome"),
            protocol=ctx.protocol,
            actor=account.username,
            clock=ctx.clock,
        )

    return write(
        request,
        account,
        participant_id,
        "ae",
        values,
        action,
        "adverse-events",
        new_event_claims(participant_id),
    )


@router.post("/desk/participants/{participant_id}/adverse-events/{event_id}/correct")
async def correct(
    request: Request, account: PageAccount, participant_id: int, event_id: int
) -> Response:
    values = await _posted(request)

    def action(session: Session, ctx: TrialContext) -> object:
        changes: dict[str, object] = {
            "term": f.required(values, "term"),
            "grade": f.required_whole(values, "grade"),
            "onset_date": f.required_day(values, "onset_date"),
            "resolution_date": f.day(values, "resolution_date", optional=True),
            "serious": f.ticked(values, "serious"),
            "serious_criteria": _criteria(values),
            "attribution_hdmsc": values.get("attribution_hdmsc", ""),
            "attribution_standard": values.get("attribution_standard", ""),
            "action_taken": f.text(values, "action_taken"),
            "outcome": f.text(values, "outcome"),
        }
        check_version(
            session,
            _own_event(session, participant_id, event_id),
            f.seen_version(values),
        )
        return correct_adverse_event(
            session,
            event_id,
            changes,
            reason=values.get("reason", ""),
            protocol=ctx.protocol,
            actor=account.username,
            clock=ctx.clock,
        )

    form = f"ae-correct-{event_id}"
    return write(request, account, participant_id, form, values, action, f"ae-{event_id}")


@router.post("/desk/participants/{participant_id}/adverse-events/{event_id}/void")
async def void(
    request: Request, account: PageAccount, participant_id: int, event_id: int
) -> Response:
    values = form_values(await request.form())

    def action(session: Session, ctx: TrialContext) -> object:
        check_version(
            session,
            _own_event(session, participant_id, event_id),
            f.seen_version(values),
        )
        return void_adverse_event(
            session,
            event_id,
            reason=values.get("reason", ""),
            protocol=ctx.protocol,
            actor=account.username,
            clock=ctx.clock,
        )

    form = f"ae-void-{event_id}"
    return write(request, account, participant_id, form, values, action, f"ae-{event_id}")


@router.post("/desk/participants/{participant_id}/adverse-events/{event_id}/reported")
async def reported(
    request: Request, account: PageAccount, participant_id: int, event_id: int
) -> Response:
    values = form_values(await request.form())

    def action(session: Session, ctx: TrialContext) -> object:
        _own_event(session, participant_id, event_id)
        return mark_sae_reported(
            session,
            event_id,
            reported_at=f.moment(values, "reported_at", site_zone(ctx.clock)),
            protocol=ctx.protocol,
            actor=account.username,
            clock=ctx.clock,
        )

    form = f"ae-report-{event_id}"
    return write(request, account, participant_id, form, values, action, f"ae-{event_id}")


@router.post("/desk/participants/{participant_id}/dlt/{assessment_id}")
async def adjudicate(
    request: Request, account: PageAccount, participant_id: int, assessment_id: int
) -> Response:
    values = form_values(await request.form())

    def action(session: Session, ctx: TrialContext) -> object:
        decision = values.get("decision", "")
        if decision not in ("confirm", "reject"):
            raise TrialdeskError("choose confirm or reject", field="decision")
        return adjudicate_dlt(
            session,
            assessment_id,
            confirm=decision == "confirm",
            reason=values.get("reason", ""),
            actor=account.username,
            clock=ctx.clock,
        )

    form = f"dlt-{assessment_id}"
    return write(request, account, participant_id, form, values, action, "dlt")


def _own_event(session: Session, participant_id: int, event_id: int) -> AdverseEvent:
    """The AE, refused when it is another participant's (a mistyped address)."""
    event = get_row(session, AdverseEvent, event_id, "adverse event")
    if event.participant_id != participant_id:
        raise TrialdeskError(f"adverse event #{event_id} is not this participant's", field="id")
    return event


@router.get("/desk/ctcae")
def ctcae_search(request: Request, account: PageAccount, q: str = "") -> Response:
    """Terms matching the words typed (a partial for the AE form)."""
    if (refusal := read_refusal(request, account)) is not None:
        return refusal
    found = search(q)[:SEARCH_LIMIT] if len(q.strip()) >= 2 else ()
    return render(request, account, "desk/ctcae_results.html", {"terms": found, "q": q})


@router.get("/desk/ctcae/grades")
def ctcae_grades(
    request: Request, account: PageAccount, term_name: str = "", grade: str = "", form: str = "ae"
) -> Response:
    """The chosen term's grades with their texts, as radio choices (a partial)."""
    if (refusal := read_refusal(request, account)) is not None:
        return refusal
    return render(
        request,
        account,
        "desk/ctcae_grades.html",
        {"term": known_term(term_name), "grade": grade, "form": form},
    )
