"""The append-only audit log: who changed what, when, from which value to which, and why.

Entries are never updated or deleted. Three guards: the ORM refuses (mapper and bulk-statement
events), the database refuses (triggers made by the first migration), and each row carries a
sha256 hash chained to the previous row, so any change that slips past both is detectable with
:func:`verify_audit_chain`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any
from uuid import UUID, uuid4

from sqlalchemy import bindparam, event, select, text, update
from sqlalchemy.orm import Mapper, ORMExecuteState, Session, make_transient_to_detached

from trialdesk.store.clock import as_utc, utc_now
from trialdesk.store.errors import AuditLogIsAppendOnly, AuditLogTampered, StoreError
from trialdesk.store.models import AuditCheckpoint, AuditEntry
from trialdesk.store.session import HOLDS_WRITE_LOCK

GENESIS_HASH = "0" * 64
"""The ``prev_hash`` of the first entry."""
CHECKPOINT_ID = 1
"""The id of the one row of ``audit_checkpoints``."""

_APPEND_ONLY = (
    "audit entries cannot be changed or deleted; the audit log is append-only. "
    "To correct a mistake, record a new change with a reason"
)
# Serialises writers of the chain on PostgreSQL (SQLite allows one writer at a time anyway).
_POSTGRES_AUDIT_LOCK = 0x6175_6469_74  # "audit"
_HOLDS_CHAIN = "trialdesk.holds_audit_chain"
"""``Session.info`` key: the transaction that holds the chain's lock."""


def record_change(
    session: Session,
    *,
    actor: str,
    entity: str,
    entity_id: str,
    field: str | None,
    old: object,
    new: object,
    reason: str,
    now: datetime | None = None,
) -> AuditEntry:
    """Append one change to the log (flushed, so it has its id) and return it.

    ``old`` and ``new`` are stored as JSON text; dates, decimals, enums and UUIDs become strings.
    """
    for name, value in (("actor", actor), ("entity", entity), ("entity_id", entity_id)):
        if not value or not value.strip():
            raise StoreError(f"the audit entry needs a non-empty {name}", field=name)
    if not reason or not reason.strip():
        raise StoreError(
            "every change needs a reason (why was it made?); give a short explanation such as "
            "'transcription error corrected from source document'",
            field="reason",
        )
    at = as_utc(now, field="now") if now is not None else utc_now()
    backend = _hold_the_chain(session)
    entry = AuditEntry(
        at=at,
        actor=actor,
        entity=entity,
        entity_id=entity_id,
        field=field,
        old_value=to_json_text(old, field="old"),
        new_value=to_json_text(new, field="new"),
        reason=reason.strip(),
    )
    if backend == "postgresql" and _append_in_one_statement(session, entry):
        return entry
    last_hash, head_hash = _chain_ends(session)
    if last_hash != (head_hash or GENESIS_HASH):  # no checkpoint yet: the log must be empty
        raise AuditLogTampered(_TAMPERED)
    if head_hash is None:  # an empty log: its checkpoint starts with this first entry
        start = AuditCheckpoint(id=CHECKPOINT_ID, entry_count=0, head_hash=GENESIS_HASH)
        start.head_entry_id, start.updated_at = None, at
        session.add(start)
    entry.prev_hash = last_hash
    entry.row_hash = entry_hash(entry)
    session.add(entry)
    session.flush()
    session.execute(
        update(AuditCheckpoint)
        .where(AuditCheckpoint.id == CHECKPOINT_ID)
        .values(
            entry_count=AuditCheckpoint.entry_count + 1,
            head_entry_id=entry.id,
            head_hash=entry.row_hash,
            updated_at=at,
        )
        .execution_options(synchronize_session=False)  # read_checkpoint always reads afresh
    )
    return entry


_TAMPERED = (
    "the audit log does not end where trialdesk left it (entries were removed or added "
    "outside trialdesk, or its checkpoint was removed); nothing was saved. Run "
    "`trialdesk audit verify` and restore the database from a backup"
)

# PostgreSQL: check the chain's end, append the entry and move the checkpoint in one round trip.
# The row hash is sha256 over the same canonical JSON as entry_hash(): the text before and after
# the previous hash is made here, the previous hash (the checkpoint's head) joined in by the
# server. Nothing is appended when the log's last row is not the checkpoint's head (or there is
# no checkpoint); the last select then says which.
_APPEND = text(
    """
WITH head AS (
    SELECT head_hash FROM audit_checkpoints WHERE id = :checkpoint
), last AS (
    SELECT coalesce(
        (SELECT row_hash FROM audit_log ORDER BY id DESC LIMIT 1), :genesis
    ) AS row_hash
), appended AS (
    INSERT INTO audit_log
        (at, actor, entity, entity_id, field, old_value, new_value, reason, prev_hash, row_hash)
    SELECT :at, :actor, :entity, :entity_id, :field, :old_value, :new_value, :reason,
        head.head_hash,
        encode(sha256(convert_to(:before || head.head_hash || :after, 'UTF8')), 'hex')
    FROM head JOIN last ON last.row_hash = head.head_hash
    RETURNING id, prev_hash, row_hash
), moved AS (
    UPDATE audit_checkpoints
    SET entry_count = entry_count + 1, head_entry_id = appended.id,
        head_hash = appended.row_hash, updated_at = :at
    FROM appended WHERE audit_checkpoints.id = :checkpoint
)
SELECT (SELECT id FROM appended), (SELECT prev_hash FROM appended),
    (SELECT row_hash FROM appended), (SELECT head_hash FROM head), (SELECT row_hash FROM last)
"""
).bindparams(bindparam("at", type_=AuditEntry.__table__.c.at.type))


def _append_in_one_statement(session: Session, entry: AuditEntry) -> bool:
    """Append ``entry`` (PostgreSQL) and fill in its id and hashes; False when the general path
    must append it (the log is empty and has no checkpoint yet)."""
    marker = uuid4().hex  # stands for the previous hash in the canonical text
    canonical = _canonical_text(entry, prev_hash=marker)
    if canonical.count(marker) != 1:  # the entry's own text holds it too: never by chance
        return False
    before, _, after = canonical.partition(marker)
    row = session.execute(
        _APPEND,
        {
            **_content_of(entry),
            "at": entry.at,
            "checkpoint": CHECKPOINT_ID,
            "genesis": GENESIS_HASH,
            "before": before,
            "after": after,
        },
    ).one()
    entry_id, prev_hash, row_hash, head_hash, last_hash = row
    if entry_id is None:
        if head_hash is None and last_hash == GENESIS_HASH:
            return False
        raise AuditLogTampered(_TAMPERED)
    entry.id, entry.prev_hash, entry.row_hash = entry_id, prev_hash, row_hash
    # The stored row's object, as after a flush: a later change to it is refused, not ignored.
    make_transient_to_detached(entry)
    session.add(entry)
    return True


def _hold_the_chain(session: Session) -> str:
    """Make this transaction the chain's only writer until it ends; the database's backend
    name. A whole-desk writer is already alone; a narrow writer
    (:class:`trialdesk.store.session.Claim`) or a script's session takes the chain's own lock
    at its first entry, and keeps it to the commit."""
    # Begin first: a writing unit of work takes the writers' lock as its transaction begins.
    backend = session.connection().dialect.name
    if backend != "postgresql" or session.info.get(HOLDS_WRITE_LOCK):
        return backend
    transaction = session.get_transaction()
    if session.info.get(_HOLDS_CHAIN) is transaction:
        return backend
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _POSTGRES_AUDIT_LOCK})
    session.info[_HOLDS_CHAIN] = transaction
    return backend


def _chain_ends(session: Session) -> tuple[str, str | None]:
    """In one round trip: the hash of the last entry (the genesis hash for an empty log) and
    the head hash the checkpoint names (None: there is no checkpoint)."""
    last = select(AuditEntry.row_hash).order_by(AuditEntry.id.desc()).limit(1).scalar_subquery()
    head = select(AuditCheckpoint.head_hash).where(AuditCheckpoint.id == CHECKPOINT_ID)
    row = session.execute(select(last, head.scalar_subquery())).one()
    return row[0] or GENESIS_HASH, row[1]


def read_checkpoint(session: Session) -> AuditCheckpoint | None:
    """The checkpoint as stored now (not a copy cached by the session)."""
    return session.scalars(
        select(AuditCheckpoint)
        .where(AuditCheckpoint.id == CHECKPOINT_ID)
        .execution_options(populate_existing=True)
    ).one_or_none()


def audit_trail(
    session: Session, entity: str | None = None, entity_id: str | None = None
) -> list[AuditEntry]:
    """Entries oldest first, optionally only those of one entity type and/or one record."""
    query = select(AuditEntry).order_by(AuditEntry.id)
    if entity is not None:
        query = query.where(AuditEntry.entity == entity)
    if entity_id is not None:
        query = query.where(AuditEntry.entity_id == entity_id)
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """One place where the audit log is not what trialdesk wrote. ``kind`` is one of altered,
    replaced, inserted, missing, truncated, appended, checkpoint (see
    :mod:`trialdesk.store.audit_verify`)."""

    entry_id: int
    problem: str
    kind: str = "altered"

    def __str__(self) -> str:
        return f"audit entry #{self.entry_id}: {self.problem}"


def verify_audit_chain(session: Session) -> list[ChainProblem]:
    """Every problem in the audit log, oldest entry first; an empty list means it is intact.

    A changed row no longer matches its own hash; a removed or inserted row breaks the link
    to its neighbour; rows removed from (or added at) the end disagree with the checkpoint.
    See :func:`trialdesk.store.audit_verify.verify_audit_log` for the counts and the head.
    """
    from trialdesk.store.audit_verify import verify_audit_log

    return list(verify_audit_log(session).problems)


def entry_hash(entry: AuditEntry) -> str:
    """sha256 over the entry's content and the previous entry's hash."""
    canonical = _canonical_text(entry, prev_hash=entry.prev_hash)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


_CONTENT = ("actor", "entity", "entity_id", "field", "old_value", "new_value", "reason")
"""The entry's columns hashed as they are (besides its time and the previous hash)."""


def _content_of(entry: AuditEntry) -> dict[str, str | None]:
    return {name: getattr(entry, name) for name in _CONTENT}


def _canonical_text(entry: AuditEntry, *, prev_hash: str) -> str:
    content = {
        **_content_of(entry),
        "prev_hash": prev_hash,
        "at": as_utc(entry.at).isoformat(timespec="microseconds"),
    }
    return json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def to_json_text(value: object, *, field: str = "value") -> str:
    """``value`` as canonical JSON text (keys sorted, non-ASCII kept readable)."""
    try:
        return json.dumps(value, sort_keys=True, ensure_ascii=False, default=_jsonable)
    except (TypeError, ValueError) as exc:
        raise StoreError(
            f"cannot store {type(value).__name__} in the audit log ({exc}); "
            "pass plain values (text, numbers, booleans, dates, lists, dicts)",
            field=field,
        ) from None


def from_json_text(stored: str) -> Any:
    """A stored old/new value back as Python (dates come back as ISO text)."""
    return json.loads(stored)


def _jsonable(value: object) -> object:
    if isinstance(value, datetime):
        return as_utc(value).isoformat() if value.tzinfo is not None else value.isoformat()
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, UUID | PurePath):
        return str(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


@event.listens_for(AuditEntry, "before_update")
def _refuse_update(_mapper: Mapper[AuditEntry], _connection: Any, entry: AuditEntry) -> None:
    raise AuditLogIsAppendOnly(f"{_APPEND_ONLY} (entry #{entry.id})")


@event.listens_for(AuditEntry, "before_delete")
def _refuse_delete(_mapper: Mapper[AuditEntry], _connection: Any, entry: AuditEntry) -> None:
    raise AuditLogIsAppendOnly(f"{_APPEND_ONLY} (entry #{entry.id})")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ is AuditEntry:
        raise AuditLogIsAppendOnly(_APPEND_ONLY)
