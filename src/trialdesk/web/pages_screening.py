"""The screening page, ``/desk/screening``: a candidate's facts typed into a form laid out by
the protocol, or loaded from a FHIR R4 Bundle or an earlier screening; the criteria checklist
re-checked as the form changes; saved as a stored screening linked to a participant.

Checking is pure (:func:`trialdesk.trial.screening.evaluate_input`); saving is
:func:`trialdesk.trial.screening.screen_and_record` then
:func:`trialdesk.trial.participants.link_screening`, both in one transaction.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from starlette.datastructures import UploadFile

from trialdesk.eligibility.record import RecordError
from trialdesk.eligibility.screening_input import read_screening_input
from trialdesk.errors import TrialdeskError
from trialdesk.protocol import LoadedProtocol
from trialdesk.store.models import Participant
from trialdesk.store.screenings import get_screening
from trialdesk.trial.participants import CLOSED_STATUSES, link_screening, register_contact
from trialdesk.trial.roles import Action, Role, check_permitted
from trialdesk.trial.screening import (
    MAX_INPUT_CHARS,
    Evaluation,
    evaluate_input,
    screen_and_record,
)
from trialdesk.web import form_fields as f
from trialdesk.web.auth import page_account
from trialdesk.web.clock import app_clock
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
from trialdesk.web.screening_form import FormLayout, form_from_record, layout, record_data
from trialdesk.web.sessions import Account

router = APIRouter(include_in_schema=False)
PageAccount = Annotated[Account, Depends(page_account)]
NEW_CONTACT = "new"


def _answerer(account: Account) -> str | None:
    return account.username if account.role == Role.INVESTIGATOR.value else None


def _today(request: Request) -> date:
    return app_clock(request.app).today()


def check(
    loaded: LoadedProtocol,
    form: FormLayout,
    values: Mapping[str, str],
    account: Account,
    today: date,
) -> tuple[Evaluation | None, list[str], str]:
    """Screen what the form says now: the evaluation, or the problems that stop it; and the
    record text that would be stored."""
    try:
        data = record_data(values, form, answerer=_answerer(account), today=today)
        text = json.dumps(data, ensure_ascii=False, indent=1)
        return evaluate_input(loaded, text, on=None, today=today, latest=today), [], text
    except RecordError as exc:
        return None, [f"{where}: {message}" for where, message in exc.problems], ""
    except TrialdeskError as exc:
        return None, [str(exc)], ""


def show(
    request: Request,
    account: Account,
    values: Mapping[str, str],
    state: FormState,
    status: int = 200,
) -> Response:
    if (refusal := read_refusal(request, account)) is not None:
        return refusal
    loaded = request.app.state.runtime.loaded
    form = layout(loaded.protocol)
    today = _today(request)
    evaluation, problems, _ = (
        check(loaded, form, values, account, today) if values else (None, [], "")
    )
    with desk_session(request) as (session, _ctx):
        open_people = list(
            session.scalars(
                select(Participant)
                .where(Participant.status.not_in(CLOSED_STATUSES))
                .order_by(Participant.id.desc())
            )
        )
        return render(
            request,
            account,
            "desk/screening.html",
            {
                "form": form,
                "state": FormState(values, state.error, state.field, "screening"),
                "evaluation": evaluation,
                "problems": problems,
                "criteria": _criteria_texts(loaded, page_lang(request)),
                "participants": open_people,
                "investigator": _answerer(account) is not None,
                "today": today.isoformat(),
                "lang": page_lang(request),
            },
            status=status,
        )


def _criteria_texts(loaded: LoadedProtocol, lang: str) -> dict[str, dict[str, str]]:
    texts: dict[str, dict[str, str]] = {}
    for criterion in loaded.protocol.criteria:
        for cid in criterion.ids:
            texts[cid] = {
                "kind": criterion.kind,
                "text": criterion.text.zh
                if lang == "zh" and criterion.text.zh
                else criterion.text.en,
            }
    return texts


@router.get("/desk/screening")
def screening_page(
    request: Request,
    account: PageAccount,
    participant_id: int | None = None,
    from_screening: int | None = None,
) -> Response:
    values: dict[str, str] = {}
    if from_screening is not None:
        loaded = request.app.state.runtime.loaded
        with desk_session(request) as (session, _):
            stored = get_screening(session, from_screening)
            read = read_screening_input(
                stored.input_text,
                protocol=loaded.protocol,
                screening_date=stored.screening_date,
            )
        values = form_from_record(read.record, layout(loaded.protocol))
        values["screening_date"] = _today(request).isoformat()
    if participant_id is not None:
        values["participant_id"] = str(participant_id)
    values.setdefault("screening_date", _today(request).isoformat())
    return show(request, account, values, FormState())


@router.post("/desk/screening/check")
async def check_partial(request: Request, account: PageAccount) -> Response:
    """The checklist for the form as it is now (the page's live update, or the Check button)."""
    values = form_values(await request.form())
    if request.headers.get("x-desk-partial") != "1":
        return show(request, account, values, FormState())
    loaded = request.app.state.runtime.loaded
    form = layout(loaded.protocol)
    evaluation, problems, _ = check(loaded, form, values, account, _today(request))
    return render(
        request,
        account,
        "desk/screening_checklist.html",
        {
            "evaluation": evaluation,
            "problems": problems,
            "criteria": _criteria_texts(loaded, page_lang(request)),
        },
    )


@router.post("/desk/screening/import")
async def import_bundle(request: Request, account: PageAccount) -> Response:
    """Load a FHIR R4 Bundle (or a screening record file) into the form, keeping the
    judgement answers already given."""
    posted = await request.form()
    values = form_values(posted)
    upload = posted.get("bundle")
    loaded = request.app.state.runtime.loaded
    try:
        if not isinstance(upload, UploadFile) or not upload.filename:
            raise TrialdeskError("choose a FHIR Bundle file (.json) to load", field="bundle")
        raw = await upload.read(MAX_INPUT_CHARS + 1)
        if len(raw) > MAX_INPUT_CHARS:
            raise TrialdeskError("is too large for one patient's record", field="bundle")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise TrialdeskError("is not UTF-8 text; save it as UTF-8", field="bundle") from None
        day = f.day(values, "screening_date", optional=True) or _today(request)
        read = read_screening_input(
            text, protocol=loaded.protocol, screening_date=day, source=upload.filename
        )
    except TrialdeskError as exc:
        return show(request, account, values, refused(exc, values, "screening"), 400)
    imported = form_from_record(read.record, layout(loaded.protocol))
    kept = {k: v for k, v in values.items() if k.startswith("j.") or k == "participant_id"}
    return show(request, account, {**imported, **kept}, FormState())


@router.post("/desk/screening")
async def save(request: Request, account: PageAccount) -> Response:
    values = form_values(await request.form())
    loaded = request.app.state.runtime.loaded
    form = layout(loaded.protocol)
    try:
        check_permitted(account.username, account.role, Action.SCREEN)
        today = _today(request)
        data = record_data(values, form, answerer=_answerer(account), today=today)
        text = json.dumps(data, ensure_ascii=False, indent=1)
        with desk_session(request) as (session, ctx):
            chosen = f.required(values, "participant_id")
            if chosen == NEW_CONTACT:
                person_id = register_contact(
                    session, ctx, actor=account.username, contact_note=f.text(values, "patient_id")
                ).id
            else:
                person_id = int(chosen)
            stored = screen_and_record(
                session,
                loaded=loaded,
                protocol_version_id=ctx.protocol_version_id,
                input_text=text,
                on=None,
                screened_by=account.username,
                clock=ctx.clock,
            )
            link_screening(session, ctx, person_id, stored.id, actor=account.username)
    except TrialdeskError as exc:
        state = refused(exc, values, "screening")
        return show(request, account, values, state, status_of(state, exc))
    except ValueError:
        state = FormState(values, "choose a participant", "participant_id", "screening")
        return show(request, account, values, state, 400)
    return RedirectResponse(f"/desk/participants/{person_id}#timeline", status_code=303)
