"""Engines configured for trialdesk: SQLite with foreign keys and WAL, PostgreSQL with pre-ping."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.pool import StaticPool

from trialdesk.store.config import validate_database_url

SQLITE_BUSY_TIMEOUT_MS = 10_000
POOL_SIZE = 20
"""Connections kept open per process. The web server runs up to 40 requests at once in threads;
a smaller pool closed every connection beyond it after each use, and PostgreSQL then started a
new backend process for nearly every request under load."""
POOL_OVERFLOW = 20


def make_engine(url: str) -> Engine:
    """An engine for ``url`` that is safe to share between the threads of a web server."""
    validate_database_url(url, source="database URL")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url, in_memory=parsed.database in (None, "", ":memory:"))
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


def _sqlite_engine(url: str, *, in_memory: bool) -> Engine:
    options: dict[str, Any] = {"connect_args": {"check_same_thread": False}}
    if in_memory:
        # One shared connection, otherwise every pooled connection would see its own empty DB.
        options["poolclass"] = StaticPool
    else:
        options.update(pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    engine = create_engine(url, **options)

    @event.listens_for(engine, "connect")
    def _configure(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            if not in_memory:
                # Readers do not block the writer: pages keep loading while a form is saved.
                cursor.execute("PRAGMA journal_mode = WAL")
                # FULL: a commit is on disk before the desk says "saved", so an acknowledged
                # entry survives a power cut too (NORMAL only survives the process dying).
                cursor.execute("PRAGMA synchronous = FULL")
        finally:
            cursor.close()

    return engine
