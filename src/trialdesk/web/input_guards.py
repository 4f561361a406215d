"""Hostile input: what the desk refuses before a route (or the database) sees it.

* :class:`BodySizeLimit` answers 413 for a body over :data:`MAX_BODY_BYTES` (larger limits for
  the two routes that take one patient's whole screening input), judged by Content-Length
  before anything is read, and by counting while it is read when no length is declared.
* :func:`api_input_refusal` (called by the API's route class) answers 415 for a JSON route sent
  another media type, 400 for a body that is not UTF-8 JSON (saying where), and 400 naming the
  field for values no route can use: text with a NUL character (PostgreSQL cannot store one),
  integers outside the database's 64-bit range, and NaN or Infinity (which Python's JSON
  parser accepts although JSON does not).
* :func:`install_input_guards` adds the middleware and three answers: FastAPI's validation
  errors as problem+json naming the field, and, as a last line behind the checks above, a
  database refusing a value (PostgreSQL's DataError, SQLite's integer overflow) as 400
  instead of 500.
"""

from __future__ import annotations

import json
import math
import re
import types
from collections.abc import Iterator
from typing import Any, Final, Union, get_args, get_origin

from fastapi import FastAPI, Request
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from trialdesk.protocol.loader import format_location
from trialdesk.trial.screening import MAX_INPUT_CHARS
from trialdesk.web.asgi import HttpMiddleware, header

PROBLEM_MEDIA_TYPE: Final = "application/problem+json"
MIB: Final = 1024 * 1024
MAX_BODY_BYTES: Final = 1 * MIB
"""Every form and JSON body of the desk. The largest legitimate ones are a screening form
(a few kB) and a correction with its reason; the public forms have their own, smaller limit."""
MAX_SCREENING_BODY_BYTES: Final = 4 * MAX_INPUT_CHARS + MIB
"""One patient's screening input (a FHIR Bundle can be a few MB): MAX_INPUT_CHARS characters
of up to 4 bytes each in UTF-8, plus room for the multipart wrapping and the form's fields."""
LARGE_BODY_PATHS: Final = frozenset({"/api/screenings", "/desk/screening/import"})
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
JSON_MEDIA_TYPE: Final = "application/json"
_INTEGER: Final = re.compile(r"[+-]?\d+")


def body_limit(path: str) -> int:
    """The largest body accepted on ``path``, in bytes."""
    return MAX_SCREENING_BODY_BYTES if path in LARGE_BODY_PATHS else MAX_BODY_BYTES


def problem(status: int, title: str, detail: str, field: str | None) -> JSONResponse:
    return JSONResponse(
        {"title": title, "detail": detail, "field": field},
        status_code=status,
        media_type=PROBLEM_MEDIA_TYPE,
    )


def too_large(limit: int) -> JSONResponse:
    return problem(
        413,
        "Request too large",
        f"body: the request is larger than {limit // MIB} MiB ({limit:,} bytes); "
        "send one record at a time",
        "body",
    )


class _BodyTooLarge(Exception):
    """Raised from ``receive`` once the body read so far passes the limit."""


class BodySizeLimit(HttpMiddleware):
    """Refuses an oversized request body with 413 problem+json before it is held in memory.

    A declared Content-Length over the limit is refused without reading the body. A body sent
    without one (chunked) is counted as the app reads it; reading stops at the limit and, as
    long as no answer has started, the answer is the same 413.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = body_limit(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await too_large(limit)(scope, receive, send)
            return
        received = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _BodyTooLarge
            return message

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, watched_send)
        except _BodyTooLarge:
            if started:
                raise
            await too_large(limit)(scope, receive, send)


def _content_length(scope: Scope) -> int | None:
    value = header(scope, "content-length")
    try:
        return None if value is None else int(value)
    except ValueError:
        return None


# --- The API's own checks (called by ProblemRoute) ----------------------------------------


def media_type_of(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def is_json_media_type(media_type: str) -> bool:
    return media_type == JSON_MEDIA_TYPE or (
        media_type.startswith("application/") and media_type.endswith("+json")
    )


async def api_input_refusal(
    request: Request, *, takes_json: bool, integer_params: frozenset[str]
) -> Response | None:
    """The refusal of a request no API route can use, or None to let the route decide.

    ``takes_json``: the route reads a JSON body (415 for a body of another type);
    ``integer_params``: names of its integer path and query parameters.
    """
    for name, value in [*request.path_params.items(), *request.query_params.multi_items()]:
        if name in integer_params and not _fits_int64(value):
            return _bad(name, f"{value} is out of range; use {INT64_MIN} to {INT64_MAX}")
    if not takes_json:
        return None
    body = await request.body()
    if not body.strip():
        return None  # the route says which fields are required
    media_type = media_type_of(request)
    if not is_json_media_type(media_type):
        return problem(
            415,
            "Unsupported media type",
            f"content-type: the body is sent as {media_type or 'no content type'}; send JSON "
            f"with Content-Type {JSON_MEDIA_TYPE}",
            "content-type",
        )
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        return _bad("body", f"is not UTF-8 text (byte {exc.start}); send JSON encoded as UTF-8")
    try:
        unusable = next(_unusable_values(json.loads(text), ("body",)), None)
    except json.JSONDecodeError as exc:
        return _bad("body", f"is not JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})")
    except RecursionError:
        return _bad("body", "is nested too deeply; send the fields the route documents")
    if unusable is None:
        return None
    location, message = unusable
    return _bad(format_location(location), message)


def integer_params(dependant: Dependant) -> frozenset[str]:
    """Names of a route's integer path and query parameters (its dependencies' included)."""
    names: set[str] = set()
    pending = [dependant]
    while pending:
        current = pending.pop()
        for param in [*current.path_params, *current.query_params]:
            annotation = param.field_info.annotation
            if annotation is int or (
                get_origin(annotation) in (Union, types.UnionType) and int in get_args(annotation)
            ):
                names.add(param.alias)
        pending.extend(current.dependencies)
    return frozenset(names)


def _bad(field: str, message: str) -> JSONResponse:
    return problem(400, "Request cannot be processed", f"{field}: {message}", field)


def _fits_int64(text: str) -> bool:
    if not _INTEGER.fullmatch(text.strip()):
        return True  # not an integer: the route's own validation names it
    return INT64_MIN <= int(text) <= INT64_MAX


def _unusable_values(value: Any, location: tuple[int | str, ...]) -> Iterator[tuple[Any, str]]:
    """(location, message) of every value in a parsed JSON document that no field can hold."""
    if isinstance(value, str):
        if "\x00" in value:
            yield location, "contains a NUL character (\\u0000); remove it"
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if not INT64_MIN <= value <= INT64_MAX:
            yield location, f"{value} is out of range; use {INT64_MIN} to {INT64_MAX}"
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield location, f"{value} is not a number JSON allows; send a finite number"
    elif isinstance(value, dict):
        for key, item in value.items():
            if "\x00" in key:
                yield location, "has a key with a NUL character (\\u0000); remove it"
            yield from _unusable_values(item, (*location, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unusable_values(item, (*location, index))


# --- Installed on the app -----------------------------------------------------------------


def install_input_guards(app: FastAPI) -> None:
    """The body size limit and the problem answers for bad input, in one call from create_app.

    Call it after the accounts middleware is installed, so the limit applies before the CSRF
    check reads a form body.
    """
    app.add_middleware(BodySizeLimit)
    app.add_exception_handler(RequestValidationError, _validation_problem)
    app.add_exception_handler(DataError, _data_problem)
    app.add_exception_handler(OverflowError, _overflow_problem)


async def _validation_problem(_: Request, exc: Exception) -> Response:
    """FastAPI's 422 (for the routes outside the API's route class) as problem+json."""
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0]
    location = tuple(part for part in first["loc"] if part not in ("query", "path"))
    field = format_location(location)
    return problem(422, "Request cannot be processed", f"{field}: {first['msg']}", field)


async def _data_problem(_: Request, exc: Exception) -> Response:
    """The database refused a value (PostgreSQL: a NUL in text, a number out of range)."""
    assert isinstance(exc, DataError)
    reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else "invalid value"
    return problem(
        400,
        "Request cannot be processed",
        f"the database cannot take a value in the request ({reason}); correct it and try again",
        None,
    )


async def _overflow_problem(_: Request, exc: Exception) -> Response:
    """SQLite cannot take an integer beyond 64 bits (e.g. a record number in a page's URL)."""
    if "SQLite INTEGER" not in str(exc):
        raise exc
    return problem(
        400,
        "Request cannot be processed",
        f"a number in the request is out of range; use {INT64_MIN} to {INT64_MAX}",
        None,
    )
