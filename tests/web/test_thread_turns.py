"""An API request waits for a thread from the request pool as few times as it can.

A server process works on a few requests at once (``--threads``, default 8) and every piece of
a request that runs on the pool waits in one first-come queue for a free thread. A request
that needs the pool twice for its route queues again behind every request that arrived
meanwhile, which is where a busy desk's slowest answers came from. So a request takes the pool
once to find its session (the login) and once for its route; FastAPI's check of the returned
document against the route's model runs without another turn (``in_one_thread``).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from typing import Any

import anyio.to_thread
import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from web_accounts import desk_client

from trialdesk.web.app import create_app


@pytest.fixture
def turns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The name of every function run on the request pool from now on."""
    taken: list[str] = []
    run_sync = anyio.to_thread.run_sync

    async def counted(function: Any, *args: Any, **kwargs: Any) -> Any:
        taken.append(getattr(function, "__qualname__", type(function).__name__))
        return await run_sync(function, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    return taken


@pytest.fixture
def client(sqlite_database_url: str) -> Iterator[TestClient]:
    with desk_client(sqlite_database_url, "coord") as signed_in:
        yield signed_in


def test_reading_and_writing_through_the_api_takes_the_pool_twice(
    client: TestClient, turns: list[str]
) -> None:
    contact = client.post("/api/participants", json={"contact_note": "by phone"})
    assert contact.status_code == 201, contact.text
    participant = contact.json()["id"]
    requests = [
        lambda: client.get("/api/participants"),
        lambda: client.get(f"/api/participants/{participant}"),
        lambda: client.get("/api/adverse-events"),
        lambda: client.post("/api/participants", json={"contact_note": "walk-in"}),
    ]
    for send in requests:
        turns.clear()
        answer = send()
        assert answer.status_code < 300, answer.text
        assert len(turns) == 2, f"{answer.request.method} {answer.request.url.path}: {turns}"


def test_every_api_route_function_is_run_by_a_coroutine(sqlite_database_url: str) -> None:
    """So that no route added later brings the second turn back."""
    app = create_app(database_url=sqlite_database_url)
    try:
        plain = [
            route.path
            for route in app.routes
            if isinstance(route, APIRoute)
            and route.path.startswith("/api/")
            and not inspect.iscoroutinefunction(route.endpoint)
        ]
    finally:
        app.state.runtime.close()
    assert plain == []
