"""Audited writes of clinical records: create, correct with a reason, void with a reason.

Every change to a clinical row goes through here so that the audit log always says who changed
which field, when (from the trial's clock), from which value to which, and why. Nothing is
deleted: a record entered by mistake is voided and stays, with its reason, in the trail.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final, TypeVar

from sqlalchemy import bindparam, inspect, select
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.audit import record_change
from trialdesk.store.models import NAME_LENGTH, AuditEntry, Base, User, Voidable
from trialdesk.trial.clock import Clock
from trialdesk.trial.roles import Action, check_permitted

RowT = TypeVar("RowT", bound=Base)
VERSION_FIELD: Final = "version"

PROTECTED_FIELDS: Final = frozenset(
    {
        "id",
        "participant_id",
        "created_at",
        "created_by",
        "recorded_at",
        "recorded_by",
        "voided_at",
        "void_reason",
        "version",
    }
)
"""Fields no correction may change: identity, provenance, and voiding (use :func:`void`)."""


def create(
    session: Session, row: RowT, *, actor: str, clock: Clock, reason: str = "recorded"
) -> RowT:
    """Store a new record and audit it (field None, old None, new = every column's value).

    ``recorded_at`` / ``recorded_by`` (or ``created_at`` / ``created_by``) are filled from the
    clock and ``actor`` when the row has them and they are not set yet.
    """
    who = check_writer(session, actor)
    why = check_reason(reason)
    at = clock.now()
    for at_field, by_field in (("recorded_at", "recorded_by"), ("created_at", "created_by")):
        if hasattr(row, at_field) and getattr(row, at_field) is None:
            setattr(row, at_field, at)
        if hasattr(row, by_field) and getattr(row, by_field) is None:
            setattr(row, by_field, who)
    session.add(row)
    session.flush()
    audit_field(session, row, None, None, snapshot(row), actor=who, reason=why, at=at)
    return row


def update(
    session: Session,
    row: Base,
    changes: Mapping[str, object],
    *,
    actor: str,
    reason: str,
    clock: Clock,
) -> list[AuditEntry]:
    """Correct fields of a stored record; one audit entry per field whose value changes.

    Refused without a reason, on a voided record, and for unknown or protected fields
    (:data:`PROTECTED_FIELDS`). Fields given with their current value are skipped; if none
    changes, nothing is written and the list is empty.
    """
    who = check_writer(session, actor)
    why = check_reason(reason)
    if isinstance(row, Voidable) and row.voided:
        raise TrialdeskError(
            f"{describe(row)} was voided ({row.void_reason}); a voided record cannot be "
            "corrected. Record it anew instead",
            field="id",
        )
    columns = column_names(row)
    for name in changes:
        if name not in columns:
            raise TrialdeskError(
                f"{describe(row)} has no field {name!r}; fields: {', '.join(sorted(columns))}",
                field=name,
            )
        if name in PROTECTED_FIELDS:
            hint = (
                "void the record with a reason"
                if name.startswith("void")
                else "the desk moves it on with every change"
                if name == VERSION_FIELD
                else "it is fixed"
            )
            raise TrialdeskError(f"cannot be corrected ({hint})", field=name)
    at = clock.now()
    changed = {
        name: (getattr(row, name), new)
        for name, new in changes.items()
        if not _same(getattr(row, name), new)
    }
    if not changed:
        return []
    before = _version_of(row)
    for name, (_, new) in changed.items():
        setattr(row, name, new)
    session.flush()  # one UPDATE: the version moves on by one
    entries = [
        audit_field(session, row, name, old, new, actor=who, reason=why, at=at)
        for name, (old, new) in changed.items()
    ]
    _audit_version_step(session, row, before, actor=who, reason=why, at=at)
    return entries


def void(session: Session, row: Voidable, *, actor: str, reason: str, clock: Clock) -> AuditEntry:
    """Withdraw a record entered by mistake: it stays stored, marked voided with the reason."""
    who = check_writer(session, actor)
    why = check_reason(reason)
    if row.voided:
        raise TrialdeskError(f"{describe(row)} is already voided ({row.void_reason})", field="id")
    at = clock.now()
    before = _version_of(row)
    row.voided_at = at
    row.void_reason = why
    session.flush()
    entry = audit_field(session, row, "voided_at", None, at, actor=who, reason=why, at=at)
    _audit_version_step(session, row, before, actor=who, reason=why, at=at)
    return entry


class StaleEdit(TrialdeskError):
    """The edit was made on an older version of the record than the stored one (the web
    answers 409 Conflict); the message lists what changed since."""


def check_version(session: Session, row: object, seen: int | None) -> None:
    """Refuse (:class:`StaleEdit`, field ``version``) an edit of ``row`` made on version
    ``seen`` when the stored record has moved on; ``None`` skips the check (a command that reads
    and writes in one go, like the CLI's, cannot be stale)."""
    if seen is None:
        return
    current = getattr(row, VERSION_FIELD, None)
    if not isinstance(current, int) or seen == current:
        return
    if seen > current:
        raise StaleEdit(
            f"{describe(row)} has no version {seen}; it is at version {current}. Reload it "
            "and make your change again",
            field=VERSION_FIELD,
        )
    changes = changes_since(session, row, seen)
    listed = "; ".join(changes) if changes else "see its audit trail"
    raise StaleEdit(
        f"{describe(row)} was changed after you opened it (you edited version {seen}, it is "
        f"now version {current}): {listed}. Nothing was saved: reload it, check, and make your "
        "change again if it is still needed",
        field=VERSION_FIELD,
    )


def changes_since(session: Session, row: object, seen: int) -> list[str]:
    """The audited changes of ``row`` after its version ``seen``, oldest first, as sentences
    (``grade 2 -> 3 by alice at 2026-03-10 09:12 UTC: 'source document'``)."""
    trail = session.scalars(
        select(AuditEntry)
        .where(
            AuditEntry.entity == audit_entity(row),
            AuditEntry.entity_id == str(row_id(row)),
        )
        .order_by(AuditEntry.id)
    ).all()
    start = 0
    for index, entry in enumerate(trail):
        if entry.field == VERSION_FIELD and _json_int(entry.new_value) <= seen:
            start = index + 1
    return [
        f"{entry.field} {_shown(entry.old_value)} -> {_shown(entry.new_value)} by "
        f"{entry.actor} at {entry.at:%Y-%m-%d %H:%M} UTC: {entry.reason!r}"
        for entry in trail[start:]
        if entry.field not in (None, VERSION_FIELD)
    ]


def _version_of(row: object) -> int | None:
    value = getattr(row, VERSION_FIELD, None)
    return value if isinstance(value, int) else None


def _audit_version_step(
    session: Session, row: object, before: int | None, *, actor: str, reason: str, at: datetime
) -> None:
    """Audit the version step of a flushed change; it closes the change's group of entries for
    :func:`changes_since`."""
    after = _version_of(row)
    if before is not None and after is not None and after != before:
        audit_field(session, row, VERSION_FIELD, before, after, actor=actor, reason=reason, at=at)


def audit_field(
    session: Session,
    row: object,
    field: str | None,
    old: object,
    new: object,
    *,
    actor: str,
    reason: str,
    at: datetime,
) -> AuditEntry:
    """One audit entry about ``row`` (field None: the whole new record)."""
    return record_change(
        session,
        actor=actor,
        entity=audit_entity(row),
        entity_id=str(row_id(row)),
        field=field,
        old=old,
        new=new,
        reason=reason,
        now=at,
    )


def _json_int(text: str) -> int:
    value = json.loads(text)
    return value if isinstance(value, int) else 0


def _shown(text: str) -> str:
    value = json.loads(text)
    return "(empty)" if value is None else str(value)


def check_reason(reason: str | None) -> str:
    """The reason stripped; refused when empty (every change must say why)."""
    if reason is None or not reason.strip():
        raise TrialdeskError(
            "is required: say why the record is changed (for example 'transcription error "
            "corrected from the source document')",
            field="reason",
        )
    return reason.strip()


def check_actor(actor: str | None) -> str:
    """The user name stripped; refused when empty or longer than the column."""
    who = (actor or "").strip()
    if not who:
        raise TrialdeskError("is required: give the user name of who does this", field="actor")
    if len(who) > NAME_LENGTH:
        raise TrialdeskError(
            f"is {len(who)} characters; a user name has at most {NAME_LENGTH}", field="actor"
        )
    return who


_USER_NAMED: Final = select(User).where(User.username == bindparam("username"))
"""Built once: every write checks its actor."""


def check_writer(session: Session, actor: str | None) -> str:
    """The actor's name; refused when a stored user of that name is inactive or has a role the
    matrix does not let write clinical data (a monitor, the DSMB, an administrator).

    A name that is no stored user passes: the doors (CLI ``--as``, web login) only ever act for
    stored users, and the use-case tests name their actors without storing them.
    """
    who = check_actor(actor)
    user = session.scalars(_USER_NAMED, {"username": who}).one_or_none()
    if user is not None:
        if not user.active:
            raise TrialdeskError(
                f"{who} is no longer an active user of this desk; act under your own account",
                field="actor",
            )
        check_permitted(who, user.role, Action.WRITE_CLINICAL)
    return who


def snapshot(row: object) -> dict[str, Any]:
    """Every column of ``row`` by name (what the audit stores for a new record)."""
    return {name: getattr(row, name) for name in column_names(row)}


def column_names(row: object) -> list[str]:
    return [attr.key for attr in inspect(type(row)).column_attrs]


def audit_entity(row: object) -> str:
    """The entity name the audit log uses for this kind of record (``participant`` ...)."""
    name = getattr(type(row), "AUDIT_ENTITY", None) or getattr(row, "__tablename__", None)
    if not isinstance(name, str):
        raise TypeError(f"{type(row).__name__} is not a stored record")
    return name


def row_id(row: object) -> int:
    value = getattr(row, "id", None)
    if not isinstance(value, int):
        raise TypeError(f"{type(row).__name__} has no id yet; add and flush it first")
    return value


def describe(row: object) -> str:
    """``consent #3``: how a message names a record."""
    return f"{audit_entity(row).replace('_', ' ')} #{getattr(row, 'id', '?')}"


def _same(old: object, new: object) -> bool:
    """Equal values (1 and 1.0 are the same number; True and 1 are not the same answer)."""
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    return old == new
