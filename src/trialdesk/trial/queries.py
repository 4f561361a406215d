"""Data queries: a monitor questions one field of one record; the site answers, or corrects the
value through the record's own audited use-case; the monitor closes the query.

Every step is written to the audit log (entity ``data_query``), and a correction made in answer
appears in the corrected record's own trail with the query named in its reason.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Final

from sqlalchemy import Date, DateTime, func, inspect, select
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.accounts import DataQuery
from trialdesk.store.audit import record_change
from trialdesk.store.models import (
    AdverseEvent,
    Base,
    ConcomitantMedication,
    Consent,
    Enrolment,
    Infusion,
    Measurement,
    Participant,
)
from trialdesk.trial import records
from trialdesk.trial.adverse_events import correct_adverse_event
from trialdesk.trial.context import TrialContext
from trialdesk.trial.follow_up import correct_concomitant_medication, correct_measurement
from trialdesk.trial.infusions import correct_infusion
from trialdesk.trial.lookup import check_text, get_row, require_role
from trialdesk.trial.roles import Action

TEXT_LIMIT: Final = 4000
MAX_PAGE_SIZE: Final = 200

Corrector = Callable[[Session, TrialContext, int, Mapping[str, object], str, str], object]


def _generic(model: type[Base], fields: frozenset[str]) -> Corrector:
    """An audited correction through :func:`trialdesk.trial.records.update`, limited to
    ``fields`` (records without a correcting use-case of their own)."""

    def correct(
        session: Session,
        ctx: TrialContext,
        row_id: int,
        changes: Mapping[str, object],
        reason: str,
        actor: str,
    ) -> object:
        for name in changes:
            if name not in fields:
                raise TrialdeskError(
                    f"cannot be corrected in answer to a query; correctable: "
                    f"{', '.join(sorted(fields))}",
                    field=name,
                )
        row = get_row(session, model, row_id, model.__tablename__)
        return records.update(session, row, changes, actor=actor, reason=reason, clock=ctx.clock)

    return correct


@dataclass(frozen=True, slots=True)
class Queryable:
    model: type[Base]
    corrector: Corrector | None
    """None: the value cannot be corrected from a query (answer with an explanation)."""


QUERYABLE: Final[dict[str, Queryable]] = {
    "participant": Queryable(
        Participant, _generic(Participant, frozenset({"sex", "birth_date", "contact_note"}))
    ),
    "consent": Queryable(
        Consent, _generic(Consent, frozenset({"consent_date", "form_version", "obtained_by"}))
    ),
    "enrolment": Queryable(Enrolment, None),
    "infusion": Queryable(
        Infusion,
        lambda s, ctx, i, ch, why, who: correct_infusion(
            s, i, ch, reason=why, protocol=ctx.protocol, actor=who, clock=ctx.clock
        ),
    ),
    "adverse_event": Queryable(
        AdverseEvent,
        lambda s, ctx, i, ch, why, who: correct_adverse_event(
            s, i, ch, reason=why, protocol=ctx.protocol, actor=who, clock=ctx.clock
        ),
    ),
    "measurement": Queryable(
        Measurement,
        lambda s, ctx, i, ch, why, who: correct_measurement(
            s, i, ch, reason=why, protocol=ctx.protocol, actor=who, clock=ctx.clock
        ),
    ),
    "concomitant_medication": Queryable(
        ConcomitantMedication,
        lambda s, ctx, i, ch, why, who: correct_concomitant_medication(
            s, i, ch, reason=why, actor=who, clock=ctx.clock
        ),
    ),
}
"""Entity (as the audit log names it) -> its table and how a value of it is corrected."""


def open_query(
    session: Session,
    ctx: TrialContext,
    *,
    entity: str,
    entity_id: int,
    field: str,
    question: str,
    actor: str,
) -> DataQuery:
    """A monitor questions ``field`` of the record ``entity`` #``entity_id``."""
    user = require_role(session, records.check_actor(actor), Action.OPEN_QUERY)
    kind = QUERYABLE.get(entity)
    if kind is None:
        raise TrialdeskError(
            f"{entity!r} cannot be queried; query one of {', '.join(QUERYABLE)}", field="entity"
        )
    row = get_row(session, kind.model, entity_id, entity.replace("_", " "))
    columns = records.column_names(row)
    if field not in columns or field == "id":
        raise TrialdeskError(
            f"{entity.replace('_', ' ')} has no field {field!r}; fields: "
            f"{', '.join(c for c in columns if c != 'id')}",
            field="field",
        )
    asked = check_text(question, "question", limit=TEXT_LIMIT, required=True)
    assert asked is not None
    participant_id = (
        row.id if isinstance(row, Participant) else getattr(row, "participant_id", None)
    )
    query = DataQuery(
        entity=entity,
        entity_id=str(entity_id),
        field=field,
        participant_id=participant_id,
        question=asked,
        status="open",
        opened_by=user.username,
        opened_at=ctx.clock.now(),
    )
    session.add(query)
    session.flush()
    _audit(session, ctx, query, user.username, None, records.snapshot(query), "query opened")
    return query


_KEEP: Final = object()


def answer_query(
    session: Session,
    ctx: TrialContext,
    query_id: int,
    *,
    answer: str,
    actor: str,
    corrected_value: object = _KEEP,
) -> DataQuery:
    """The site answers an open query; with ``corrected_value`` the queried field is corrected
    through the record's audited use-case (the answer is the reason)."""
    user = require_role(session, records.check_actor(actor), Action.ANSWER_QUERY)
    query = get_query(session, query_id)
    if query.status != "open":
        raise TrialdeskError(
            f"data query #{query.id} is {query.status}; only an open query is answered",
            field="query_id",
        )
    said = check_text(answer, "answer", limit=TEXT_LIMIT, required=True)
    assert said is not None
    corrected = corrected_value is not _KEEP
    if corrected:
        kind = QUERYABLE[query.entity]
        if kind.corrector is None:
            raise TrialdeskError(
                f"a {query.entity.replace('_', ' ')} cannot be corrected from a data query; "
                "answer with an explanation (and correct it through its own procedure)",
                field="corrected_value",
            )
        value = coerce_value(kind.model, query.field, corrected_value, label="corrected_value")
        kind.corrector(
            session,
            ctx,
            int(query.entity_id),
            {query.field: value},
            f"data query #{query.id}: {said}",
            user.username,
        )
    changes = {
        "status": "answered",
        "answer": said,
        "corrected": corrected,
        "answered_by": user.username,
        "answered_at": ctx.clock.now(),
    }
    _change(session, ctx, query, changes, user.username, "query answered")
    return query


def close_query(
    session: Session, ctx: TrialContext, query_id: int, *, note: str | None, actor: str
) -> DataQuery:
    """The monitor closes a query: an answered one, or an open one raised in error (a note is
    then required)."""
    user = require_role(session, records.check_actor(actor), Action.CLOSE_QUERY)
    query = get_query(session, query_id)
    if query.status == "closed":
        raise TrialdeskError(f"data query #{query.id} is already closed", field="query_id")
    said = check_text(note, "note", limit=TEXT_LIMIT, required=query.status == "open")
    changes = {
        "status": "closed",
        "close_note": said,
        "closed_by": user.username,
        "closed_at": ctx.clock.now(),
    }
    _change(session, ctx, query, changes, user.username, said or "query closed")
    return query


def get_query(session: Session, query_id: int) -> DataQuery:
    row = session.get(DataQuery, query_id)
    if row is None:
        raise TrialdeskError(f"there is no data query #{query_id}; check the number", field="id")
    return row


@dataclass(frozen=True, slots=True)
class QueryPage:
    items: list[DataQuery]
    total: int
    next_cursor: int | None


def list_queries(
    session: Session,
    *,
    status: str | None = None,
    participant_id: int | None = None,
    limit: int = 50,
    cursor: int | None = None,
) -> QueryPage:
    """Queries newest first, a page at a time (keyset on the id: ``cursor`` is the last id seen)."""
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise TrialdeskError(f"is {limit}; use 1 to {MAX_PAGE_SIZE}", field="limit")
    if status is not None and status not in ("open", "answered", "closed"):
        raise TrialdeskError(
            f"{status!r} is not a status; use open, answered or closed", field="status"
        )
    where = []
    if status is not None:
        where.append(DataQuery.status == status)
    if participant_id is not None:
        where.append(DataQuery.participant_id == participant_id)
    total = session.scalar(select(func.count()).select_from(DataQuery).where(*where)) or 0
    page = select(DataQuery).where(*where).order_by(DataQuery.id.desc()).limit(limit + 1)
    if cursor is not None:
        page = page.where(DataQuery.id < cursor)
    rows = list(session.scalars(page))
    more = len(rows) > limit
    rows = rows[:limit]
    return QueryPage(rows, int(total), rows[-1].id if more and rows else None)


def coerce_value(model: type[Base], field: str, value: object, *, label: str) -> object:
    """A JSON value as the column's Python type: dates and times arrive as ISO 8601 text.
    Anything else (and an unknown field, which the use-case refuses) is passed on unchanged."""
    column = inspect(model).columns.get(field)
    if column is None or not isinstance(value, str):
        return value
    try:
        if isinstance(column.type, DateTime):
            moment = datetime.fromisoformat(value)
            if moment.tzinfo is None:
                raise ValueError(value)
            return moment
        if isinstance(column.type, Date):
            return date.fromisoformat(value)
    except ValueError:
        timed = isinstance(column.type, DateTime)
        what, example = (
            ("date and time with its zone", "2026-03-10T09:30+08:00")
            if timed
            else ("date", "2026-03-10")
        )
        raise TrialdeskError(
            f"{value!r} is not a {what}; write it like {example}", field=label
        ) from None
    return value


def _change(
    session: Session,
    ctx: TrialContext,
    query: DataQuery,
    changes: Mapping[str, Any],
    actor: str,
    reason: str,
) -> None:
    old = {name: getattr(query, name) for name in changes}
    for name, value in changes.items():
        setattr(query, name, value)
    session.flush()
    _audit(session, ctx, query, actor, old, dict(changes), reason)


def _audit(
    session: Session,
    ctx: TrialContext,
    query: DataQuery,
    actor: str,
    old: object,
    new: object,
    reason: str,
) -> None:
    record_change(
        session,
        actor=actor,
        entity="data_query",
        entity_id=str(query.id),
        field=None if old is None else "status",
        old=old,
        new=new,
        reason=reason,
        now=ctx.clock.now(),
    )
