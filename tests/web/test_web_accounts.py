"""Logging in and out, sessions that expire, CSRF on every unsafe request, login throttling that
survives a restart, and the audit of logins; on SQLite and PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_accounts import PASSWORD, desk_client, log_in

from trialdesk.store.audit import audit_trail, from_json_text
from trialdesk.store.session import unit_of_work
from trialdesk.web.app import create_app


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with desk_client(database_url) as test_client:
        yield test_client


def _login_form(client: TestClient, lang: str = "en") -> str:
    page = client.get("/login", params={"lang": lang, "next": "/api/session"})
    assert page.status_code == 200
    found = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert found is not None
    return found.group(1)


def test_login_page_in_both_languages_logs_in_and_returns_to_the_page_asked_for(
    client: TestClient,
) -> None:
    zh = client.get("/login", params={"lang": "zh"}).text
    assert 'lang="zh-Hans"' in zh
    assert 'autocomplete="current-password"' in client.get("/login").text
    token = _login_form(client)
    response = client.post(
        "/login",
        data={
            "username": "coord",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "/api/session",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/api/session"
    cookie = response.headers["set-cookie"]
    assert "trialdesk_session=" in cookie
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")
    me = client.get("/api/session").json()
    assert (me["username"], me["role"]) == ("coord", "coordinator")


def test_an_offsite_next_is_not_followed(client: TestClient) -> None:
    token = _login_form(client)
    response = client.post(
        "/login",
        data={
            "username": "coord",
            "password": PASSWORD,
            "csrf_token": token,
            "next": "//evil.example",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/"


def test_the_login_form_without_its_token_is_refused(client: TestClient) -> None:
    response = client.post("/login", data={"username": "coord", "password": PASSWORD})
    assert response.status_code == 403
    assert client.get("/api/session").status_code == 401


def test_csrf_token_is_required_on_every_unsafe_request_with_the_session_cookie(
    client: TestClient,
) -> None:
    token = log_in(client, "coord")
    del client.headers["X-CSRF-Token"]
    refused = client.post("/api/participants", json={"contact_note": "phone"})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "csrf_token" in refused.json()["detail"]
    wrong = client.post(
        "/api/participants", json={"contact_note": "x"}, headers={"X-CSRF-Token": "guess"}
    )
    assert wrong.status_code == 403
    assert client.get("/api/participants").json()["total"] == 0
    # A form field does as well as the header (how the pages send it).
    form_logout = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert form_logout.status_code == 303
    assert client.get("/api/session").status_code == 401


def test_logout_without_the_token_does_not_end_the_session(client: TestClient) -> None:
    log_in(client, "coord")
    del client.headers["X-CSRF-Token"]
    assert client.post("/logout", follow_redirects=False).status_code == 403
    assert client.get("/api/session").status_code == 200


def test_a_session_ends_after_30_idle_minutes_but_lives_while_used(client: TestClient) -> None:
    clock = client.app.state.clock  # type: ignore[attr-defined]
    log_in(client, "coord")
    for _ in range(5):  # used every 20 minutes for 100 minutes
        clock.advance(minutes=20)
        assert client.get("/api/participants").status_code == 200
    clock.advance(minutes=31)
    expired = client.get("/api/participants")
    assert expired.status_code == 401
    assert "session has ended" in expired.json()["detail"]
    assert "log in again" in client.get("/login").text.lower()


def test_no_session_outlives_12_hours(client: TestClient) -> None:
    clock = client.app.state.clock  # type: ignore[attr-defined]
    log_in(client, "coord")
    for _ in range(12 * 3):
        clock.advance(minutes=20)
        client.get("/api/session")
    assert client.get("/api/session").status_code == 401


def test_five_failures_pause_logins_for_that_user_and_address_even_after_a_restart(
    client: TestClient, database_url: str
) -> None:
    clock = client.app.state.clock  # type: ignore[attr-defined]
    for _ in range(5):
        wrong = client.post("/api/session", json={"username": "coord", "password": "nope!"})
        assert wrong.status_code == 401
        assert "password is wrong" in wrong.json()["detail"]
    throttled = client.post("/api/session", json={"username": "coord", "password": PASSWORD})
    assert throttled.status_code == 429
    assert "wait" in throttled.json()["detail"] and int(throttled.headers["Retry-After"]) > 0
    # Another user name from the same address is not paused.
    assert (
        client.post("/api/session", json={"username": "dr.li", "password": PASSWORD}).status_code
        == 200
    )
    # A restarted desk on the same database still remembers the failures.
    with TestClient(create_app(database_url=database_url)) as restarted:
        restarted.app.state.clock = clock  # type: ignore[attr-defined]
        again = restarted.post("/api/session", json={"username": "coord", "password": PASSWORD})
        assert again.status_code == 429
        clock.advance(minutes=16)  # the oldest failure is now more than 15 minutes old
        assert (
            restarted.post(
                "/api/session", json={"username": "coord", "password": PASSWORD}
            ).status_code
            == 200
        )


def test_the_login_page_says_when_logins_are_paused(client: TestClient) -> None:
    for _ in range(5):
        client.post("/api/session", json={"username": "mon", "password": "wrong password"})
    token = _login_form(client, "zh")
    page = client.post(
        "/login",
        data={"username": "mon", "password": PASSWORD, "csrf_token": token, "lang": "zh"},
    )
    assert page.status_code == 429
    assert 'role="alert"' in page.text
    assert "登录失败次数过多" in page.text  # "too many failed logins", in the page's language


def test_logins_failures_and_logouts_are_audited_without_the_password(
    client: TestClient,
) -> None:
    client.post("/api/session", json={"username": "coord", "password": "not it at all"})
    log_in(client, "coord")
    assert client.delete("/api/session").status_code == 204
    with unit_of_work(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        trail = audit_trail(session, "login", "coord")
        results = [from_json_text(entry.new_value)["result"] for entry in trail]
        text = " ".join(entry.new_value + entry.reason for entry in trail)
    assert results == ["failed", "succeeded", "logged out"]
    assert PASSWORD not in text and "not it at all" not in text


def test_without_a_session_the_api_answers_401_with_how_to_log_in(client: TestClient) -> None:
    response = client.get("/api/participants")
    assert response.status_code == 401
    assert "POST /api/session" in response.json()["detail"]
    assert client.post(
        "/api/session",
        content="username=coord",
        headers={"content-type": "application/x-www-form-urlencoded"},
    ).status_code in (400, 415)


def test_a_logged_in_user_can_log_in_again_as_someone_else(client: TestClient) -> None:
    log_in(client, "coord")
    token = _login_form(client)
    response = client.post(
        "/login",
        data={"username": "mon", "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert client.get("/api/session").json()["username"] == "mon"
