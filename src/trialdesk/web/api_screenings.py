"""`/api/screenings`: screen a patient and keep the screening; read one back; list them.

Every bad request is answered with ``application/problem+json`` naming the field at fault, and
nothing is stored for it. The screening itself is done by :mod:`trialdesk.trial.screening`, the
same code that ``trialdesk screen --replay`` runs.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Callable, Coroutine
from datetime import date, datetime
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, Field

from trialdesk.errors import TrialdeskError
from trialdesk.protocol.loader import format_location
from trialdesk.store.models import Screening
from trialdesk.store.screenings import (
    MAX_PAGE_SIZE,
    RECORD_CLAIMS,
    ScreeningNotFound,
    get_screening,
    list_screenings,
)
from trialdesk.store.session import unit_of_work
from trialdesk.trial.roles import Action
from trialdesk.trial.screening import MAX_INPUT_CHARS, screen_and_record
from trialdesk.web.auth import requires
from trialdesk.web.input_guards import api_input_refusal, integer_params
from trialdesk.web.runtime import Runtime
from trialdesk.web.sessions import Account

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
ACCEPTED_MEDIA_TYPES: Final = ("application/json", "application/fhir+json", "application/yaml")


class Problem(BaseModel):
    """RFC 9457 problem details, with the request field at fault."""

    title: str
    detail: str
    field: str | None = None


class CriterionResult(BaseModel):
    id: str = Field(description="Criterion id of the protocol, e.g. I4a.anc or E8.creatinine.")
    status: str = Field(description="met, not_met, unknown or needs_confirmation.")
    reason: str
    evidence: dict[str, Any] = Field(description="Values used, with units, ULN, dates.")


class ScreeningSummary(BaseModel):
    id: int
    verdict: str = Field(description="eligible, ineligible, incomplete or needs_review.")
    screening_date: date
    input_format: str = Field(description="record (trialdesk's format) or fhir (R4 Bundle).")
    protocol_sha256: str = Field(description="sha256 of the exact protocol text used.")
    software_version: str
    screened_by: str
    screened_at: datetime
    url: str


class ScreeningOut(ScreeningSummary):
    criteria: list[CriterionResult] = Field(description="Every criterion of the protocol.")


class ScreeningInput(BaseModel):
    format: str
    text: str = Field(description="The request body exactly as it was received.")


class ScreeningDetail(ScreeningOut):
    input: ScreeningInput


class ScreeningList(BaseModel):
    items: list[ScreeningSummary]
    total: int = Field(description="How many screenings are stored in all.")
    limit: int
    next_cursor: int | None = Field(description="Pass as cursor for the next (older) page.")
    next: str | None = Field(description="URL of the next page; null on the last page.")


class ProblemRoute(APIRoute):
    """Answers this router's bad requests as problem+json instead of FastAPI's default shape,
    and an unknown screening id as 404; input no route can use is refused first
    (:func:`trialdesk.web.input_guards.api_input_refusal`)."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().__init__(path, in_one_thread(endpoint), **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        takes_json, integers = self.body_field is not None, integer_params(self.dependant)

        async def handler(request: Request) -> Response:
            refusal = await api_input_refusal(
                request, takes_json=takes_json, integer_params=integers
            )
            if refusal is not None:
                return refusal
            try:
                return await handle(request)
            except RequestValidationError as exc:
                first = exc.errors()[0]
                location = tuple(part for part in first["loc"] if part not in ("query", "path"))
                return problem(400, first["msg"], format_location(location))
            except ScreeningNotFound as exc:
                return problem(404, str(exc), exc.field, title="No such screening")

        return handler


def in_one_thread(endpoint: Callable[..., Any]) -> Callable[..., Any]:
    """A plain route function run on the request thread pool by a coroutine, so that FastAPI
    checks the returned document against the route's model where it is, on the event loop.

    For a plain function FastAPI takes a second thread from the pool for that check, and under
    load the request queued again behind every newer one before it was answered. The signature
    (parameters, dependencies, response model) is the function's own (``functools.wraps``).
    """
    if inspect.iscoroutinefunction(endpoint):
        return endpoint

    @functools.wraps(endpoint)
    async def run(*args: Any, **kwargs: Any) -> Any:
        return await run_in_threadpool(endpoint, *args, **kwargs)

    return run


Screener = Annotated[Account, Depends(requires(Action.SCREEN))]
Reader = Annotated[Account, Depends(requires(Action.READ_CLINICAL))]

router = APIRouter(prefix="/api/screenings", tags=["screenings"], route_class=ProblemRoute)

_PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Bad input; `field` names what to fix."},
    401: {"model": Problem, "description": "Not logged in (POST /api/session)."},
    403: {"model": Problem, "description": "Your role may not do this, or CSRF token missing."},
    404: {"model": Problem, "description": "No screening with this id."},
}

_REQUEST_BODY = {
    "required": True,
    "description": "One patient: trialdesk's screening record (JSON or YAML; JSON Schema in "
    "docs/screening-record.schema.json), or a FHIR R4 Bundle (resourceType Bundle). "
    "Recognised from the content and stored exactly as received.",
    "content": {
        media_type: {"schema": {"type": "object", "additionalProperties": True}}
        for media_type in ACCEPTED_MEDIA_TYPES
    },
}


@router.post(
    "",
    status_code=201,
    summary="Screen a patient and store the screening",
    response_model=ScreeningOut,
    responses={
        **_PROBLEMS,
        413: {"model": Problem, "description": "Body too large."},
        415: {"model": Problem, "description": "Body is not JSON or YAML."},
    },
    openapi_extra={"requestBody": _REQUEST_BODY},
)
async def create_screening(
    request: Request,
    account: Screener,
    date_: str | None = Query(
        None,
        alias="date",
        description="Screening date YYYY-MM-DD (default: today); not in the future.",
        examples=["2026-11-20"],
    ),
) -> Response:
    """Evaluates every criterion of the protocol the desk runs and stores the input, the result,
    the protocol's hash and the software version. Returns 201 with a Location header."""
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type not in ACCEPTED_MEDIA_TYPES:
        return problem(
            415,
            f"the body is sent as {media_type or 'no content type'}; send the record or "
            f"Bundle with Content-Type {' or '.join(ACCEPTED_MEDIA_TYPES)}",
            "content-type",
            title="Unsupported media type",
        )
    raw = await request.body()
    if len(raw) > 4 * MAX_INPUT_CHARS:
        return problem(
            413,
            f"the body is {len(raw):,} bytes; send only one patient's record",
            "body",
            title="Body too large",
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise TrialdeskError(
            f"is not UTF-8 text (byte {exc.start}); send JSON encoded as UTF-8", field="body"
        ) from None
    on = _parse_date(date_)
    screened_by = account.username
    runtime: Runtime = request.app.state.runtime

    def _screen() -> Screening:
        with unit_of_work(runtime.engine, claims=RECORD_CLAIMS) as session:
            return screen_and_record(
                session,
                loaded=runtime.loaded,
                protocol_version_id=runtime.protocol_version_id,
                input_text=text,
                on=on,
                screened_by=screened_by,
            )

    stored = await run_in_threadpool(_screen)
    return JSONResponse(
        screening_document(stored), status_code=201, headers={"Location": _url(stored.id)}
    )


@router.get(
    "/{screening_id}",
    summary="One stored screening, with its input exactly as received",
    response_model=ScreeningDetail,
    responses=_PROBLEMS,
)
def read_screening(request: Request, screening_id: int, _: Reader) -> Response:
    runtime: Runtime = request.app.state.runtime
    with unit_of_work(runtime.engine) as session:
        stored = get_screening(session, screening_id)
    document = screening_document(stored)
    document["input"] = {"format": stored.input_format, "text": stored.input_text}
    return JSONResponse(document)


@router.get(
    "",
    summary="Stored screenings, newest first, a page at a time",
    response_model=ScreeningList,
    responses=_PROBLEMS,
)
def list_stored_screenings(
    request: Request,
    _: Reader,
    limit: int = Query(50, description=f"Page size, 1 to {MAX_PAGE_SIZE}."),
    cursor: int | None = Query(
        None,
        description="next_cursor of the previous page; leave out for the newest page. "
        "Keyset paging: screenings added meanwhile never shift or repeat a page.",
    ),
) -> Response:
    runtime: Runtime = request.app.state.runtime
    with unit_of_work(runtime.engine) as session:
        page = list_screenings(session, limit=limit, cursor=cursor)
    following = (
        None if page.next_cursor is None else f"{_url()}?limit={limit}&cursor={page.next_cursor}"
    )
    return JSONResponse(
        {
            "items": [summary_document(row) for row in page.items],
            "total": page.total,
            "limit": limit,
            "next_cursor": page.next_cursor,
            "next": following,
        }
    )


def summary_document(row: Screening) -> dict[str, Any]:
    return {
        "id": row.id,
        "verdict": row.verdict,
        "screening_date": row.screening_date.isoformat(),
        "input_format": row.input_format,
        "protocol_sha256": row.protocol_sha256,
        "software_version": row.software_version,
        "screened_by": row.screened_by,
        "screened_at": row.screened_at.isoformat(),
        "url": _url(row.id),
    }


def screening_document(row: Screening) -> dict[str, Any]:
    """The stored result (verdict and every criterion, as stored) with the screening's facts."""
    result: dict[str, Any] = json.loads(row.result_json)
    return {"id": row.id, **result, **summary_document(row)}


def problem(
    status: int, detail: str, field: str | None, *, title: str = "Request cannot be processed"
) -> JSONResponse:
    return JSONResponse(
        {"title": title, "detail": detail, "field": field},
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def _parse_date(value: str | None) -> date | None:
    if value is None or not value.strip():
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise TrialdeskError(
            f"{value!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-11-20", field="date"
        ) from None


def _url(screening_id: int | None = None) -> str:
    return router.prefix if screening_id is None else f"{router.prefix}/{screening_id}"
