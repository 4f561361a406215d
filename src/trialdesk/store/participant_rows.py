"""One participant's stored rows of one kind, read with a statement built once per kind.

The participant page and the API's participant document read seven kinds of record on every
view, and each write reads the participant's enrolment or infusions; building each statement
(and its cache key) anew cost about as much as sending it to the database.
"""

from __future__ import annotations

from functools import cache
from typing import Any, Final, TypeVar

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from trialdesk.store.models import AdverseEvent, Base, DltAssessment

RowT = TypeVar("RowT", bound=Base)


def rows_of(
    session: Session,
    model: type[RowT],
    participant_id: int,
    *,
    order_by: tuple[str, ...] = ("id",),
    active_only: bool = False,
) -> list[RowT]:
    """The participant's ``model`` rows in ``order_by`` (column names), voided ones left out
    with ``active_only``."""
    statement = _statement(model, order_by, active_only)
    return list(session.scalars(statement, {"participant_id": participant_id}))


def first_of(session: Session, model: type[RowT], participant_id: int) -> RowT | None:
    """The participant's ``model`` row where there is at most one (their enrolment)."""
    return next(iter(rows_of(session, model, participant_id)), None)


def dlt_assessments_of(session: Session, participant_id: int) -> list[DltAssessment]:
    """The DLT assessments of the participant's adverse events (voided events' too)."""
    return list(session.scalars(_ASSESSMENTS, {"participant_id": participant_id}))


_ASSESSMENTS: Final = (
    select(DltAssessment)
    .join(AdverseEvent, AdverseEvent.id == DltAssessment.adverse_event_id)
    .where(AdverseEvent.participant_id == bindparam("participant_id"))
)


@cache
def _statement(model: type[Base], order_by: tuple[str, ...], active_only: bool) -> Select[Any]:
    columns = model.__table__.c
    query = select(model).where(columns.participant_id == bindparam("participant_id"))
    if active_only:
        query = query.where(columns.voided_at.is_(None))
    return query.order_by(*(columns[name] for name in order_by))
