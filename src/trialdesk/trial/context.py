"""What every use-case of the running trial needs: the protocol it runs (with the id of its
stored text, so records can name their protocol version) and the clock."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.protocol import LoadedProtocol, Protocol
from trialdesk.protocol.models import Dlt
from trialdesk.store.protocols import record_protocol_version
from trialdesk.trial.clock import Clock


@dataclass(frozen=True)
class TrialContext:
    """The protocol, its stored version id, and the clock (whose ``zone``, when it has one,
    turns a stored UTC instant into the site's calendar date)."""

    loaded: LoadedProtocol
    protocol_version_id: int
    clock: Clock

    @classmethod
    def open(
        cls,
        session: Session,
        loaded: LoadedProtocol,
        clock: Clock,
        protocol_version_id: int | None = None,
    ) -> TrialContext:
        """A context whose protocol text is stored (once per distinct text).

        ``protocol_version_id``: the id a runtime already stored this text under (committed at
        its start, :class:`trialdesk.web.runtime.Runtime`), so a request need not look it up."""
        if protocol_version_id is not None:
            return cls(loaded, protocol_version_id, clock)
        version = record_protocol_version(
            session,
            protocol_id=loaded.protocol.id,
            version=loaded.protocol.version,
            yaml_text=loaded.text,
            sha256=loaded.sha256,
            now=clock.now(),
        )
        session.flush()
        return cls(loaded, version.id, clock)

    @property
    def protocol(self) -> Protocol:
        return self.loaded.protocol

    @property
    def dlt(self) -> Dlt:
        """The protocol's DLT section; a protocol without one cannot run a trial."""
        if self.protocol.dlt is None:
            raise TrialdeskError(
                "the protocol has no dlt section (window, definition, evaluability); add one",
                field="dlt",
            )
        return self.protocol.dlt
