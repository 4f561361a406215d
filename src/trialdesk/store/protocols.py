"""Which protocol texts a desk has run: each distinct text stored once, exactly, with its hash."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trialdesk.store.clock import as_utc, utc_now
from trialdesk.store.errors import StoreError
from trialdesk.store.models import ProtocolVersion


def record_protocol_version(
    session: Session,
    *,
    protocol_id: str,
    version: str,
    yaml_text: str,
    sha256: str,
    now: datetime | None = None,
) -> ProtocolVersion:
    """The stored row for this exact text, created on first sight (idempotent by sha256).

    ``sha256`` must be the hash of ``yaml_text`` encoded as UTF-8, as the protocol loader
    computes it; a mismatch means the caller mixed up two texts and is refused.
    """
    actual = hashlib.sha256(yaml_text.encode("utf-8")).hexdigest()
    if sha256.lower() != actual:
        raise StoreError(
            f"{sha256!r} is not the sha256 of the given protocol text ({actual}); "
            "pass the hash computed from exactly this text",
            field="sha256",
        )
    existing = protocol_version_by_sha256(session, actual)
    if existing is not None:
        return existing
    row = ProtocolVersion(
        protocol_id=protocol_id,
        version=version,
        yaml_text=yaml_text,
        sha256=actual,
        loaded_at=as_utc(now, field="now") if now is not None else utc_now(),
    )
    try:
        # A savepoint: if another process stored the same text meanwhile, only this insert
        # is undone and that process's row is returned.
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raced = protocol_version_by_sha256(session, actual)
        if raced is None:
            raise
        return raced
    return row


def protocol_version_by_sha256(session: Session, sha256: str) -> ProtocolVersion | None:
    """The stored version with this text hash, if any."""
    return session.scalars(
        select(ProtocolVersion).where(ProtocolVersion.sha256 == sha256.lower())
    ).one_or_none()


def latest_protocol_version(session: Session, protocol_id: str) -> ProtocolVersion | None:
    """The most recently first-loaded text of ``protocol_id``; None if it was never loaded."""
    return session.scalars(
        select(ProtocolVersion)
        .where(ProtocolVersion.protocol_id == protocol_id)
        .order_by(ProtocolVersion.loaded_at.desc(), ProtocolVersion.id.desc())
        .limit(1)
    ).one_or_none()
