"""Which database to use: an explicit URL, else ``TRIALDESK_DATABASE_URL``, else a SQLite file."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from trialdesk.store.errors import StoreError

DATABASE_URL_ENV = "TRIALDESK_DATABASE_URL"
HOME_ENV = "TRIALDESK_HOME"
DEFAULT_HOME = "~/.trialdesk"
DEFAULT_FILE_NAME = "trialdesk.sqlite3"
SUPPORTED_SCHEMES = ("sqlite", "postgresql+psycopg")


def trialdesk_home() -> Path:
    """The directory for trialdesk's own files (``$TRIALDESK_HOME``, default ``~/.trialdesk``)."""
    return Path(os.environ.get(HOME_ENV) or DEFAULT_HOME).expanduser()


def database_url(explicit: str | None = None) -> str:
    """The database URL to use, checked; the default SQLite file's directory is created."""
    if explicit:
        return validate_database_url(explicit, source="the given database URL")
    from_env = os.environ.get(DATABASE_URL_ENV, "").strip()
    if from_env:
        return validate_database_url(from_env, source=DATABASE_URL_ENV)
    home = trialdesk_home()
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot create the data directory {home} ({exc.strerror}); set {HOME_ENV} to a "
            f"writable directory or {DATABASE_URL_ENV} to a database URL",
            field=HOME_ENV,
        ) from None
    return f"sqlite:///{home / DEFAULT_FILE_NAME}"


def validate_database_url(url: str, *, source: str) -> str:
    """``url`` unchanged when trialdesk can use it; otherwise a StoreError saying what to set."""
    hint = (
        f"supported: sqlite:///path/to/file.sqlite3 or "
        f"postgresql+psycopg://user:password@host:5432/dbname; set {DATABASE_URL_ENV} "
        f"(or --database-url) to one of these"
    )
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreError(f"{_shown(url)} is not a database URL; {hint}", field=source) from None
    scheme = parsed.drivername
    if scheme == "postgresql":
        raise StoreError(
            f"{_shown(url)} names no driver; write postgresql+psycopg://... (psycopg 3); {hint}",
            field=source,
        )
    if scheme not in SUPPORTED_SCHEMES:
        raise StoreError(f"unsupported database scheme {scheme!r}; {hint}", field=source)
    if scheme == "sqlite" and not parsed.database:
        raise StoreError(
            f"{_shown(url)} names no file; write sqlite:///path/to/file.sqlite3 "
            "(sqlite:///:memory: for a throw-away database)",
            field=source,
        )
    return url


def _shown(url: str) -> str:
    """The URL as it may appear in a message: without its password."""
    try:
        return repr(make_url(url).render_as_string(hide_password=True))
    except ArgumentError:
        return repr(url)
