"""Participant pages: the list with the pre-screen contact form, and one participant's page
with the timeline, the forms for consent, enrolment, infusions, visits and medication, and the
audit trail. Adverse events and DLT adjudication are in :mod:`.pages_adverse_events`.

Every post calls one use-case; its refusal shows the same page again with the form as typed.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from datetime import tzinfo
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from trialdesk.clinical.analytes import ANALYTES
from trialdesk.errors import TrialdeskError
from trialdesk.store.models import DOSE_UNITS, SEXES, Infusion, Participant
from trialdesk.store.session import Claim
from trialdesk.trial.adverse_events import ACTIONS, OUTCOMES
from trialdesk.trial.context import TrialContext
from trialdesk.trial.dlt import Attribution
from trialdesk.trial.enrolment import enrol
from trialdesk.trial.follow_up import (
    LAB_PREFIX,
    MEASURES,
    record_concomitant_medication,
    record_measurement,
)
from trialdesk.trial.infusions import (
    correct_infusion,
    record_infusion,
    record_missed_infusion,
    schedule_infusions,
)
from trialdesk.trial.lookup import get_row, site_zone
from trialdesk.trial.participants import NEW_CONTACT_CLAIMS, record_consent, register_contact
from trialdesk.trial.records import check_version
from trialdesk.trial.sae import SaeCriterion
from trialdesk.web import form_fields as f
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
from trialdesk.web.participant_view import (
    ae_form_values,
    known_term,
    measurement_form_values,
    medication_form_values,
    read_participant,
)
from trialdesk.web.sessions import Account

router = APIRouter(include_in_schema=False)
PageAccount = Annotated[Account, Depends(page_account)]
Write = Callable[[Session, TrialContext], object]
AUDIT_LINES_SHOWN = 50
"""The participant page shows this many of the newest audit entries; ``?audit=all`` all."""


@router.get("/desk/participants")
def participants(request: Request, account: PageAccount) -> Response:
    return show_list(request, account, FormState())


def show_list(request: Request, account: Account, state: FormState) -> Response:
    if (refusal := read_refusal(request, account)) is not None:
        return refusal
    with desk_session(request) as (session, _):
        rows = list(session.scalars(select(Participant).order_by(Participant.id.desc())))
        return render(
            request,
            account,
            "desk/participants.html",
            {"rows": rows, "state": state.of("contact"), "sexes": SEXES},
            status=status_of(state),
        )


@router.post("/desk/participants")
async def add_contact(request: Request, account: PageAccount) -> Response:
    values = form_values(await request.form())
    try:
        with desk_session(request, NEW_CONTACT_CLAIMS) as (session, ctx):
            person = register_contact(
                session,
                ctx,
                actor=account.username,
                contact_note=f.text(values, "contact_note"),
                sex=f.text(values, "sex"),
                birth_date=f.day(values, "birth_date", optional=True),
            )
            new_id = person.id
    except TrialdeskError as exc:
        state = refused(exc, values, "contact")
        response = show_list(request, account, state)
        response.status_code = status_of(state, exc)
        return response
    return RedirectResponse(f"/desk/participants/{new_id}", status_code=303)


@router.get("/desk/participants/{participant_id}")
def participant_page(request: Request, account: PageAccount, participant_id: int) -> Response:
    return show_participant(request, account, participant_id, FormState())


def show_participant(
    request: Request, account: Account, participant_id: int, state: FormState, status: int = 200
) -> Response:
    if (refusal := read_refusal(request, account)) is not None:
        return refusal
    lang = page_lang(request)
    whole_audit = request.query_params.get("audit") == "all"
    with desk_session(request) as (session, ctx):
        view = read_participant(
            session, ctx, participant_id, audit_limit=None if whole_audit else AUDIT_LINES_SHOWN
        )
        return render(
            request,
            account,
            "desk/participant.html",
            {
                "v": view,
                "state": state,
                # Only this record's correction or void form is drawn (see the template).
                "edit": request.query_params.get("edit", "")[:80],
                "known_term": known_term,
                "infusion_form_values": lambda row: infusion_form_values(row, site_zone(ctx.clock)),
                "form_state": FormState,
                "ae_form_values": ae_form_values,
                "measurement_form_values": measurement_form_values,
                "medication_form_values": medication_form_values,
                "today": ctx.clock.today().isoformat(),
                "now_local": ctx.clock.now()
                .astimezone(site_zone(ctx.clock))
                .strftime("%Y-%m-%dT%H:%M"),
                "consent_form_version": ctx.protocol.conduct.consent_form_version or "",
                "visits": [v.id for v in ctx.protocol.schedule.visits]
                if ctx.protocol.schedule
                else [],
                "measures": measure_options(lang),
                "dose_units": DOSE_UNITS,
                "attributions": [(a.value, a.text(lang)) for a in Attribution],
                "actions": [(k, v[1] if lang == "zh" else v[0]) for k, v in ACTIONS.items()],
                "outcomes": [(k, v[1] if lang == "zh" else v[0]) for k, v in OUTCOMES.items()],
                "sae_criteria": [
                    (c.value, c.text_zh if lang == "zh" else c.text_en) for c in SaeCriterion
                ],
            },
            status=status,
        )


def write(
    request: Request,
    account: Account,
    participant_id: int,
    form: str,
    values: Mapping[str, str],
    action: Write,
    anchor: str,
    claims: Collection[Claim] | None = None,
) -> Response:
    """Run ``action`` in one unit of work (a narrow writer's with ``claims``); on refusal show
    the page again with ``values``."""
    try:
        with desk_session(request, claims) as (session, ctx):
            action(session, ctx)
    except TrialdeskError as exc:
        state = refused(exc, values, form)
        return show_participant(request, account, participant_id, state, status_of(state, exc))
    return RedirectResponse(f"/desk/participants/{participant_id}#{anchor}", status_code=303)


@router.post("/desk/participants/{participant_id}/consent")
async def consent(request: Request, account: PageAccount, participant_id: int) -> Response:
    values = form_values(await request.form())

    def action(session: Session, ctx: TrialContext) -> object:
        return record_consent(
            session,
            ctx,
            participant_id,
            consent_date=f.required_day(values, "consent_date"),
            form_version=values.get("form_version", ""),
            obtained_by=values.get("obtained_by", ""),
            actor=account.username,
        )

    return write(request, account, participant_id, "consent", values, action, "consent")


@router.post("/desk/participants/{participant_id}/enrolment")
async def enrolment(request: Request, account: PageAccount, participant_id: int) -> Response:
    values = form_values(await request.form())

    def action(session: Session, ctx: TrialContext) -> object:
        return enrol(
            session,
            ctx,
            participant_id,
            enrolled_on=f.required_day(values, "enrolled_on"),
            baseline_weight_kg=f.required_number(values, "baseline_weight_kg"),
            actor=account.username,
            dose_level=f.whole(values, "dose_level", optional=True),
            override_reason=f.text(values, "override_reason"),
        )

    return write(request, account, participant_id, "enrol", values, action, "enrolment")


@router.post("/desk/participants/{participant_id}/infusions/schedule")
async def schedule(request: Request, account: PageAccount, participant_id: int) -> Response:
    values = form_values(await request.form())

    def action(session: Session, ctx: TrialContext) -> object:
        return schedule_infusions(
            session,
            participant_id,
            first_on=f.required_day(values, "first_on"),
            protocol=ctx.protocol,
            actor=account.username,
            clock=ctx.clock,
        )

    return write(request, account, participant_id, "schedule", values, action, "infusions")


@router.post("/desk/participants/{participant_id}/infusions")
async def infusion(request: Request, account: PageAccount, participant_id: int) -> Response:
    values = form_values(await request.form())

    def action(session: Session, ctx: TrialContext) -> object:
        return record_infusion(
            session,
            participant_id,
            f.required_whole(values, "number"),
            given_at=f.moment(values, "given_at", site_zone(ctx.clock)),
            cells_given=f.required_number(values, "cells_given"),
            product_lot=values.get("product_lot", ""),
            interrupted=f.ticked(values, "interrupted"),
            interruption_note=f.text(values, "interruption_note"),
            reaction_note=f.text(values, "reaction_note"),
            protocol=ctx.protocol,
            actor=account.username,
            clock=ctx.clock,
        )

    return write(request, account, participant_id, "infusion", values, action, "infusions")


@router.post("/desk/participants/{participant_id}/infusions/{infusion_id}/correct")
async def infusion_correction(
    request: Request, account: PageAccount, participant_id: int, infusion_id: int
) -> Response:
    values = form_values(await request.form())

    def action(session: Session, ctx: TrialContext) -> object:
        row = get_row(session, Infusion, infusion_id, "infusion")
        if row.participant_id != participant_id:
            raise TrialdeskError(f"infusion #{infusion_id} is not this participant's", field="id")
        check_version(session, row, f.seen_version(values))
        zone = site_zone(ctx.clock)
        changes: dict[str, object] = {
            "cells_given": f.required_number(values, "cells_given"),
            "product_lot": values.get("product_lot", ""),
            "reaction_note": f.text(values, "reaction_note"),
        }
        given_at = f.moment(values, "given_at", zone)
        if row.given_at is None or given_at != row.given_at.astimezone(zone).replace(
            second=0, microsecond=0
        ):
            changes["given_at"] = given_at
        return correct_infusion(
            session,
            infusion_id,
            changes,
            reason=values.get("reason", ""),
            protocol=ctx.protocol,
            actor=account.username,
            clock=ctx.clock,
        )

    form = f"infusion-correct-{infusion_id}"
    return write(request, account, participant_id, form, values, action, "infusions")


@router.post("/desk/participants/{participant_id}/infusions/missed")
async def missed(request: Request, account: PageAccount, participant_id: int) -> Response:
    values = form_values(await request.form())

    def action(session: Session, ctx: TrialContext) -> object:
        return record_missed_infusion(
            session,
            participant_id,
            f.required_whole(values, "number"),
            reason=values.get("reason", ""),
            protocol=ctx.protocol,
            actor=account.username,
            clock=ctx.clock,
        )

    return write(request, account, participant_id, "missed", values, action, "infusions")


@router.post("/desk/participants/{participant_id}/measurements")
async def measurement(request: Request, account: PageAccount, participant_id: int) -> Response:
    values = form_values(await request.form())

    def action(session: Session, ctx: TrialContext) -> object:
        return record_measurement(
            session,
            participant_id,
            code=f.required(values, "code"),
            value=f.required_number(values, "value"),
            measured_on=f.required_day(values, "measured_on"),
            unit=f.text(values, "unit"),
            visit_id=f.text(values, "visit_id"),
            protocol=ctx.protocol,
            actor=account.username,
            clock=ctx.clock,
        )

    return write(request, account, participant_id, "measurement", values, action, "visits")


@router.post("/desk/participants/{participant_id}/medications")
async def medication(request: Request, account: PageAccount, participant_id: int) -> Response:
    values = form_values(await request.form())

    def action(session: Session, ctx: TrialContext) -> object:
        return record_concomitant_medication(
            session,
            participant_id,
            drug=values.get("drug", ""),
            dose=f.required_number(values, "dose"),
            dose_unit=values.get("dose_unit", ""),
            start_date=f.required_day(values, "start_date"),
            end_date=f.day(values, "end_date", optional=True),
            route=f.text(values, "route"),
            indication=f.text(values, "indication"),
            actor=account.username,
            clock=ctx.clock,
        )

    return write(request, account, participant_id, "medication", values, action, "steroids")


def measure_options(lang: str) -> list[tuple[str, str]]:
    """(code, label) of every follow-up measure, the protocol's measures before the labs."""
    own = [(m.code, m.name_zh if lang == "zh" else m.name_en) for m in MEASURES.values()]
    labs = [(f"{LAB_PREFIX}{a.code}", f"{a.code} ({a.canonical_unit})") for a in ANALYTES]
    return own + labs


def infusion_form_values(row: Infusion, zone: tzinfo) -> dict[str, str]:
    """A given infusion as its correction form's starting values (site time)."""
    return {
        "given_at": row.given_at.astimezone(zone).strftime("%Y-%m-%dT%H:%M")
        if row.given_at
        else "",
        "cells_given": f"{row.cells_given:.4g}" if row.cells_given is not None else "",
        "product_lot": row.product_lot or "",
        "reaction_note": row.reaction_note or "",
    }
