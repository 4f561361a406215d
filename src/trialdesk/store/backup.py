"""Backups that are consistent while the desk keeps running, and restores that are all or
nothing.

SQLite: the online backup API copies the database in one read transaction (writers carry on in
WAL mode), into a temporary file that becomes FILE only once it is complete and its audit log
was read. PostgreSQL: ``pg_dump`` in custom format, run on a snapshot exported by the very
transaction that verified the audit log, so the head printed is the head in the file.
Restore replaces the target in one transaction (SQLite backup API; ``pg_restore`` piped into
``psql --single-transaction``).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from trialdesk.store.audit_verify import (
    AuditVerification,
    verify_audit_database,
    verify_audit_log,
)
from trialdesk.store.config import validate_database_url
from trialdesk.store.engine import SQLITE_BUSY_TIMEOUT_MS, make_engine
from trialdesk.store.errors import StoreError
from trialdesk.store.migrate import current_revision

BackupKind = Literal["sqlite", "postgresql"]
SQLITE_HEADER = b"SQLite format 3\x00"
PG_CUSTOM_HEADER = b"PGDMP"
CLIENT_HINT = (
    "install the PostgreSQL client programs of the server's major version "
    "(Debian: apt-get install postgresql-client)"
)


@dataclass(frozen=True, slots=True)
class BackupOutcome:
    """What was written or restored, and the audit log as found in that copy."""

    path: Path
    kind: BackupKind
    size_bytes: int
    audit: AuditVerification


def backup_database(url: str, target: Path) -> BackupOutcome:
    """Write a consistent snapshot of the database at ``url`` to ``target`` (a new file)."""
    validate_database_url(url, source="--database-url")
    if target.exists():
        raise StoreError(
            f"{target} already exists; give a new file name (a backup never overwrites)",
            field="FILE",
        )
    if not target.parent.is_dir():
        raise StoreError(f"the directory {target.parent} does not exist", field="FILE")
    _require_schema(url)
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    try:
        if make_url(url).get_backend_name() == "sqlite":
            kind: BackupKind = "sqlite"
            audit = _sqlite_backup(_sqlite_path(url), partial)
        else:
            kind = "postgresql"
            audit = _postgres_backup(url, partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupOutcome(target, kind, target.stat().st_size, audit)


def restore_database(url: str, source: Path, *, force: bool = False) -> BackupOutcome:
    """Bring the backup ``source`` back into the database at ``url``; a database that already
    has tables is replaced only with ``force``."""
    validate_database_url(url, source="--database-url")
    kind = backup_kind(source)
    backend = make_url(url).get_backend_name()
    if kind != backend:
        raise StoreError(
            f"{source} is a {kind} backup; restore it into a "
            + ("sqlite:///... URL" if kind == "sqlite" else "postgresql+psycopg://... URL"),
            field="--database-url",
        )
    tables = _table_count(url)
    if tables and not force:
        raise StoreError(
            f"the target database already has {tables} table(s); restore into an empty "
            "database, or add --force to replace everything in it with the backup",
            field="--force",
        )
    if kind == "sqlite":
        _sqlite_restore(source, _sqlite_path(url))
    else:
        _postgres_restore(url, source, replace=tables > 0)
    engine = make_engine(url)
    try:
        audit = verify_audit_database(engine)
    finally:
        engine.dispose()
    return BackupOutcome(source, kind, source.stat().st_size, audit)


def backup_kind(path: Path) -> BackupKind:
    """Which kind of backup ``path`` is, from its first bytes."""
    try:
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreError(f"cannot read {path} ({exc.strerror})", field="FILE") from None
    if header.startswith(SQLITE_HEADER):
        return "sqlite"
    if header.startswith(PG_CUSTOM_HEADER):
        return "postgresql"
    raise StoreError(
        f"{path} is not a trialdesk backup (neither a SQLite database nor a pg_dump "
        "custom-format archive)",
        field="FILE",
    )


# --- SQLite ---------------------------------------------------------------------------------


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise StoreError(
            "an in-memory database cannot be backed up or restored; use a sqlite:///file URL",
            field="--database-url",
        )
    return Path(database)


def _sqlite_backup(source: Path, partial: Path) -> AuditVerification:
    timeout = SQLITE_BUSY_TIMEOUT_MS / 1000
    with (
        closing(sqlite3.connect(source, timeout=timeout)) as live,
        closing(sqlite3.connect(partial)) as copy,
    ):
        # One step (pages=-1): the whole copy is read in one transaction, so it is the
        # database as of one moment however much is written meanwhile.
        live.backup(copy, pages=-1)
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    return _verify_sqlite_file(partial)


def _sqlite_restore(source: Path, target: Path) -> None:
    timeout = SQLITE_BUSY_TIMEOUT_MS / 1000
    with (
        closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as backup,
        closing(sqlite3.connect(target, timeout=timeout)) as live,
    ):
        backup.backup(live, pages=-1)  # one write transaction: all of it or nothing


def _verify_sqlite_file(path: Path) -> AuditVerification:
    """Read the audit log of a SQLite file without changing the file."""
    engine = create_engine(
        "sqlite://", creator=lambda: sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    )
    try:
        with Session(engine) as session:
            return verify_audit_log(session)
    finally:
        engine.dispose()


# --- PostgreSQL -----------------------------------------------------------------------------


def _postgres_backup(url: str, partial: Path) -> AuditVerification:
    engine = make_engine(url)
    try:
        with (
            engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn,
            conn.begin(),
        ):
            snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            with Session(bind=conn) as session:
                audit = verify_audit_log(session)
            # pg_dump reads the snapshot this transaction holds open: the same data.
            _run(
                [
                    _program("pg_dump"),
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={partial}",
                    _libpq_url(url),
                ],
                url,
                doing="pg_dump",
            )
    finally:
        engine.dispose()
    return audit


def _postgres_restore(url: str, source: Path, *, replace: bool) -> None:
    emptied = ["-c", "DROP SCHEMA public CASCADE", "-c", "CREATE SCHEMA public"]
    psql = [
        _program("psql"),
        "--no-psqlrc",
        "--quiet",
        "--single-transaction",
        "--set=ON_ERROR_STOP=1",
        *(emptied if replace else []),
        "--file=-",
        _libpq_url(url),
    ]
    script = [_program("pg_restore"), "--no-owner", "--no-privileges", "--file=-", str(source)]
    env = _libpq_env(url)
    with subprocess.Popen(script, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) as dump:
        assert dump.stdout is not None
        loaded = subprocess.run(psql, stdin=dump.stdout, capture_output=True, env=env, check=False)
        dump.stdout.close()
        dump_error = dump.stderr.read() if dump.stderr is not None else b""
    if dump.returncode != 0:
        raise StoreError(f"pg_restore could not read {source}: {_last_line(dump_error)}")
    if loaded.returncode != 0:
        raise StoreError(
            f"the restore failed and was rolled back (nothing changed): {_last_line(loaded.stderr)}"
        )


def _run(command: list[str], url: str, *, doing: str) -> None:
    done = subprocess.run(command, capture_output=True, env=_libpq_env(url), check=False)
    if done.returncode != 0:
        raise StoreError(f"{doing} failed: {_last_line(done.stderr)}")


def _program(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise StoreError(f"{name} was not found on PATH; {CLIENT_HINT}")
    return found


def _libpq_url(url: str) -> str:
    """The URL for the client programs: no SQLAlchemy driver, no password (see the env)."""
    parsed: URL = make_url(url).set(drivername="postgresql", password=None)
    return parsed.render_as_string(hide_password=False)


def _libpq_env(url: str) -> dict[str, str]:
    env = dict(os.environ)
    password = make_url(url).password
    if password is not None:
        env["PGPASSWORD"] = str(password)
    return env


def _last_line(stderr: bytes) -> str:
    lines = [line for line in stderr.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no message"


# --- Both -----------------------------------------------------------------------------------


def _require_schema(url: str) -> None:
    engine = make_engine(url)
    try:
        if current_revision(engine) is None:
            shown = engine.url.render_as_string(hide_password=True)
            raise StoreError(
                f"{shown} has no trialdesk schema: there is nothing to back up",
                field="--database-url",
            )
    finally:
        engine.dispose()


def _table_count(url: str) -> int:
    engine: Engine = make_engine(url)
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                query = "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
            else:
                query = "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            count: int = conn.execute(text(query)).scalar_one()
    finally:
        engine.dispose()
    return count
