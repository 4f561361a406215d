"""/healthz for load balancers: 200 only when the database answers and its schema is the one
this software expects; 503 with the reason when the database is gone or the schema is behind."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from fastapi.testclient import TestClient
from psycopg import sql
from sqlalchemy.engine import make_url

from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import downgrade, head_revision, upgrade_to_head
from trialdesk.web.app import create_app
from trialdesk.web.runtime import Runtime


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(database_url=database_url)) as test_client:
        yield test_client


def test_a_healthy_desk_names_its_schema_revision(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["schema"] == {
        "revision": head_revision(),
        "expected": head_revision(),
        "at_head": True,
    }


def test_a_schema_behind_this_version_is_503_until_upgraded(client: TestClient) -> None:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    downgrade(runtime.engine, "-1")
    behind = client.get("/healthz")
    assert behind.status_code == 503
    assert behind.json()["status"] == "degraded" and behind.json()["database"] == "ok"
    assert behind.json()["schema"]["at_head"] is False
    assert behind.json()["schema"]["revision"] not in (None, head_revision())
    upgrade_to_head(runtime.engine)
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    "gone_url",
    [
        pytest.param("sqlite:////nonexistent-folder-for-healthz/desk.sqlite3", id="sqlite-file"),
        # Port 9 (discard) has no PostgreSQL behind it; the time-out keeps the refusal quick.
        pytest.param("postgresql+psycopg://postgres@127.0.0.1:9/none?connect_timeout=1", id="pg"),
    ],
)
def test_an_unreachable_database_is_503(client: TestClient, gone_url: str) -> None:
    working: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    gone = make_engine(gone_url)
    client.app.state.runtime = Runtime(working.loaded, gone, gone_url, 0)  # type: ignore[attr-defined]
    try:
        response = client.get("/healthz")
    finally:
        client.app.state.runtime = working  # type: ignore[attr-defined]
        gone.dispose()
    assert response.status_code == 503
    assert response.json()["status"] == "degraded"
    assert response.json()["database"] == "unreachable: OperationalError"
    assert response.json()["schema"]["at_head"] is False


@pytest.mark.postgres
def test_a_postgres_database_dropped_under_a_running_desk_is_503(
    postgres_database_url: str,
) -> None:
    with TestClient(create_app(database_url=postgres_database_url)) as client:
        assert client.get("/healthz").status_code == 200
        url = make_url(postgres_database_url)
        name = url.database
        # The server's maintenance database: one cannot drop the database one is connected to.
        maintenance = url.set(drivername="postgresql", database="postgres")
        with psycopg.connect(maintenance.render_as_string(False), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(str(name)))
            )
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"].startswith("unreachable: ")
    assert str(name) not in response.text and "postgres@" not in response.text
