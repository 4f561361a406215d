"""A write that waits too long for the write lock answers 503 with Retry-After, saves nothing,
and a second try once the lock is free is saved (SQLite: another connection holds
``BEGIN IMMEDIATE``, as a long write of another process would; any database: another writer
of the same process holds its turn in the process's queue)."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from desk_seed import clock_of
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import func, select, text
from web_accounts import desk_client

from trialdesk.store.accounts import WebSession
from trialdesk.store.models import Participant
from trialdesk.store.session import unit_of_work


def refused_then_saved_on_retry(client: TestClient, busy: Response) -> None:
    """``busy`` (a new contact) was answered 503 with Retry-After and nothing of it was saved;
    sent again once the desk is free, it is saved."""
    assert busy.status_code == 503, busy.text
    assert busy.headers["retry-after"] == "2"
    assert busy.headers["content-type"].startswith("application/problem+json")
    assert "nothing of it was saved" in busy.json()["detail"]
    engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
    with unit_of_work(engine, write=False) as session:
        assert session.scalar(select(func.count()).select_from(Participant)) == 0

    again = client.post("/api/participants", json={"contact_note": "held up"})
    assert again.status_code == 201, again.text


def test_a_write_that_cannot_get_the_lock_in_time_answers_503_and_saves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("trialdesk.store.engine.SQLITE_BUSY_TIMEOUT_MS", 200)
    database = tmp_path / "desk.sqlite3"
    with desk_client(f"sqlite:///{database}", "coord") as client:
        engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
        engine.dispose()  # new connections take the short timeout
        holder = sqlite3.connect(database, isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        try:
            busy = client.post("/api/participants", json={"contact_note": "held up"})
        finally:
            holder.execute("ROLLBACK")
            holder.close()

        refused_then_saved_on_retry(client, busy)


def test_a_write_that_waits_too_long_in_the_process_queue_answers_503_and_saves_nothing(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("trialdesk.store.session.WRITER_QUEUE_TIMEOUT_S", 0.2)
    with desk_client(database_url, "coord") as client:
        engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
        with unit_of_work(engine) as holder:
            holder.execute(text("SELECT 1"))  # a writer that has begun: it holds the turn
            started = time.monotonic()
            busy = client.post("/api/participants", json={"contact_note": "held up"})
            waited = time.monotonic() - started

        assert waited < 5, "answered by the database's timeout, not the process's queue"
        refused_then_saved_on_retry(client, busy)


def test_a_read_is_answered_when_its_session_expiry_cannot_move_because_the_desk_is_busy(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Moving a session's expiry forward (at most once a minute) is a write. When the writers'
    queue is full the request is answered with the session as read, and a later one moves it."""
    monkeypatch.setattr("trialdesk.store.session.WRITER_QUEUE_TIMEOUT_S", 0.2)
    with desk_client(database_url, "coord") as client:
        engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
        clock = clock_of(client)
        clock.advance(minutes=5)  # the session's expiry is due to move

        def last_seen() -> object:
            with unit_of_work(engine, write=False) as session:
                return session.scalar(select(func.max(WebSession.last_seen_at)))

        before = last_seen()
        with unit_of_work(engine) as holder:
            holder.execute(text("SELECT 1"))  # a writer that has begun: it holds the turn
            busy = client.get("/api/participants")
        assert busy.status_code == 200, busy.text
        assert last_seen() == before

        assert client.get("/api/participants").status_code == 200
        assert last_seen() == clock.now()
