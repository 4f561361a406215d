"""Schema migrations run from Python with the Alembic scripts packaged in trialdesk.store."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

# Any constant works; it only has to be the same for every trialdesk process.
_POSTGRES_MIGRATION_LOCK = 0x7472_6961_6C64  # "triald"


def migrations_directory() -> Path:
    """Where the packaged migration scripts are on disk."""
    return Path(str(resources.files("trialdesk.store") / "migrations"))


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic configuration for the packaged scripts, optionally bound to ``connection``."""
    config = Config()
    config.set_main_option("script_location", str(migrations_directory()))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest revision the packaged migrations know."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise RuntimeError("the packaged migrations have no head revision")
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at; None for a database never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    """Bring the database to the newest schema; a no-op when it is already there.

    On PostgreSQL an advisory lock makes concurrent starters wait instead of racing.
    """
    upgrade(engine, "head")


def upgrade(engine: Engine, revision: str) -> None:
    """Migrate forward to ``revision``."""
    with engine.begin() as connection:
        _lock(connection)
        command.upgrade(alembic_config(connection), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Migrate back to ``revision`` (``"base"`` removes every trialdesk table)."""
    with engine.begin() as connection:
        _lock(connection)
        command.downgrade(alembic_config(connection), revision)


def _lock(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(
            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_MIGRATION_LOCK}
        )
