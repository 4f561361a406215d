"""Who may reach which route: one declared table for every API route and page of the app.

Each route (method and path as FastAPI declares it) is public, open to any logged-in account,
or open to the roles the role matrix (:data:`trialdesk.trial.roles.MATRIX`) allows an action.
The API routes also say so in their own ``requires(Action)`` dependency and the use-cases check
again; this table is what both are tested against (tests/web/test_authorisation_matrix.py walks
every route of the app, so a route added without a line here fails that test).

:class:`PageAccessMiddleware` enforces the table for the desk pages *before* the page runs: an
anonymous visitor is sent to /login, a role the table refuses gets the 403 page in the role
matrix's words. Without it a page that validates its form before the use-case's role check
would answer a monitor's post with "field required" (400) instead of "not for your role".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from fastapi import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import compile_path
from starlette.types import Receive, Scope, Send

from trialdesk.trial.roles import Action, may
from trialdesk.web.asgi import HttpMiddleware
from trialdesk.web.auth import login_redirect_target, optional_account
from trialdesk.web.pages_common import read_refusal


@dataclass(frozen=True, slots=True)
class Rule:
    """``public`` (anyone, logged in or not), ``account`` (any logged-in role) or ``action``."""

    kind: str
    action: Action | None = None

    def allows(self, role: str | None) -> bool:
        """Whether a caller with ``role`` (None: not logged in) may reach the route."""
        if self.kind == "public":
            return True
        if role is None:
            return False
        return self.action is None or may(role, self.action)

    def __str__(self) -> str:
        return self.action.value if self.action is not None else self.kind


PUBLIC: Final = Rule("public")
ACCOUNT: Final = Rule("account")


def role_may(action: Action) -> Rule:
    return Rule("action", action)


_READ = role_may(Action.READ_CLINICAL)
_WRITE = role_may(Action.WRITE_CLINICAL)
_P = "/desk/participants/{participant_id}"

ROUTE_ACCESS: Final[Mapping[tuple[str, str], Rule]] = {
    # Public: the trial page, its pre-screening forms, the protocol, logging in, operations.
    ("GET", "/"): PUBLIC,
    ("POST", "/prescreen"): PUBLIC,
    ("POST", "/prescreen/contact"): PUBLIC,
    ("GET", "/protocol"): PUBLIC,
    ("GET", "/api/protocol"): PUBLIC,
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,  # without a session it only shows the login page again
    ("POST", "/api/session"): PUBLIC,
    ("GET", "/openapi.json"): PUBLIC,
    ("HEAD", "/openapi.json"): PUBLIC,
    ("GET", "/docs"): PUBLIC,
    ("GET", "/docs/oauth2-redirect"): PUBLIC,
    ("GET", "/redoc"): PUBLIC,
    # The session itself.
    ("GET", "/api/session"): ACCOUNT,
    ("DELETE", "/api/session"): ACCOUNT,
    # API: screening.
    ("POST", "/api/screenings"): role_may(Action.SCREEN),
    ("GET", "/api/screenings"): _READ,
    ("GET", "/api/screenings/{screening_id}"): _READ,
    # API: participants and their records.
    ("GET", "/api/participants"): _READ,
    ("POST", "/api/participants"): _WRITE,
    ("GET", "/api/participants/{participant_id}"): _READ,
    ("POST", "/api/participants/{participant_id}/screenings"): _WRITE,
    ("POST", "/api/participants/{participant_id}/consents"): _WRITE,
    ("POST", "/api/participants/{participant_id}/enrolment"): _WRITE,
    ("POST", "/api/participants/{participant_id}/withdrawal"): _WRITE,
    ("POST", "/api/participants/{participant_id}/infusions/schedule"): _WRITE,
    ("POST", "/api/participants/{participant_id}/infusions/{number}"): _WRITE,
    ("POST", "/api/participants/{participant_id}/infusions/{number}/missed"): _WRITE,
    ("PATCH", "/api/infusions/{infusion_id}"): _WRITE,
    ("POST", "/api/infusions/{infusion_id}/void"): _WRITE,
    ("GET", "/api/adverse-events"): _READ,
    ("POST", "/api/participants/{participant_id}/adverse-events"): _WRITE,
    ("PATCH", "/api/adverse-events/{adverse_event_id}"): _WRITE,
    ("POST", "/api/adverse-events/{adverse_event_id}/void"): _WRITE,
    ("POST", "/api/adverse-events/{adverse_event_id}/reported"): _WRITE,
    ("POST", "/api/participants/{participant_id}/measurements"): _WRITE,
    ("PATCH", "/api/measurements/{measurement_id}"): _WRITE,
    ("POST", "/api/measurements/{measurement_id}/void"): _WRITE,
    # API: safety, decisions, data queries.
    ("GET", "/api/dlt-assessments"): _READ,
    ("POST", "/api/dlt-assessments/{assessment_id}/confirm"): role_may(Action.ADJUDICATE_DLT),
    ("POST", "/api/dlt-assessments/{assessment_id}/reject"): role_may(Action.ADJUDICATE_DLT),
    ("GET", "/api/decisions"): _READ,
    ("POST", "/api/decisions/compute"): role_may(Action.COMPUTE_DECISION),
    ("GET", "/api/decisions/{decision_id}"): _READ,
    ("POST", "/api/decisions/{decision_id}/sign"): role_may(Action.SIGN_DECISION),
    ("GET", "/api/status"): _READ,
    ("GET", "/api/safety-summary"): role_may(Action.READ_SAFETY_SUMMARY),
    ("GET", "/api/queries"): _READ,
    ("POST", "/api/queries"): role_may(Action.OPEN_QUERY),
    ("GET", "/api/queries/{query_id}"): _READ,
    ("POST", "/api/queries/{query_id}/answer"): role_may(Action.ANSWER_QUERY),
    ("POST", "/api/queries/{query_id}/close"): role_may(Action.CLOSE_QUERY),
    # Desk pages.
    ("GET", "/desk"): _READ,
    ("POST", "/desk/contacts/{contact_id}/screening"): _WRITE,
    ("GET", "/desk/screening"): _READ,
    ("POST", "/desk/screening/check"): _READ,  # judges the typed form; stores nothing
    ("POST", "/desk/screening/import"): _READ,  # fills the form from a file; stores nothing
    ("POST", "/desk/screening"): role_may(Action.SCREEN),
    ("GET", "/desk/participants"): _READ,
    ("POST", "/desk/participants"): _WRITE,
    ("GET", _P): _READ,
    ("POST", f"{_P}/consent"): _WRITE,
    ("POST", f"{_P}/enrolment"): _WRITE,  # an override also needs OVERRIDE_ENROLMENT
    ("POST", f"{_P}/infusions/schedule"): _WRITE,
    ("POST", f"{_P}/infusions"): _WRITE,
    ("POST", f"{_P}/infusions/{{infusion_id}}/correct"): _WRITE,
    ("POST", f"{_P}/infusions/missed"): _WRITE,
    ("POST", f"{_P}/measurements"): _WRITE,
    ("POST", f"{_P}/medications"): _WRITE,
    ("POST", f"{_P}/adverse-events"): _WRITE,
    ("POST", f"{_P}/adverse-events/{{event_id}}/correct"): _WRITE,
    ("POST", f"{_P}/adverse-events/{{event_id}}/void"): _WRITE,
    ("POST", f"{_P}/adverse-events/{{event_id}}/reported"): _WRITE,
    ("POST", f"{_P}/dlt/{{assessment_id}}"): role_may(Action.ADJUDICATE_DLT),
    ("POST", f"{_P}/measurements/{{measurement_id}}/correct"): _WRITE,
    ("POST", f"{_P}/measurements/{{measurement_id}}/void"): _WRITE,
    ("POST", f"{_P}/medications/{{medication_id}}/correct"): _WRITE,
    ("POST", f"{_P}/medications/{{medication_id}}/void"): _WRITE,
    ("GET", "/desk/ctcae"): _READ,
    ("GET", "/desk/ctcae/grades"): _READ,
    ("GET", "/desk/decisions"): _READ,
    ("POST", "/desk/decisions/compute"): role_may(Action.COMPUTE_DECISION),
    ("POST", "/desk/decisions/{decision_id}/sign"): role_may(Action.SIGN_DECISION),
    ("GET", "/desk/reports/safety"): role_may(Action.READ_SAFETY_SUMMARY),
    ("GET", "/desk/reports/safety.pdf"): role_may(Action.READ_SAFETY_SUMMARY),
}
"""(method, path as declared on the route) -> who may reach it."""

MOUNT_ACCESS: Final[Mapping[str, Rule]] = {
    "/static": PUBLIC,
    "/static-offline-docs": PUBLIC,
}
"""Mounted file trees (stylesheets, scripts, the API docs' assets): path prefix -> rule."""


def is_page(path: str) -> bool:
    """Desk pages answer a refusal with a page; everything under /api/ with problem+json."""
    return path == "/desk" or path.startswith("/desk/")


@dataclass(frozen=True, slots=True)
class _Compiled:
    method: str
    pattern: re.Pattern[str]
    placeholders: int
    rule: Rule


def _compiled(table: Mapping[tuple[str, str], Rule]) -> list[_Compiled]:
    out = []
    for (method, path), rule in table.items():
        regex, _, _ = compile_path(path)
        out.append(_Compiled(method, regex, path.count("{"), rule))
    # A literal segment beats a placeholder: .../infusions/schedule before .../infusions/{n}.
    return sorted(out, key=lambda entry: entry.placeholders)


_PAGES: Final = _compiled({key: rule for key, rule in ROUTE_ACCESS.items() if is_page(key[1])})


def page_rule(method: str, path: str) -> Rule | None:
    """The declared rule of the desk page answering ``method`` ``path``, if any."""
    for entry in _PAGES:
        if entry.method == method and entry.pattern.match(path):
            return entry.rule
    return None


class PageAccessMiddleware(HttpMiddleware):
    """Refuses a desk page the table does not open to the caller, before the page runs.

    Installed inside the accounts middleware, which has put the account in the scope.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not is_page(scope["path"]):
            await self.app(scope, receive, send)
            return
        rule = page_rule(scope["method"], scope["path"])
        if rule is None or rule.kind == "public":
            await self.app(scope, receive, send)
            return
        response = _refusal(Request(scope, receive), rule)
        if response is None:
            await self.app(scope, receive, send)
            return
        await response(scope, receive, send)


def _refusal(request: Request, rule: Rule) -> Response | None:
    account = optional_account(request)
    if account is None:
        path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(login_redirect_target(path), status_code=303)
    if rule.action is None:
        return None
    return read_refusal(request, account, rule.action)
