"""What a running trial desk holds: the protocol it runs and the database it writes to.

Starting a runtime brings the database to the latest schema and records the exact protocol text
(with its hash) that this process runs, so every later decision can name its protocol version.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from trialdesk.protocol import LoadedProtocol
from trialdesk.store.config import database_url as resolve_database_url
from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import upgrade_to_head
from trialdesk.store.protocols import record_protocol_version
from trialdesk.store.session import unit_of_work


@dataclass(frozen=True, slots=True)
class Runtime:
    loaded: LoadedProtocol
    engine: Engine
    database_url: str
    protocol_version_id: int

    @classmethod
    def start(cls, loaded: LoadedProtocol, database_url: str | None = None) -> Runtime:
        url = resolve_database_url(database_url)
        engine = make_engine(url)
        upgrade_to_head(engine)
        with unit_of_work(engine) as session:
            version = record_protocol_version(
                session,
                protocol_id=loaded.protocol.id,
                version=loaded.protocol.version,
                yaml_text=loaded.text,
                sha256=loaded.sha256,
            )
            version_id = int(version.id)
        return cls(loaded, engine, url, version_id)

    @property
    def database_label(self) -> str:
        """The database URL without any password, for display."""
        return self.engine.url.render_as_string(hide_password=True)

    def close(self) -> None:
        self.engine.dispose()
