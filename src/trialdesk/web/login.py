"""The login and logout pages (English and Simplified Chinese).

The login form is protected against login CSRF by a double-submit token: GET /login sets a
random token in a short-lived cookie and in the form; POST /login accepts only when both match.
After login the CSRF token of the session protects every other form (see :mod:`.auth`).
"""

from __future__ import annotations

import hmac
import secrets
from importlib import resources
from typing import Annotated, Final

from fastapi import APIRouter, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from trialdesk import __version__
from trialdesk.errors import TrialdeskError
from trialdesk.store.session import unit_of_work
from trialdesk.web.auth import SESSION_COOKIE, cookie_secure, optional_account
from trialdesk.web.clock import app_clock
from trialdesk.web.i18n import normalise_lang, translate
from trialdesk.web.logins import (
    MAX_FAILURES,
    WINDOW,
    LoginOutcome,
    LoginThrottled,
    check_credentials,
    log_out,
    record_attempt,
)
from trialdesk.web.sessions import IDLE, LONGEST

LOGIN_CSRF_COOKIE: Final = "trialdesk_login_csrf"

router = APIRouter(include_in_schema=False)
_templates = Jinja2Templates(directory=str(resources.files("trialdesk.web").joinpath("templates")))


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/", lang: str | None = None) -> Response:
    chosen = normalise_lang(lang or request.headers.get("accept-language"))
    notice = None
    if request.query_params.get("ended"):
        notice = translate("You are logged out.", chosen)
    elif request.scope.get("trialdesk.session_expired"):
        notice = translate("Your session has ended; log in again.", chosen)
    return render_login(request, chosen, next_path=next, notice=notice)


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/",
    lang: Annotated[str, Form()] = "en",
) -> Response:
    chosen = normalise_lang(lang)
    expected = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    if not expected or not hmac.compare_digest(expected, csrf_token):
        message = translate("The form was stale; it has been reloaded. Log in again.", chosen)
        return render_login(request, chosen, next_path=next, error=message, status=403)
    outcome = await run_in_threadpool(login_with, request, username, password)
    if outcome.refusal is not None:
        status = 429 if isinstance(outcome.refusal, LoginThrottled) else 401
        response = render_login(
            request,
            chosen,
            next_path=next,
            error=_login_message(outcome.refusal, chosen),
            username=username,
            status=status,
        )
        if isinstance(outcome.refusal, LoginThrottled):
            response.headers["Retry-After"] = str(outcome.refusal.retry_after_seconds)
        return response
    assert outcome.token is not None
    redirect = RedirectResponse(safe_next(next), status_code=303)
    set_session_cookie(request, redirect, outcome.token)
    redirect.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return redirect


@router.post("/logout")
async def logout(request: Request) -> Response:
    """Ends the session (the CSRF token was checked by the middleware) and goes to /login."""
    account = optional_account(request)
    if account is not None:
        runtime = request.app.state.runtime

        def _end() -> None:
            with unit_of_work(runtime.engine) as session:
                log_out(session, account, clock=app_clock(request.app))

        await run_in_threadpool(_end)
    response = RedirectResponse("/login?ended=1", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def login_with(request: Request, username: str, password: str) -> LoginOutcome:
    """One login attempt, committed whatever its outcome (failures count for throttling)."""
    runtime = request.app.state.runtime
    ip = request.client.host if request.client is not None else None
    clock = app_clock(request.app)
    with unit_of_work(runtime.engine, write=False) as session:
        checked = check_credentials(session, username, password, ip=ip, clock=clock)
    if checked.refusal is not None:
        return LoginOutcome(None, None, checked.refusal)
    with unit_of_work(runtime.engine) as session:
        return record_attempt(session, checked, clock=clock)


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(LONGEST.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
    )


def safe_next(target: str) -> str:
    """Only a path on this site (no '//host' or 'http://...'), so login cannot redirect away."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def render_login(
    request: Request,
    lang: str,
    *,
    next_path: str,
    error: str | None = None,
    notice: str | None = None,
    username: str = "",
    status: int = 200,
) -> Response:
    token = secrets.token_urlsafe(24)
    response = _templates.TemplateResponse(
        request,
        "login.html",
        {
            "lang": lang,
            "t": lambda text, **kw: translate(text, lang, **kw),
            "protocol_id": request.app.state.runtime.loaded.protocol.id,
            "version": __version__,
            "login_csrf": token,
            "next_path": safe_next(next_path),
            "error": error,
            "notice": notice,
            "username": username,
            "idle_minutes": int(IDLE.total_seconds() // 60),
        },
        status_code=status,
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
    )
    return response


def _login_message(refusal: TrialdeskError, lang: str) -> str:
    if isinstance(refusal, LoginThrottled):
        minutes = max(1, -(-refusal.retry_after_seconds // 60))
        return translate(
            "Too many failed logins for this user name from this computer. Wait {minutes} "
            "minute(s) and try again, or ask an administrator to reset your password.",
            lang,
            minutes=minutes,
        )
    return translate(
        "The user name or the password is wrong. After {failures} failures, logins pause for "
        "{minutes} minutes.",
        lang,
        failures=MAX_FAILURES,
        minutes=int(WINDOW.total_seconds() // 60),
    )
