"""Plugs accounts into the app: the session/CSRF middleware, the problem answers for 401, 403,
429 and the login redirect, the login pages, and the trial API routers."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

from trialdesk.trial.records import StaleEdit
from trialdesk.trial.roles import PermissionDenied
from trialdesk.web import (
    api_queries,
    api_session,
    api_trial_participants,
    api_trial_safety,
    api_trial_treatment,
    login,
)
from trialdesk.web.api_screenings import problem
from trialdesk.web.auth import (
    AuthMiddleware,
    LoginRequired,
    NotAuthenticated,
    login_redirect_target,
)
from trialdesk.web.route_access import PageAccessMiddleware


def install_accounts(app: FastAPI) -> None:
    """Everything of accounts and the trial API, in one call from ``create_app``."""
    app.add_middleware(PageAccessMiddleware)  # inside AuthMiddleware: needs the account
    app.add_middleware(AuthMiddleware)
    app.add_exception_handler(NotAuthenticated, _not_authenticated)
    app.add_exception_handler(PermissionDenied, _forbidden)
    app.add_exception_handler(StaleEdit, _conflict)
    app.add_exception_handler(LoginRequired, _to_login)
    for module in (
        login,
        api_session,
        api_trial_participants,
        api_trial_treatment,
        api_trial_safety,
        api_queries,
    ):
        app.include_router(module.router)


async def _not_authenticated(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, NotAuthenticated)
    return problem(401, str(exc), exc.field, title="Not logged in")


async def _forbidden(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, PermissionDenied)
    return problem(403, str(exc), exc.field, title="Not allowed for your role")


async def _conflict(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, StaleEdit)
    return problem(409, str(exc), exc.field, title="Changed since you read it")


async def _to_login(_: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(login_redirect_target(exc.next_path), status_code=303)
