"""Every route of the app against the declared access table (trialdesk.web.route_access).

The table says, for each method and path, whether anyone, any logged-in account, or only the
roles the role matrix allows an action may reach it. These tests walk ``app.routes`` (so a route
added without a line in the table fails), then send every route a request as every role and as
nobody, on a seeded trial, and compare allowed/refused with the table. A monitor's attempts to
write leave the clinical tables exactly as they were; the public routes show none of the seeded
participants' identifying data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx2 as httpx
import pytest
from desk_seed import clock_of, enrolled_patient, pneumonitis
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from public_form import stored_contact
from sqlalchemy import text
from starlette.routing import Mount, Route
from web_accounts import PASSWORD, PEOPLE, add_people, log_in, manual_clock

from trialdesk.store.models import ConcomitantMedication
from trialdesk.store.session import unit_of_work
from trialdesk.trial.roles import MATRIX, Action
from trialdesk.web.app import create_app
from trialdesk.web.auth import SESSION_COOKIE
from trialdesk.web.login import LOGIN_CSRF_COOKIE
from trialdesk.web.route_access import MOUNT_ACCESS, ROUTE_ACCESS, Rule, is_page

CLINICAL_TABLES = (
    "participants",
    "screenings",
    "participant_screenings",
    "consents",
    "enrolments",
    "infusions",
    "adverse_events",
    "dlt_assessments",
    "measurements",
    "concomitant_medications",
    "decisions",
    "prescreen_contacts",
)
"""Tables of clinical (and would-be participant) data; none of them a monitor may change."""

ENDS_SESSION = frozenset({("POST", "/logout"), ("DELETE", "/api/session")})
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})

# Distinctive identifying data of the seeded people, looked for on the public routes.
CONTACT_NOTE = "Ward 7 bed 12, Zhu Xiaoyan-Marker"
CONTACT_NAME = "Qiu Zhenyu-Marker"
CONTACT_PHONE = "+86 139 0000 4321"
CONTACT_EMAIL = "qiu.marker@example.org"
INDICATION = "pneumonitis-marker-indication"


def app_route_keys(app: Any) -> tuple[set[tuple[str, str]], set[str]]:
    """(method, path) of every route the app answers, and the prefixes of its mounts."""
    keys: set[tuple[str, str]] = set()
    mounts: set[str] = set()
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, Mount):
            mounts.add(str(context.path))
        elif isinstance(route, APIRoute | Route):
            keys.update((method, str(context.path)) for method in context.methods or ())
        else:
            raise AssertionError(f"a route of an unknown kind: {route!r}")
    return keys, mounts


@pytest.fixture
def bare_app(sqlite_database_url: str) -> Iterator[Any]:
    with TestClient(create_app(database_url=sqlite_database_url)) as client:
        yield client.app


def test_every_route_has_a_declared_rule_and_every_rule_a_route(bare_app: Any) -> None:
    keys, mounts = app_route_keys(bare_app)
    undeclared = sorted(keys - ROUTE_ACCESS.keys())
    assert not undeclared, f"routes without a rule in route_access.ROUTE_ACCESS: {undeclared}"
    assert sorted(ROUTE_ACCESS.keys() - keys) == [], "rules for routes the app does not have"
    assert mounts == set(MOUNT_ACCESS)


def _dependency_names(route: APIRoute) -> set[str]:
    names: set[str] = set()
    pending = list(route.dependant.dependencies)
    while pending:
        dependant = pending.pop()
        if dependant.call is not None:
            names.add(getattr(dependant.call, "__name__", ""))
        pending.extend(dependant.dependencies)
    return names


def test_each_api_route_checks_the_declared_rule_itself(bare_app: Any) -> None:
    """The API's own dependency (``requires(Action)``) says what the table says; every desk
    page needs a login (the table's middleware checks the role before the page runs)."""
    for context in iter_route_contexts(bare_app.routes):
        route = context.original_route
        if not isinstance(route, APIRoute):
            continue
        names = _dependency_names(route)
        checks = {name for name in names if name.startswith("requires_")}
        for method in route.methods or ():
            rule = ROUTE_ACCESS[(method, route.path)]
            where = f"{method} {route.path}"
            if route.path.startswith("/api/"):
                if rule.action is not None:
                    assert checks == {f"requires_{rule.action.value}"}, where
                elif rule.kind == "account":
                    assert not checks and "signed_in_account" in names, where
                else:
                    assert not checks and "signed_in_account" not in names, where
            if is_page(route.path):
                assert rule.kind != "public" and "page_account" in names, where


def test_the_declared_rules_follow_the_role_matrix() -> None:
    """Spot checks against docs/roles.md: who may reach a few routes, in words."""
    reach = {
        key: {r for r in PEOPLE.values() if rule.allows(r)} for key, rule in ROUTE_ACCESS.items()
    }
    assert reach[("POST", "/api/participants/{participant_id}/adverse-events")] == {
        "investigator",
        "coordinator",
    }
    assert reach[("POST", "/api/queries")] == {"monitor"}
    assert reach[("GET", "/api/safety-summary")] == set(PEOPLE.values())
    assert reach[("GET", "/desk")] == {"administrator", "investigator", "coordinator", "monitor"}
    assert reach[("GET", "/api/session")] == set(PEOPLE.values())
    assert Rule("public").allows(None) and not Rule("account").allows(None)
    assert set(MATRIX) == set(Action)


# --- The seeded trial and the requests ------------------------------------------------------


@dataclass
class Desk:
    client: TestClient
    ids: dict[str, int]
    secrets: list[str] = field(default_factory=list)
    """Identifying strings of the seeded people (must never be on a public route)."""
    sessions: dict[str, tuple[str, str]] = field(default_factory=dict)
    """username -> (session cookie, CSRF token)."""


def _seed(client: TestClient) -> Desk:
    add_people(client)
    manual_clock(client)
    pid = enrolled_patient(client, CONTACT_NOTE)
    log_in(client, "coord")
    today = clock_of(client).today().isoformat()
    event = pneumonitis(client, pid, grade=3)
    measured = client.post(
        f"/api/participants/{pid}/measurements",
        json={"code": "spo2", "value": 93, "measured_on": today},
    )
    assert measured.status_code == 201, measured.text
    medication = client.post(
        f"/desk/participants/{pid}/medications",
        data={
            "drug": "prednisone",
            "dose": "30",
            "dose_unit": "mg",
            "start_date": today,
            "indication": INDICATION,
        },
        follow_redirects=False,
    )
    assert medication.status_code == 303, medication.text
    person = client.get(f"/api/participants/{pid}").json()
    assessments = client.get("/api/dlt-assessments").json()
    screenings = client.get("/api/screenings").json()
    monitor = TestClient(client.app)
    log_in(monitor, "mon")
    query = monitor.post(
        "/api/queries",
        json={
            "entity": "adverse_event",
            "entity_id": event["id"],
            "field": "grade",
            "question": "Source says grade 2?",
        },
    )
    assert query.status_code == 201, query.text
    contact_id = stored_contact(
        client, CONTACT_NAME, CONTACT_PHONE, email=CONTACT_EMAIL, language="en"
    )
    with unit_of_work(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        medication_id = session.query(ConcomitantMedication).one().id
    ids = {
        "participant_id": pid,
        "number": 2,
        "infusion_id": person["infusions"][0]["id"],
        "adverse_event_id": event["id"],
        "event_id": event["id"],
        "measurement_id": measured.json()["id"],
        "medication_id": medication_id,
        "assessment_id": _listed(assessments)[0]["id"],
        "screening_id": _listed(screenings)[0]["id"],
        "query_id": query.json()["id"],
        "contact_id": contact_id,
        "decision_id": 1,  # no decision can be computed before the first cohort's windows end
    }
    client.headers.pop("X-CSRF-Token", None)
    client.cookies.clear()
    secrets = [CONTACT_NOTE, CONTACT_NAME, CONTACT_PHONE, CONTACT_EMAIL, INDICATION]
    return Desk(client, ids, [s for s in secrets if s])


def _listed(body: Any) -> list[Any]:
    """The items of a paged list (or the list itself)."""
    items = body["items"] if isinstance(body, dict) else body
    assert isinstance(items, list) and items, body
    return items


def _body(method: str, path: str, desk: Desk) -> dict[str, Any]:
    """A request the allowed roles would act on (so a missing check would write)."""
    today = clock_of(desk.client).today().isoformat()
    now = datetime.now(UTC).isoformat()
    reason = {"reason": "authorisation matrix test"}
    json_bodies: dict[str, Any] = {
        "/api/participants": {"contact_note": "from the matrix test"},
        "/api/participants/{participant_id}/screenings": {"screening_id": desk.ids["screening_id"]},
        "/api/participants/{participant_id}/consents": {
            "consent_date": today,
            "form_version": "1.0",
            "obtained_by": "Dr Li",
        },
        "/api/participants/{participant_id}/enrolment": {
            "enrolled_on": today,
            "baseline_weight_kg": 60,
        },
        "/api/participants/{participant_id}/withdrawal": reason,
        "/api/participants/{participant_id}/infusions/schedule": {"first_on": today},
        "/api/participants/{participant_id}/infusions/{number}": {
            "given_at": now,
            "cells_given": 1e6,
            "product_lot": "LOT-M",
        },
        "/api/participants/{participant_id}/infusions/{number}/missed": reason,
        "/api/infusions/{infusion_id}": {"changes": {"product_lot": "LOT-X"}, **reason},
        "/api/infusions/{infusion_id}/void": reason,
        "/api/participants/{participant_id}/adverse-events": {
            "term": "Fatigue",
            "grade": 1,
            "onset_date": today,
            "attribution_hdmsc": "unlikely",
            "attribution_standard": "unrelated",
        },
        "/api/adverse-events/{adverse_event_id}": {"changes": {"grade": 2}, **reason},
        "/api/adverse-events/{adverse_event_id}/void": reason,
        "/api/adverse-events/{adverse_event_id}/reported": {"reported_at": now},
        "/api/participants/{participant_id}/measurements": {
            "code": "spo2",
            "value": 90,
            "measured_on": today,
        },
        "/api/measurements/{measurement_id}": {"changes": {"value": 91}, **reason},
        "/api/measurements/{measurement_id}/void": reason,
        "/api/dlt-assessments/{assessment_id}/confirm": reason,
        "/api/dlt-assessments/{assessment_id}/reject": reason,
        "/api/decisions/{decision_id}/sign": {"password": PASSWORD},
        "/api/queries": {
            "entity": "adverse_event",
            "entity_id": desk.ids["adverse_event_id"],
            "field": "grade",
            "question": "again?",
        },
        "/api/queries/{query_id}/answer": {"answer": "checked", "corrected_value": 2},
        "/api/queries/{query_id}/close": {"note": "ok"},
    }
    p = "/desk/participants/{participant_id}"
    forms: dict[str, dict[str, str]] = {
        "/desk/participants": {"contact_note": "from the matrix test"},
        f"{p}/consent": {"consent_date": today, "form_version": "1.0", "obtained_by": "Dr Li"},
        f"{p}/measurements": {"code": "spo2", "value": "90", "measured_on": today},
        f"{p}/medications": {
            "drug": "prednisone",
            "dose": "20",
            "dose_unit": "mg",
            "start_date": today,
        },
        f"{p}/adverse-events": {
            "term": "Fatigue",
            "grade": "1",
            "onset_date": today,
            "attribution_hdmsc": "unlikely",
            "attribution_standard": "unrelated",
        },
        f"{p}/adverse-events/{{event_id}}/void": reason,
        f"{p}/measurements/{{measurement_id}}/void": reason,
        f"{p}/medications/{{medication_id}}/void": reason,
        f"{p}/infusions/missed": {"number": "2", **reason},
        "/desk/decisions/{decision_id}/sign": {"password": PASSWORD},
    }
    if method not in UNSAFE:
        return {}
    if path in forms:
        return {"data": forms[path]}
    if path.startswith("/api/"):
        return {"json": json_bodies.get(path, {})}
    return {"data": {}}


def _session(desk: Desk, username: str) -> tuple[str, str]:
    found = desk.sessions.get(username)
    if found is None:
        desk.client.cookies.clear()
        answer = desk.client.post("/api/session", json={"username": username, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        found = (answer.cookies[SESSION_COOKIE], answer.json()["csrf_token"])
        desk.sessions[username] = found
    return found


def send(desk: Desk, username: str | None, method: str, path: str) -> httpx.Response:
    """``method path`` as ``username`` (None: nobody logged in), path ids of seeded rows."""
    client = desk.client
    url = path.format(**desk.ids)
    headers: dict[str, str] = {}
    session = _session(desk, username) if username else None
    client.cookies.clear()
    if session is not None:
        client.cookies.set(SESSION_COOKIE, session[0])
        if method in UNSAFE:
            headers["X-CSRF-Token"] = session[1]
    kwargs = _body(method, path, desk)
    if (method, path) == ("POST", "/login"):
        page = client.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token is not None and client.cookies.get(LOGIN_CSRF_COOKIE)
        kwargs = {"data": {"username": username or "coord", "password": PASSWORD}}
        kwargs["data"]["csrf_token"] = token.group(1)
    if (method, path) == ("POST", "/api/session"):
        kwargs = {"json": {"username": username or "coord", "password": PASSWORD}}
    response = client.request(method, url, headers=headers, follow_redirects=False, **kwargs)
    if username and (method, path) in ENDS_SESSION:
        desk.sessions.pop(username, None)
    return response


def verdict(path: str, response: httpx.Response, *, anonymous: bool) -> str:
    """'allowed', or 'refused' when the answer is the refusal this kind of route gives."""
    status = response.status_code
    location = response.headers.get("location", "")
    if status in (302, 303, 307) and location.startswith("/login?next="):
        return "refused" if is_page(path) and anonymous else "wrong refusal: login redirect"
    if status in (401, 403):
        if is_page(path):
            html = response.headers.get("content-type", "").startswith("text/html")
            if anonymous:
                return "wrong refusal: a page should send nobody to /login"
            return "refused" if status == 403 and html else f"wrong refusal: {status} not a page"
        if path.startswith("/api/") and status != (401 if anonymous else 403):
            return f"wrong refusal: {status}"
        return "refused"
    return "allowed"


CALLERS: tuple[str | None, ...] = ("mon", "board", "admin", None, "coord", "dr.li")
"""The monitor first, while the seeded records are as seeded; the writers last."""


def snapshot(desk: Desk) -> dict[str, list[tuple[Any, ...]]]:
    runtime = desk.client.app.state.runtime  # type: ignore[attr-defined]
    with unit_of_work(runtime.engine) as session:
        return {
            table: [
                tuple(row) for row in session.execute(text(f"SELECT * FROM {table} ORDER BY id"))
            ]
            for table in CLINICAL_TABLES
        }


@pytest.fixture
def desk(database_url: str) -> Iterator[Desk]:
    with TestClient(create_app(database_url=database_url)) as client:
        yield _seed(client)


@pytest.fixture
def sqlite_desk(sqlite_database_url: str) -> Iterator[Desk]:
    """The whole table on SQLite only: about 450 requests, a minute on 2 busy cores (the
    refusals are made before any database work, the same on both backends)."""
    with TestClient(create_app(database_url=sqlite_database_url)) as client:
        yield _seed(client)


def test_every_role_reaches_exactly_the_routes_the_table_opens(sqlite_desk: Desk) -> None:
    desk = sqlite_desk
    keys, _ = app_route_keys(desk.client.app)
    ordered = sorted(keys, key=lambda key: (key in ENDS_SESSION, key[1], key[0]))
    wrong: list[str] = []
    before_monitor = snapshot(desk)
    for username in CALLERS:
        role = PEOPLE[username] if username else None
        for method, path in ordered:
            rule = ROUTE_ACCESS[(method, path)]
            response = send(desk, username, method, path)
            found = verdict(path, response, anonymous=username is None)
            expected = "allowed" if rule.allows(role) else "refused"
            if found != expected:
                wrong.append(
                    f"{role or 'anonymous'} {method} {path} [{rule}]: expected {expected}, "
                    f"got {found} ({response.status_code} {response.text[:120]!r})"
                )
        if username == "mon":
            assert snapshot(desk) == before_monitor, "a monitor's requests changed clinical data"
    assert not wrong, "\n".join(wrong)


def test_a_monitor_never_writes_clinical_data(desk: Desk) -> None:
    """Every unsafe request that touches clinical data is refused for a monitor, and the
    clinical tables are unchanged afterwards; the same requests by a coordinator do write."""
    keys, _ = app_route_keys(desk.client.app)
    writes = sorted(
        (method, path)
        for method, path in keys
        if method in UNSAFE and ROUTE_ACCESS[(method, path)].kind == "action"
    )
    not_writes = {Action.OPEN_QUERY, Action.READ_CLINICAL}  # e.g. checking a typed screening
    clinical_writes = [key for key in writes if ROUTE_ACCESS[key].action not in not_writes]
    closing = [key for key in writes if ROUTE_ACCESS[key].action == Action.CLOSE_QUERY]
    assert len(clinical_writes) > 40  # every write route of the API and the desk
    before = snapshot(desk)
    for method, path in clinical_writes:
        if (method, path) in closing:
            continue  # closing a query is the monitor's own (not clinical data)
        response = send(desk, "mon", method, path)
        assert response.status_code == 403, (method, path, response.status_code, response.text)
    assert snapshot(desk) == before
    runtime = desk.client.app.state.runtime  # type: ignore[attr-defined]
    with unit_of_work(runtime.engine) as session:
        audited = session.execute(
            text("SELECT entity FROM audit_log WHERE actor = 'mon'")
        ).scalars()
        assert set(audited) <= {"login", "data_query"}
    # The requests are real: sent by a coordinator they add and change clinical rows.
    for method, path in clinical_writes:
        send(desk, "coord", method, path)
    after = snapshot(desk)
    for table in ("participants", "infusions", "adverse_events", "measurements"):
        assert after[table] != before[table], table
    assert len(after["concomitant_medications"]) > len(before["concomitant_medications"])


PUBLIC_GETS = sorted(
    path
    for (method, path), rule in ROUTE_ACCESS.items()
    if method == "GET" and rule.kind == "public"
)


def test_public_routes_reveal_no_participant_data(desk: Desk) -> None:
    coordinator_sees = (
        send(desk, "coord", "GET", "/desk").text
        + send(desk, "coord", "GET", "/desk/participants/{participant_id}").text
    )
    for secret in desk.secrets:  # the strings are on the desk, so their absence means something
        assert secret in coordinator_sees or secret == CONTACT_EMAIL, secret
    for method, path in sorted(ROUTE_ACCESS):
        if ROUTE_ACCESS[(method, path)].kind != "public" or (method, path) in ENDS_SESSION:
            continue
        if (method, path) in {("POST", "/login"), ("POST", "/api/session")}:
            continue  # logging in, not a page of data
        answer = send(desk, None, method, path)
        assert answer.status_code < 500, (method, path)
        for secret in desk.secrets:
            assert secret not in answer.text, (method, path, secret)
    for name in ("desk.js", "desk.css", "trialdesk.css", "login.css"):
        answer = desk.client.get(f"/static/{name}")
        assert answer.status_code == 200 and not any(s in answer.text for s in desk.secrets)


def test_a_monitor_sees_a_contact_request_by_number_not_the_persons_details(desk: Desk) -> None:
    """Only the roles that call people back (who may write clinical data) see a pre-screen
    contact's name, phone and e-mail; the monitor and the administrator see the request."""
    for username, shown in (("coord", True), ("dr.li", True), ("mon", False), ("admin", False)):
        page = send(desk, username, "GET", "/desk").text
        assert (CONTACT_NAME in page) is shown, username
        assert (CONTACT_PHONE in page) is shown, username
        assert f"Request {desk.ids['contact_id']}" in page or shown, username
