"""Who a request acts for, and the CSRF check, for every page and API route.

:class:`AuthMiddleware` reads the session cookie once per request and puts the
:class:`~trialdesk.web.sessions.Account` (or None) in the ASGI scope. For a request that carries
a live session cookie and an unsafe method (POST, PUT, PATCH, DELETE) it requires the session's
CSRF token, in the ``X-CSRF-Token`` header or the ``csrf_token`` form field, before any route
runs; so every form is protected, including forms added later.

Routes use the dependencies: :func:`current_account` (401 without a session),
:func:`requires` (403 unless the role matrix allows the action), :func:`optional_account`, and
pages :func:`page_account` (redirect to /login). Templates get the token from
:func:`csrf_token`.
"""

from __future__ import annotations

import hmac
import ipaddress
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Annotated, Any, Final
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from trialdesk.errors import TrialdeskError
from trialdesk.store.session import unit_of_work, waited_too_long
from trialdesk.trial.roles import Action, check_permitted
from trialdesk.web.asgi import HttpMiddleware, header
from trialdesk.web.clock import app_clock
from trialdesk.web.sessions import IDLE, Account, resolve_session, session_for_reading

SESSION_COOKIE: Final = "trialdesk_session"
CSRF_HEADER: Final = "X-CSRF-Token"
CSRF_FIELD: Final = "csrf_token"
SAFE_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SCOPE_ACCOUNT: Final = "trialdesk.account"
SCOPE_EXPIRED: Final = "trialdesk.session_expired"
_FORM_TYPES: Final = ("application/x-www-form-urlencoded", "multipart/form-data")
OWN_FORM_TOKEN_PATHS: Final = frozenset({"/login", "/prescreen", "/prescreen/contact"})
"""Forms that never act for the session and carry a form token of their own (the login form's
double-submit token, the public pre-screening's signed token): a staff member who is logged in
can still use them. Only add a path here when its route ignores the session."""
UNAUTHENTICATED_PREFIXES: Final = ("/static/",)
"""Paths that never act for anyone: no session lookup (a database round trip) for them."""
_LOOPBACK_NAMES: Final = frozenset({"localhost", "testserver"})


class NotAuthenticated(TrialdeskError):
    """No live session (never logged in, logged out, or expired). The API answers 401."""


class LoginRequired(TrialdeskError):
    """A page needs a login; the app redirects to /login and back afterwards."""

    def __init__(self, next_path: str) -> None:
        super().__init__("log in to see this page")
        self.next_path = next_path


class AuthMiddleware(HttpMiddleware):
    """Resolves the session cookie and enforces CSRF on unsafe cookie-authenticated requests."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["path"].startswith(UNAUTHENTICATED_PREFIXES):
            await self.app(scope, receive, send)
            return
        token = _cookie(scope, SESSION_COOKIE)
        account = None
        if token:
            account = await run_in_threadpool(_resolve, scope["app"], token)
            scope[SCOPE_EXPIRED] = account is None
        scope[SCOPE_ACCOUNT] = account
        exempt = scope["path"] in OWN_FORM_TOKEN_PATHS
        if account is None or exempt or scope["method"] in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        body, replay = await _buffered(receive)
        sent = header(scope, CSRF_HEADER) or await _form_token(scope, body)
        if not sent or not hmac.compare_digest(sent, account.csrf_token):
            response = JSONResponse(
                {
                    "title": "Missing or stale security token",
                    "detail": f"{CSRF_FIELD}: this request is made with a login session but "
                    "without its security token; reload the page and submit again (scripts "
                    f"send the csrf_token of POST /api/session as the {CSRF_HEADER} header)",
                    "field": CSRF_FIELD,
                },
                status_code=403,
                media_type="application/problem+json",
            )
            await response(scope, replay, send)
            return
        await self.app(scope, replay, send)


def _resolve(app: ASGIApp, token: str) -> Account | None:
    runtime = app.state.runtime  # type: ignore[attr-defined]
    clock = app_clock(app)
    with unit_of_work(runtime.engine, write=False) as session:
        account, touch_due = session_for_reading(session, token, clock=clock)
    if not touch_due:
        return account
    # Its expiry moves: decide again under the write lock (it may have ended meanwhile).
    try:
        with unit_of_work(runtime.engine) as session:
            return resolve_session(session, token, clock=clock)
    except Exception as exc:
        if not waited_too_long(exc):
            raise
        # The desk is busy writing: this request goes on with the session as it was read, and
        # a later one moves its expiry (it is due for a whole idle period).
        return account


def _cookie(scope: Scope, name: str) -> str | None:
    raw = header(scope, "cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed Cookie header is no session
        return None
    morsel = jar.get(name)
    return morsel.value if morsel is not None and morsel.value else None


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """The whole request body, and a ``receive`` that hands it on to the route unchanged."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    delivered = False

    async def replay() -> Message:
        nonlocal delivered
        if delivered:
            return await receive()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    return body, replay


async def _form_token(scope: Scope, body: bytes) -> str | None:
    content_type = (header(scope, "content-type") or "").split(";")[0].strip().lower()
    if content_type not in _FORM_TYPES:
        return None

    async def once() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await StarletteRequest(scope, once).form()
    except Exception:  # an unparsable form carries no token; the refusal says so
        return None
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


# --- Dependencies for routes --------------------------------------------------------------


def optional_account(request: Request) -> Account | None:
    """The logged-in account, or None."""
    account = request.scope.get(SCOPE_ACCOUNT)
    return account if isinstance(account, Account) else None


def current_account(request: Request) -> Account:
    """The logged-in account; 401 (problem+json) without a live session."""
    account = optional_account(request)
    if account is None:
        expired = bool(request.scope.get(SCOPE_EXPIRED))
        raise NotAuthenticated(
            (
                "your session has ended (no use for "
                f"{int(IDLE.total_seconds() // 60)} minutes, or logged out); log in again"
                if expired
                else "log in first: POST /api/session with your user name and password "
                "(or use the login page), then send the session cookie"
            ),
            field="session",
        )
    return account


async def signed_in_account(request: Request) -> Account:
    """The :func:`current_account` dependency (``async``: see :func:`page_account`)."""
    return current_account(request)


CurrentAccount = Annotated[Account, Depends(signed_in_account)]


def requires(action: Action) -> Callable[[Request], Awaitable[Account]]:
    """A dependency: the logged-in account, refused with 403 unless its role may ``action``."""

    async def dependency(request: Request) -> Account:  # async: see page_account
        account = current_account(request)
        check_permitted(account.username, account.role, action)
        return account

    dependency.__name__ = f"requires_{action.value}"
    return dependency


async def page_account(request: Request) -> Account:
    """For pages: the logged-in account, else a redirect to /login that comes back here.

    ``async`` because it only reads the request: FastAPI then runs it on the event loop instead
    of handing it to a worker thread, a hop that under load waits for a free interpreter."""
    account = optional_account(request)
    if account is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(path)
    return account


def writes(request: StarletteRequest) -> bool:
    """Whether the request may change data (so its unit of work takes the write lock)."""
    return request.method not in SAFE_METHODS


def csrf_token(request: Request) -> str:
    """The session's CSRF token for a form's hidden ``csrf_token`` field ('' when logged out)."""
    account = optional_account(request)
    return account.csrf_token if account is not None else ""


def template_auth(request: Request) -> dict[str, Any]:
    """What every signed-in page template needs: ``account`` and ``csrf_token``."""
    return {"account": optional_account(request), "csrf_token": csrf_token(request)}


def login_redirect_target(next_path: str) -> str:
    return f"/login?next={quote(next_path, safe='')}"


def cookie_secure(request: Request) -> bool:
    """Secure cookies, except over plain http to this machine (local use and tests)."""
    if request.url.scheme == "https":
        return True
    host = (request.url.hostname or "").strip("[]")
    if host in _LOOPBACK_NAMES:
        return False
    try:
        return not ipaddress.ip_address(host).is_loopback
    except ValueError:
        return True
