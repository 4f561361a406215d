"""The public trial page at ``/`` and its pre-screening forms: no login, no session.

GET ``/`` shows the trial in plain words and the questionnaire. POST ``/prescreen`` judges the
answers and shows the result with a contact form carrying the answers. POST
``/prescreen/contact`` judges the answers again (a hidden field is never trusted) and stores a
contact request only when the consent box was ticked. Both posts need a signed form token and a
same-site Origin, and are rate-limited per address.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from trialdesk import __version__
from trialdesk.eligibility.prescreen import PrescreenOutcome, answer_problems, prescreen
from trialdesk.protocol import LoadedProtocol
from trialdesk.protocol.prescreen import Prescreen
from trialdesk.store.prescreen_contacts import NAME_LENGTH, PrescreenContact, add_contact
from trialdesk.store.session import unit_of_work
from trialdesk.trial.clock import Clock
from trialdesk.web.auth import csrf_token
from trialdesk.web.contact_form import read_contact
from trialdesk.web.form_tokens import FormTokenRefused, FormTokens
from trialdesk.web.i18n import normalise_lang, translate
from trialdesk.web.public_page import public_trial
from trialdesk.web.rate_limit import RateLimit

MAX_BODY_BYTES = 16_000
CONSENT_TEXT = (
    "I agree that the study team may contact me about this study by phone or email, "
    "using the details above."
)
PROBLEM_WORDS = {
    "required": "Please answer this question (choose 'Not sure' if you do not know).",
    "choose": "Please choose one of the answers.",
    "not_a_number": "Write a number, e.g. 63.",
    "not_a_date": "Write a date, e.g. 2026-03-01.",
    "future_date": "The date is after today; give a date in the past.",
}


@dataclass
class PublicGuards:
    tokens: FormTokens = field(default_factory=FormTokens)
    answers: RateLimit = field(default_factory=lambda: RateLimit(limit=20, window_s=600))
    contacts: RateLimit = field(default_factory=lambda: RateLimit(limit=5, window_s=3600))


def public_router(
    templates: Jinja2Templates,
    loaded: LoadedProtocol,
    *,
    clock: Callable[[Request], Clock],
    guards: PublicGuards,
) -> APIRouter:
    router = APIRouter(include_in_schema=False)
    questionnaire = loaded.protocol.prescreen

    def page(request: Request, name: str, lang: str, status: int = 200, **extra: Any) -> Any:
        context = {
            "lang": lang,
            "t": lambda text, **kw: translate(text, lang, **kw),
            "protocol_id": loaded.protocol.id,
            "trial": public_trial(loaded.protocol, lang),
            "questions": questionnaire.questions if questionnaire else [],
            "consent_text": CONSENT_TEXT,
            "name_length": NAME_LENGTH,
            "version": __version__,
            # The language links lead to the trial page (a result page answers a post).
            "switch_path": "/",
            # A logged-in staff member's session demands its CSRF token on every post.
            "csrf_token": csrf_token(request),
            **extra,
        }
        return templates.TemplateResponse(request, name, context, status_code=status)

    def language(request: Request, form: Mapping[str, str] | None = None) -> str:
        chosen = (form or {}).get("lang") or request.query_params.get("lang")
        return normalise_lang(chosen or request.headers.get("accept-language"))

    async def guarded_form(request: Request, form_name: str, limit: RateLimit) -> Any:
        """The posted form, or a refusal page (too big, wrong origin, too many, bad token)."""
        lang = language(request)
        if int(request.headers.get("content-length") or 0) > MAX_BODY_BYTES:
            return page(request, "public_refused.html", lang, 413, why="The form is too large.")
        origin = request.headers.get("origin")
        if origin and origin.split("://", 1)[-1] != request.headers.get("host"):
            return page(
                request, "public_refused.html", lang, 403, why="The form came from another site."
            )
        if not limit.allow(request.client.host if request.client else "unknown"):
            return page(
                request,
                "public_refused.html",
                lang,
                429,
                why="Too many attempts from this connection. Please wait and try again later.",
            )
        form = await request.form()
        values = _plain(form)
        lang = language(request, values)
        try:
            guards.tokens.check(values.get("token"), form_name, consume=form_name == "contact")
        except FormTokenRefused as refused:
            why = (
                "The form has expired. Please fill it in again."
                if refused.expired
                else "The form could not be checked. Please open the page again and fill it in."
            )
            return page(request, "public_refused.html", lang, 400, why=why)
        return values

    @router.get("/", response_class=HTMLResponse)
    def home(request: Request) -> Any:
        return page(
            request,
            "public.html",
            language(request),
            answers={},
            errors={},
            token=guards.tokens.issue("answers"),
        )

    @router.post("/prescreen", response_class=HTMLResponse)
    async def answer(request: Request) -> Any:
        values = await guarded_form(request, "answers", guards.answers)
        if not isinstance(values, dict):
            return values
        lang = language(request, values)
        outcome, errors = _judge(questionnaire, values, clock(request))
        if outcome is None:
            return page(
                request,
                "public.html",
                lang,
                422,
                answers=values,
                errors=errors,
                token=guards.tokens.issue("answers"),
            )
        return page(
            request,
            "prescreen_result.html",
            lang,
            outcome=outcome,
            answers=values,
            contact={"preferred_language": lang},
            problems={},
            token=guards.tokens.issue("contact"),
        )

    @router.post("/prescreen/contact", response_class=HTMLResponse)
    async def contact(request: Request) -> Any:
        values = await guarded_form(request, "contact", guards.contacts)
        if not isinstance(values, dict):
            return values
        lang = language(request, values)
        now = clock(request)
        outcome, errors = _judge(questionnaire, values, now)
        if outcome is None:
            return page(
                request,
                "public.html",
                lang,
                422,
                answers=values,
                errors=errors,
                token=guards.tokens.issue("answers"),
            )
        details, problems = read_contact(values)
        if problems:
            return page(
                request,
                "prescreen_result.html",
                lang,
                422,
                outcome=outcome,
                answers=values,
                contact=values,
                problems=problems,
                token=guards.tokens.issue("contact"),
            )
        runtime = request.app.state.runtime
        with unit_of_work(runtime.engine) as session:
            add_contact(
                session,
                PrescreenContact(
                    created_at=now.now(),
                    name=details.name,
                    phone=details.phone,
                    email=details.email,
                    preferred_language=details.preferred_language,
                    answers_json=json.dumps(outcome.answers, sort_keys=True),
                    result=outcome.result,
                    reasons_json=json.dumps([r.question_id for r in outcome.reasons]),
                    consent_to_contact=True,
                    consent_text=translate(CONSENT_TEXT, lang),
                    protocol_version_id=runtime.protocol_version_id,
                ),
            )
        return page(request, "prescreen_thanks.html", lang, outcome=outcome, details=details)

    return router


def _plain(form: FormData) -> dict[str, str]:
    """Text fields only (an uploaded file is ignored), each at most 1000 characters."""
    return {k: v[:1000] for k, v in form.items() if isinstance(v, str)}


def _judge(
    questionnaire: Prescreen | None, values: Mapping[str, str], clock: Clock
) -> tuple[PrescreenOutcome | None, dict[str, str]]:
    """The outcome, or every unreadable answer's problem (as a message id) by question id."""
    if questionnaire is None:
        return None, {"_": "This trial has no pre-screening questionnaire."}
    today = clock.today()
    problems = answer_problems(questionnaire, values, today)
    if problems:
        return None, {qid: PROBLEM_WORDS[p.problem] for qid, p in problems.items()}
    return prescreen(questionnaire, values, today), {}
