"""Fixtures shared by every test layer: an isolated TRIALDESK_HOME and databases on both backends.

``database_url`` runs a test once on a fresh SQLite file and once on a fresh, uniquely named
PostgreSQL database (dropped afterwards). PostgreSQL is expected at 127.0.0.1:5432 as user
``postgres`` with trust authentication (override the admin URL with TRIALDESK_TEST_POSTGRES_URL).
When it is unreachable its tests skip, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import upgrade_to_head

POSTGRES_ADMIN_URL_ENV = "TRIALDESK_TEST_POSTGRES_URL"
DEFAULT_POSTGRES_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"

_session_home: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Before anything is imported or started: never let a test see the user's own data."""
    global _session_home
    _session_home = tempfile.mkdtemp(prefix="trialdesk-test-home-")
    os.environ["TRIALDESK_HOME"] = _session_home
    os.environ.pop("TRIALDESK_DATABASE_URL", None)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _session_home is not None:
        shutil.rmtree(_session_home, ignore_errors=True)


@pytest.fixture(autouse=True)
def isolated_trialdesk_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets its own empty TRIALDESK_HOME and no TRIALDESK_DATABASE_URL."""
    monkeypatch.setenv("TRIALDESK_HOME", str(tmp_path / "trialdesk-home"))
    monkeypatch.delenv("TRIALDESK_DATABASE_URL", raising=False)
    yield


@pytest.fixture(autouse=True)
def restored_logging() -> Iterator[None]:
    """Tests that build the app from the environment configure logging for the whole process
    (trialdesk.logs); put every logger back so the next test's output is not changed by it."""
    loggers = [logging.getLogger()] + [
        found
        for found in logging.Logger.manager.loggerDict.values()
        if isinstance(found, logging.Logger)
    ]
    saved = [
        (logger, list(logger.handlers), list(logger.filters), logger.level, logger.propagate)
        for logger in loggers
    ]
    yield
    for logger, handlers, filters, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.filters[:] = filters
        logger.setLevel(level)
        logger.propagate = propagate


def postgres_admin_url() -> str:
    """A libpq URL for a role that may create databases (psycopg spelling, no +driver)."""
    return os.environ.get(POSTGRES_ADMIN_URL_ENV) or DEFAULT_POSTGRES_ADMIN_URL


@cache
def _postgres_unreachable_reason() -> str | None:
    """None when PostgreSQL answers; else why not (checked once per test run)."""
    try:
        with psycopg.connect(postgres_admin_url(), connect_timeout=3, autocommit=True) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return first_line
    return None


def require_postgres() -> None:
    """Skip (or, under CI=true, fail) when the PostgreSQL server is not reachable."""
    reason = _postgres_unreachable_reason()
    if reason is None:
        return
    where = make_url(postgres_admin_url()).render_as_string(hide_password=True)
    if os.environ.get("CI") == "true":
        pytest.fail(
            f"CI=true but PostgreSQL is not reachable at {where} ({reason}); start it "
            f"(pg_isready -h 127.0.0.1) or point {POSTGRES_ADMIN_URL_ENV} at a server",
            pytrace=False,
        )
    parsed = make_url(postgres_admin_url())
    pytest.skip(
        f"PostgreSQL not reachable at {parsed.host}:{parsed.port or 5432} ({reason}); "
        "these tests run in CI"
    )


@pytest.fixture
def postgres_database_url() -> Iterator[str]:
    """A fresh, uniquely named PostgreSQL database for one test, dropped afterwards."""
    require_postgres()
    admin = postgres_admin_url()
    name = f"td_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = make_url(admin).set(drivername="postgresql+psycopg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@pytest.fixture
def sqlite_database_url(tmp_path: Path) -> str:
    """A SQLite file of its own for one test."""
    return f"sqlite:///{tmp_path / 'test.sqlite3'}"


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgresql", id="postgresql", marks=pytest.mark.postgres),
    ]
)
def database_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each backend in turn (not migrated; see ``engine``)."""
    name = "sqlite_database_url" if request.param == "sqlite" else "postgres_database_url"
    return str(request.getfixturevalue(name))


@contextmanager
def migrated_engine(url: str) -> Iterator[Engine]:
    """An engine on ``url`` with the schema at the newest migration, disposed of afterwards."""
    created = make_engine(url)
    upgrade_to_head(created)
    try:
        yield created
    finally:
        created.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    """An engine on ``database_url`` with the schema at the newest migration."""
    with migrated_engine(database_url) as created:
        yield created


@pytest.fixture
def postgres_engine(postgres_database_url: str) -> Iterator[Engine]:
    """A migrated PostgreSQL database, for behaviour only PostgreSQL has."""
    with migrated_engine(postgres_database_url) as created:
        yield created


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """A session on the migrated database; whatever the test left uncommitted is rolled back."""
    with Session(engine, expire_on_commit=False) as opened:
        yield opened
        opened.rollback()
