"""Alembic environment for trialdesk.

Used two ways: programmatically by :mod:`trialdesk.store.migrate`, which hands over an open
connection in ``config.attributes["connection"]``; and by the ``alembic`` command line with
``-c src/trialdesk/store/alembic.ini``, which connects to ``sqlalchemy.url`` when set there, else
to the URL trialdesk would use (``TRIALDESK_DATABASE_URL`` or the default SQLite file).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from trialdesk.store.models import Base


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
    )
    with context.begin_transaction():
        context.run_migrations()


def _run_online() -> None:
    given = context.config.attributes.get("connection")
    if isinstance(given, Connection):
        _run(given)
        return
    from trialdesk.store.config import database_url
    from trialdesk.store.engine import make_engine

    engine = make_engine(database_url(context.config.get_main_option("sqlalchemy.url")))
    try:
        with engine.connect() as connection:
            _run(connection)
    finally:
        engine.dispose()


if context.is_offline_mode():
    from trialdesk.store.config import database_url

    context.configure(
        url=database_url(context.config.get_main_option("sqlalchemy.url")),
        target_metadata=Base.metadata,
        literal_binds=True,
    )
    with context.begin_transaction():
        context.run_migrations()
else:
    _run_online()
