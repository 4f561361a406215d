"""What the signed-in desk pages share: the templates, the language, one unit of work per
request, and turning a use-case's refusal into a page that keeps what was typed.

A page route reads in one unit of work; a form post writes in one and redirects (303) when it
succeeds. When the use-case refuses, the transaction is rolled back and the same page is shown
again, in a fresh read, with the message beside the field it names and every value as typed
(400; 403 when the role matrix refuses). Nothing typed is lost on a slip.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, Final

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from trialdesk import __version__
from trialdesk.errors import TrialdeskError
from trialdesk.markup import superscript_powers
from trialdesk.store.session import Claim, unit_of_work
from trialdesk.trial.context import TrialContext
from trialdesk.trial.records import StaleEdit
from trialdesk.trial.roles import Action, PermissionDenied, check_permitted, may
from trialdesk.web.auth import cookie_secure, csrf_token, writes
from trialdesk.web.clock import app_clock
from trialdesk.web.desk_i18n import desk_translate
from trialdesk.web.i18n import normalise_lang
from trialdesk.web.sessions import Account

LANG_COOKIE: Final = "trialdesk_lang"
templates = Jinja2Templates(directory=str(resources.files("trialdesk.web").joinpath("templates")))
templates.env.filters["powers"] = superscript_powers
# The packaged templates do not change while the server runs: no file check on every render.
templates.env.auto_reload = False


def page_lang(request: Request) -> str:
    """``?lang=`` first, then the language chosen earlier (cookie), then the browser's."""
    chosen = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return normalise_lang(chosen or request.headers.get("accept-language"))


@dataclass
class FormState:
    """A form as typed, and the refusal to show beside its field (if any)."""

    values: Mapping[str, str] = field(default_factory=dict)
    error: str | None = None
    field: str | None = None
    name: str | None = None
    """Which form of the page the values belong to (a page may hold several)."""

    def get(self, key: str, default: str = "") -> str:
        return str(self.values.get(key, default))

    def of(self, name: str) -> FormState:
        """This state if it belongs to form ``name``, else an empty one for that form."""
        return self if self.name == name else FormState(name=name)

    def checked(self, key: str, value: str = "on") -> bool:
        return self.values.get(key) == value


def form_values(form: FormData) -> dict[str, str]:
    """Text fields of a posted form (files and the CSRF token left out)."""
    return {
        key: value
        for key, value in form.multi_items()
        if isinstance(value, str) and key != "csrf_token"
    }


def refused(exc: TrialdeskError, values: Mapping[str, str], name: str) -> FormState:
    """The refusal as the form shows it: beside its field, without repeating the field."""
    message = str(exc)
    if exc.field and message.startswith(f"{exc.field}: "):
        message = message[len(exc.field) + 2 :]
    return FormState(values, message, exc.field, name)


def status_of(state: FormState | None, exc: TrialdeskError | None = None) -> int:
    if exc is not None and isinstance(exc, PermissionDenied):
        return 403
    if exc is not None and isinstance(exc, StaleEdit):
        return 409
    return 400 if state is not None and state.error else 200


@contextmanager
def desk_session(
    request: Request, claims: Collection[Claim] | None = None
) -> Iterator[tuple[Session, TrialContext]]:
    """One unit of work with the trial context: committed on success, rolled back on error.
    ``claims``: what a narrow writer changes (see :mod:`trialdesk.store.session`)."""
    runtime = request.app.state.runtime
    with unit_of_work(runtime.engine, write=writes(request), claims=claims) as session:
        yield (
            session,
            TrialContext.open(
                session, runtime.loaded, app_clock(request.app), runtime.protocol_version_id
            ),
        )


def render(
    request: Request,
    account: Account,
    name: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
) -> Response:
    """A desk page in the request's language, with the account, its CSRF token and ``may``."""
    lang = page_lang(request)
    runtime = request.app.state.runtime
    response: HTMLResponse = templates.TemplateResponse(
        request,
        name,
        {
            "lang": lang,
            "t": lambda text, **kw: desk_translate(text, lang, **kw),
            "account": account,
            "csrf_token": csrf_token(request),
            "may": lambda action: may(account.role, Action(action)),
            "protocol_id": runtime.loaded.protocol.id,
            "version": __version__,
            "path": request.url.path,
            "pairs": lambda items: [(str(item), str(item)) for item in items],
            **context,
        },
        status_code=status,
    )
    if request.query_params.get("lang"):
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 86400,
            path="/",
            httponly=True,  # read by the server only (desk.js never reads a cookie)
            samesite="lax",
            secure=cookie_secure(request),
        )
    return response


def read_refusal(
    request: Request, account: Account, action: Action = Action.READ_CLINICAL
) -> Response | None:
    """A page saying the role may not do ``action`` (403; by default read clinical data), or
    None when it may."""
    try:
        check_permitted(account.username, account.role, action)
    except PermissionDenied as exc:
        return render(request, account, "desk/refused.html", {"why": str(exc)}, status=403)
    return None
