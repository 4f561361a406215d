"""Accounts for the web tests: users stored directly, and clients logged in through the API."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import cache

from fastapi.testclient import TestClient

from trialdesk.store.models import User
from trialdesk.store.session import unit_of_work
from trialdesk.trial.clock import ManualClock
from trialdesk.trial.passwords import hash_password
from trialdesk.web.app import create_app

PASSWORD = "correct horse battery"
START = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
"""09:00 in Chengdu; docs/examples/screening-eligible.yaml is screened on 2026-03-10."""
PEOPLE = {
    "admin": "administrator",
    "dr.li": "investigator",
    "coord": "coordinator",
    "mon": "monitor",
    "board": "dsmb",
}


@cache
def _hash() -> str:
    return hash_password(PASSWORD)


def add_people(client: TestClient) -> None:
    """One account per role (see PEOPLE), all with PASSWORD."""
    with unit_of_work(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        for username, role in PEOPLE.items():
            session.add(
                User(
                    username=username,
                    display_name=username.title(),
                    printed_name=f"{username.upper()}, MD" if role == "investigator" else None,
                    role=role,
                    active=True,
                    password_hash=_hash(),
                )
            )


def manual_clock(client: TestClient) -> ManualClock:
    clock = ManualClock(START)
    client.app.state.clock = clock  # type: ignore[attr-defined]
    return clock


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log ``client`` in as ``username`` and make it send the CSRF token; the token."""
    response = client.post("/api/session", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    token: str = response.json()["csrf_token"]
    client.headers["X-CSRF-Token"] = token
    return token


def as_user(client: TestClient, username: str) -> TestClient:
    """A second client on the same app, logged in as ``username`` (its own cookies)."""
    other = TestClient(client.app)
    log_in(other, username)
    return other


@contextmanager
def desk_client(database_url: str, login: str | None = None) -> Iterator[TestClient]:
    """A client on a fresh desk with one account per role (PEOPLE) and a manual clock at START;
    logged in as ``login`` when one is named."""
    with TestClient(create_app(database_url=database_url)) as client:
        add_people(client)
        manual_clock(client)
        if login is not None:
            log_in(client, login)
        yield client
