"""Stored eligibility screenings: appended with an audit entry, read back, listed page by page.

A screening is a clinical record. It is never updated or deleted by the application: the ORM
refuses here, and triggers made by migration 0002 refuse in the database. To correct one, the
patient is screened again, which makes a new record.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import bindparam, event, func, select
from sqlalchemy.orm import Mapper, ORMExecuteState, Session

from trialdesk.store.audit import record_change
from trialdesk.store.clock import as_utc, utc_now
from trialdesk.store.errors import StoreError
from trialdesk.store.models import ProtocolVersion, Screening
from trialdesk.store.session import Claim

AUDIT_ENTITY: Final = "screening"
RECORD_CLAIMS: Final[tuple[Claim, ...]] = ()
"""What :func:`record_screening` changes alone: nothing. It appends a row and reads only the
hash of a stored protocol version, which never changes, so it needs no writer's lock but the
audit chain's (see :mod:`trialdesk.store.session`)."""
INPUT_FORMATS: Final = ("record", "fhir")
"""``record``: trialdesk's own screening-record format; ``fhir``: a FHIR R4 Bundle (the names
of :data:`trialdesk.eligibility.screening_input.InputFormat`)."""
MAX_PAGE_SIZE: Final = 200
MAX_NAME_LENGTH: Final = 100

_APPEND_ONLY = (
    "a screening is a clinical record and cannot be changed or deleted; "
    "screen the patient again to record a new result"
)


class ScreeningIsAppendOnly(StoreError):
    """Someone tried to change or remove a stored screening."""


class ScreeningNotFound(StoreError):
    """No screening has the asked-for id."""


@dataclass(frozen=True, slots=True)
class ScreeningPage:
    """Screenings newest first; ``next_cursor`` fetches the following (older) page, if any."""

    items: list[Screening]
    total: int
    next_cursor: int | None


_PROTOCOL_HASH: Final = select(ProtocolVersion.sha256).where(ProtocolVersion.id == bindparam("id"))
"""Built once: every stored screening reads it."""


def record_screening(
    session: Session,
    *,
    protocol_version_id: int,
    software_version: str,
    input_format: str,
    input_text: str,
    screening_date: date,
    result_json: str,
    screened_by: str,
    now: datetime | None = None,
) -> Screening:
    """Append one screening (flushed, so it has its id) and its audit entry; return it.

    ``result_json`` is stored as given (the exact text a replay compares with); it must be a JSON
    object with a ``verdict``. The protocol's hash is copied from its stored version row.
    """
    if input_format not in INPUT_FORMATS:
        raise StoreError(
            f"{input_format!r} is not a known input format; use one of {', '.join(INPUT_FORMATS)}",
            field="input_format",
        )
    if not screened_by or not screened_by.strip():
        raise StoreError("a screening needs the name of who did it", field="screened_by")
    if len(screened_by.strip()) > MAX_NAME_LENGTH:
        raise StoreError(
            f"is {len(screened_by.strip())} characters; use a user name of at most "
            f"{MAX_NAME_LENGTH}",
            field="screened_by",
        )
    if not software_version.strip():
        raise StoreError("a screening needs the software version", field="software_version")
    verdict = _verdict_of(result_json)
    # The hash alone: the row also holds the whole protocol text, which a screening never needs.
    protocol_sha256 = session.scalar(_PROTOCOL_HASH, {"id": protocol_version_id})
    if protocol_sha256 is None:
        raise StoreError(
            f"no stored protocol version #{protocol_version_id}; record the protocol text "
            "first (trialdesk.store.protocols.record_protocol_version)",
            field="protocol_version_id",
        )
    at = as_utc(now, field="now") if now is not None else utc_now()
    row = Screening(
        protocol_version_id=protocol_version_id,
        protocol_sha256=protocol_sha256,
        software_version=software_version,
        input_format=input_format,
        input_text=input_text,
        screening_date=screening_date,
        verdict=verdict,
        result_json=result_json,
        screened_by=screened_by.strip(),
        screened_at=at,
    )
    session.add(row)
    session.flush()
    record_change(
        session,
        actor=row.screened_by,
        entity=AUDIT_ENTITY,
        entity_id=str(row.id),
        field=None,
        old=None,
        new={
            "verdict": verdict,
            "screening_date": screening_date,
            "input_format": input_format,
            "protocol_sha256": protocol_sha256,
            "software_version": software_version,
        },
        reason="eligibility screening recorded",
        now=at,
    )
    return row


def get_screening(session: Session, screening_id: int) -> Screening:
    """The stored screening with this id; :class:`ScreeningNotFound` if there is none."""
    row = session.get(Screening, screening_id)
    if row is None:
        raise ScreeningNotFound(
            f"there is no screening #{screening_id}; list the stored ones with GET /api/screenings",
            field="id",
        )
    return row


def list_screenings(
    session: Session, *, limit: int = 50, cursor: int | None = None
) -> ScreeningPage:
    """Up to ``limit`` screenings newest first, starting after ``cursor`` (a previous page's
    ``next_cursor``). Keyset paging: rows added meanwhile never shift or repeat a page.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise StoreError(f"must be between 1 and {MAX_PAGE_SIZE} (found {limit})", field="limit")
    if cursor is not None and cursor < 1:
        raise StoreError(
            f"must be a next_cursor returned by an earlier page (found {cursor})", field="cursor"
        )
    query = select(Screening).order_by(Screening.id.desc()).limit(limit + 1)
    if cursor is not None:
        query = query.where(Screening.id < cursor)
    rows = list(session.scalars(query))
    total = session.scalar(select(func.count()).select_from(Screening)) or 0
    more = len(rows) > limit
    items = rows[:limit]
    return ScreeningPage(items=items, total=total, next_cursor=items[-1].id if more else None)


def _verdict_of(result_json: str) -> str:
    try:
        result: Any = json.loads(result_json)
    except ValueError as exc:
        raise StoreError(f"is not JSON ({exc})", field="result_json") from None
    verdict = result.get("verdict") if isinstance(result, dict) else None
    if not isinstance(verdict, str) or not verdict:
        raise StoreError('must be a JSON object with a "verdict"', field="result_json")
    return verdict


@event.listens_for(Screening, "before_update")
def _refuse_update(_mapper: Mapper[Screening], _connection: Any, row: Screening) -> None:
    raise ScreeningIsAppendOnly(f"{_APPEND_ONLY} (screening #{row.id})")


@event.listens_for(Screening, "before_delete")
def _refuse_delete(_mapper: Mapper[Screening], _connection: Any, row: Screening) -> None:
    raise ScreeningIsAppendOnly(f"{_APPEND_ONLY} (screening #{row.id})")


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    if not (state.is_update or state.is_delete):
        return
    mapper = state.bind_mapper
    if mapper is not None and mapper.class_ is Screening:
        raise ScreeningIsAppendOnly(_APPEND_ONLY)
