"""`/api/queries`: data queries. A monitor opens one on a field of a record; the site answers or
corrects (the correction goes through the record's audited use-case); the monitor closes it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from trialdesk.store.accounts import DataQuery
from trialdesk.store.audit import audit_trail, from_json_text
from trialdesk.trial.queries import (
    QUERYABLE,
    answer_query,
    close_query,
    get_query,
    list_queries,
    open_query,
)
from trialdesk.trial.roles import Action
from trialdesk.web.api_screenings import ProblemRoute
from trialdesk.web.api_trial_common import (
    PROBLEMS,
    ClinicalReader,
    Page,
    cursor_query,
    limit_query,
    open_desk,
    page_document,
    plain,
    row_document,
)
from trialdesk.web.auth import requires
from trialdesk.web.sessions import Account

router = APIRouter(prefix="/api/queries", tags=["data queries"], route_class=ProblemRoute)
Opener = Annotated[Account, Depends(requires(Action.OPEN_QUERY))]
Answerer = Annotated[Account, Depends(requires(Action.ANSWER_QUERY))]
Closer = Annotated[Account, Depends(requires(Action.CLOSE_QUERY))]


class QueryIn(BaseModel):
    entity: str = Field(description=f"One of {', '.join(QUERYABLE)}.", examples=["adverse_event"])
    entity_id: int
    field: str = Field(examples=["grade"])
    question: str = Field(examples=["Source notes say grade 2; please check."])


class AnswerIn(BaseModel):
    answer: str = Field(description="The site's answer; the reason of a correction.")
    corrected_value: Any = Field(
        None,
        description="The corrected value of the queried field (dates YYYY-MM-DD, times ISO "
        "8601 with zone); leave out to answer without correcting.",
    )


class CloseIn(BaseModel):
    note: str | None = Field(None, description="Required when closing an unanswered query.")


def _document(session: Any, row: DataQuery) -> dict[str, Any]:
    trail = [
        {
            "at": entry.at.isoformat(),
            "actor": entry.actor,
            "field": entry.field,
            "old": plain(from_json_text(entry.old_value)),
            "new": plain(from_json_text(entry.new_value)),
            "reason": entry.reason,
        }
        for entry in audit_trail(session, "data_query", str(row.id))
    ]
    return row_document(row, audit=trail)


@router.get("", summary="Data queries, newest first", response_model=Page, responses=PROBLEMS)
def list_all(
    request: Request,
    account: ClinicalReader,
    status: str | None = Query(None, description="open, answered or closed."),
    participant_id: int | None = Query(None),
    limit: int = limit_query(),
    cursor: int | None = cursor_query(),
) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        page = list_queries(
            desk.session,
            status=status,
            participant_id=participant_id,
            limit=limit,
            cursor=cursor,
        )
        items = [row_document(row) for row in page.items]
    return page_document(request, items, page.total, limit, page.next_cursor)


@router.post("", status_code=201, summary="Open a data query (monitor)", responses=PROBLEMS)
def open_one(request: Request, account: Opener, body: QueryIn) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        row = open_query(
            desk.session,
            desk.ctx,
            entity=body.entity,
            entity_id=body.entity_id,
            field=body.field,
            question=body.question,
            actor=desk.actor,
        )
        return _document(desk.session, row)


@router.get("/{query_id}", summary="One data query with its audit trail", responses=PROBLEMS)
def read_one(request: Request, account: ClinicalReader, query_id: int) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        return _document(desk.session, get_query(desk.session, query_id))


@router.post(
    "/{query_id}/answer",
    summary="Answer a data query, or correct the value (site)",
    responses=PROBLEMS,
)
def answer_one(
    request: Request, account: Answerer, query_id: int, body: AnswerIn
) -> dict[str, Any]:
    extra = {}
    if "corrected_value" in body.model_fields_set:
        extra["corrected_value"] = body.corrected_value
    with open_desk(request, account) as desk:
        row = answer_query(
            desk.session, desk.ctx, query_id, answer=body.answer, actor=desk.actor, **extra
        )
        return _document(desk.session, row)


@router.post("/{query_id}/close", summary="Close a data query (monitor)", responses=PROBLEMS)
def close_one(request: Request, account: Closer, query_id: int, body: CloseIn) -> dict[str, Any]:
    with open_desk(request, account) as desk:
        row = close_query(desk.session, desk.ctx, query_id, note=body.note, actor=desk.actor)
        return _document(desk.session, row)
