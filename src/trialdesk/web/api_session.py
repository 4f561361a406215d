"""`/api/session`: log in and out from a script, with the same accounts and sessions as the pages.

Scripts authenticate with the session cookie: ``POST /api/session`` with a JSON body
``{"username": ..., "password": ...}`` sets the cookie and returns the session's ``csrf_token``;
every later POST, PUT, PATCH or DELETE sends that token in the ``X-CSRF-Token`` header. The
same throttling and audit apply as on the login page.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from trialdesk.store.session import unit_of_work
from trialdesk.web.api_screenings import Problem, ProblemRoute, problem
from trialdesk.web.auth import SESSION_COOKIE, CurrentAccount
from trialdesk.web.clock import app_clock
from trialdesk.web.login import login_with, set_session_cookie
from trialdesk.web.logins import LoginThrottled, log_out
from trialdesk.web.sessions import Account

router = APIRouter(prefix="/api/session", tags=["session"], route_class=ProblemRoute)


class Credentials(BaseModel):
    username: str = Field(max_length=100, examples=["coord"])
    password: str = Field(max_length=1000)


class SessionOut(BaseModel):
    username: str
    display_name: str
    role: str = Field(description="administrator, investigator, coordinator, monitor or dsmb.")
    csrf_token: str = Field(description="Send as the X-CSRF-Token header on unsafe requests.")
    expires_at: datetime = Field(description="When the session ends unless used (UTC).")


def session_document(account: Account) -> dict[str, str]:
    return {
        "username": account.username,
        "display_name": account.display_name,
        "role": account.role,
        "csrf_token": account.csrf_token,
        "expires_at": account.expires_at.isoformat(),
    }


@router.post(
    "",
    summary="Log in; sets the session cookie and returns the CSRF token",
    response_model=SessionOut,
    responses={
        401: {"model": Problem, "description": "Wrong user name or password."},
        415: {"model": Problem, "description": "Body is not JSON."},
        429: {"model": Problem, "description": "Too many failures; see Retry-After."},
    },
)
async def open_session(request: Request, credentials: Credentials) -> Response:
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != "application/json":
        return problem(
            415,
            "send the user name and password as JSON with Content-Type application/json",
            "content-type",
            title="Unsupported media type",
        )
    outcome = await run_in_threadpool(
        login_with, request, credentials.username, credentials.password
    )
    if outcome.refusal is not None:
        if isinstance(outcome.refusal, LoginThrottled):
            response = problem(429, str(outcome.refusal), "username", title="Too many attempts")
            response.headers["Retry-After"] = str(outcome.refusal.retry_after_seconds)
            return response
        return problem(401, str(outcome.refusal), outcome.refusal.field, title="Login refused")
    assert outcome.token is not None and outcome.account is not None
    response = JSONResponse(session_document(outcome.account))
    set_session_cookie(request, response, outcome.token)
    return response


@router.get(
    "",
    summary="Who is logged in, with the session's CSRF token",
    response_model=SessionOut,
    responses={401: {"model": Problem, "description": "No live session."}},
)
def read_session(account: CurrentAccount) -> Response:
    return JSONResponse(session_document(account))


@router.delete(
    "",
    status_code=204,
    summary="Log out (needs the X-CSRF-Token header)",
    responses={401: {"model": Problem, "description": "No live session."}},
)
async def close_session(request: Request, account: CurrentAccount) -> Response:
    runtime = request.app.state.runtime

    def _end() -> None:
        with unit_of_work(runtime.engine) as session:
            log_out(session, account, clock=app_clock(request.app))

    await run_in_threadpool(_end)
    response = Response(status_code=204)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response
