"""What the trial API routes share: the desk of one request (one transaction, the protocol, the
clock, the account), JSON documents of stored rows, keyset pages, and the documented problems.

Routes are thin: parse, check the role (:func:`trialdesk.web.auth.requires`), call the use-case
of :mod:`trialdesk.trial`, render. A use-case's refusal is a TrialdeskError answered as
problem+json (400; 403 for a role the matrix does not allow).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, Final, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.models import Base
from trialdesk.store.session import Claim, unit_of_work
from trialdesk.trial.context import TrialContext
from trialdesk.trial.records import check_version, snapshot
from trialdesk.trial.roles import Action
from trialdesk.web.api_screenings import Problem
from trialdesk.web.auth import requires, writes
from trialdesk.web.clock import app_clock
from trialdesk.web.sessions import Account

MAX_PAGE_SIZE: Final = 200
RowT = TypeVar("RowT", bound=Base)

PROBLEMS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"model": Problem, "description": "Refused or bad input; `detail` says how to fix it."},
    409: {"model": Problem, "description": "Stale edit: the record changed since you read it."},
    401: {"model": Problem, "description": "Not logged in (POST /api/session)."},
    403: {"model": Problem, "description": "Your role may not do this, or CSRF token missing."},
}

ClinicalReader = Annotated[Account, Depends(requires(Action.READ_CLINICAL))]
ClinicalWriter = Annotated[Account, Depends(requires(Action.WRITE_CLINICAL))]


@dataclass(frozen=True, slots=True)
class WebDesk:
    session: Session
    ctx: TrialContext
    account: Account

    @property
    def actor(self) -> str:
        return self.account.username


@contextmanager
def open_desk(
    request: Request, account: Account, claims: Collection[Claim] | None = None
) -> Iterator[WebDesk]:
    """The request's unit of work: committed when the route returns, rolled back if it raises.
    ``claims``: what a narrow writer changes (see :mod:`trialdesk.store.session`)."""
    runtime = request.app.state.runtime
    with unit_of_work(runtime.engine, write=writes(request), claims=claims) as session:
        ctx = TrialContext.open(
            session, runtime.loaded, app_clock(request.app), runtime.protocol_version_id
        )
        yield WebDesk(session, ctx, account)


_ALREADY_PLAIN: Final = frozenset({str, int, float, bool, type(None)})


def plain(value: object) -> Any:
    """JSON-ready data: dates and times ISO 8601, dataclasses and tuples opened up."""
    if type(value) in _ALREADY_PLAIN:  # most values of a row: answered before the slow checks
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(key): plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value


def row_document(row: Base, **extra: object) -> dict[str, Any]:
    """Every column of a stored row, JSON-ready, plus ``extra``."""
    return {**plain(snapshot(row)), **{key: plain(value) for key, value in extra.items()}}


class Page(BaseModel):
    items: list[dict[str, Any]]
    total: int = Field(description="How many there are in all (with the same filters).")
    limit: int
    next_cursor: int | None = Field(description="Pass as cursor for the next (older) page.")
    next: str | None = Field(description="URL of the next page; null on the last page.")


def limit_query() -> Any:
    return Query(50, description=f"Page size, 1 to {MAX_PAGE_SIZE}.")


def cursor_query() -> Any:
    return Query(
        None,
        description="next_cursor of the previous page; leave out for the newest page. Keyset "
        "paging: rows added meanwhile never shift or repeat a page.",
    )


def keyset_page(
    session: Session,
    model: type[RowT],
    *,
    where: list[ColumnElement[bool]],
    limit: int,
    cursor: int | None,
) -> tuple[list[RowT], int, int | None]:
    """Rows newest first (by id), at most ``limit``, after ``cursor``; the total; next cursor."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise TrialdeskError(f"is {limit}; use 1 to {MAX_PAGE_SIZE}", field="limit")
    identity = model.__table__.c.id
    total = session.scalar(select(func.count()).select_from(model).where(*where)) or 0
    statement = select(model).where(*where).order_by(identity.desc()).limit(limit + 1)
    if cursor is not None:
        statement = statement.where(identity < cursor)
    rows = list(session.scalars(statement))
    more = len(rows) > limit
    rows = rows[:limit]
    last = getattr(rows[-1], "id", None) if more and rows else None
    return rows, int(total), last


def page_document(
    request: Request, items: list[dict[str, Any]], total: int, limit: int, cursor: int | None
) -> dict[str, Any]:
    following = None
    if cursor is not None:
        following = str(request.url.include_query_params(limit=limit, cursor=cursor))
        following = following.removeprefix(str(request.base_url).rstrip("/"))
    return {
        "items": items,
        "total": total,
        "limit": limit,
        "next_cursor": cursor,
        "next": following,
    }


def listed_page(
    request: Request,
    account: Account,
    model: type[RowT],
    *,
    where: list[ColumnElement[bool]],
    limit: int,
    cursor: int | None,
    document: Callable[[RowT], dict[str, Any]] = row_document,
) -> dict[str, Any]:
    """The :class:`Page` document of one keyset page of ``model`` rows, each one ``document``."""
    with open_desk(request, account) as desk:
        rows, total, following = keyset_page(
            desk.session, model, where=where, limit=limit, cursor=cursor
        )
        items = [document(row) for row in rows]
    return page_document(request, items, total, limit, following)


class Reason(BaseModel):
    reason: str = Field(description="Why; kept in the audit trail.", examples=["entered twice"])


VERSION_HELP: Final = (
    "The record's version as you read it (every record document has one). If the record was "
    "changed since, nothing is saved and the answer (409) lists what changed."
)


class Void(Reason):
    version: int = Field(ge=1, description=VERSION_HELP, examples=[1])


class Correction(BaseModel):
    version: int = Field(ge=1, description=VERSION_HELP, examples=[1])
    changes: dict[str, Any] = Field(
        description="Field -> corrected value (dates YYYY-MM-DD, times ISO 8601 with zone).",
        examples=[{"grade": 2}],
    )
    reason: str = Field(description="Why; kept in the audit trail for every changed field.")


def check_seen_version(desk: WebDesk, model: type[Base], record_id: int, seen: int) -> None:
    """Refuse (409) an edit of a record that changed since the client read version ``seen``;
    an unknown id is left to the use-case, which names it."""
    row = desk.session.get(model, record_id)
    if row is not None:
        check_version(desk.session, row, seen)
