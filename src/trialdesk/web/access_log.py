"""One access-log record per request, made by a pure ASGI middleware.

The record names the method, the path without its query string (``?q=`` can hold a name), the
status, the time taken and a request id; never the client address (a member of the public on
the pre-screening page is a possible participant), cookies, headers or the body. The request id
is the caller's ``X-Request-ID`` when it looks like one (so a proxy's id links both logs), else a
new one; it is sent back in ``X-Request-ID``. An unhandled exception is logged once, with its
traceback and the request id, and then passed on to the server's own 500 handling.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from trialdesk.web.asgi import HttpMiddleware, header

ACCESS_LOGGER = "trialdesk.access"
REQUEST_ID_HEADER = "x-request-id"
_ACCEPTED_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")

log = logging.getLogger(ACCESS_LOGGER)


def install_access_log(app: FastAPI) -> None:
    """Log every HTTP request of ``app`` (see the module docstring for what is logged)."""
    app.add_middleware(AccessLog)


class AccessLog(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = _request_id(scope)
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                headers = list(message.get("headers", []))
                headers.append((REQUEST_ID_HEADER.encode(), request_id.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception(
                "unhandled exception in %s %s",
                scope["method"],
                scope["path"],
                extra=_fields(scope, request_id, 500, started, event="unhandled_exception"),
            )
            raise
        level = logging.ERROR if status >= 500 else logging.INFO
        log.log(
            level,
            "%s %s %d",
            scope["method"],
            scope["path"],
            status,
            extra=_fields(scope, request_id, status, started, event="request"),
        )


def _request_id(scope: Scope) -> str:
    given = header(scope, REQUEST_ID_HEADER)
    if given is not None and _ACCEPTED_ID.fullmatch(given):
        return given
    return uuid.uuid4().hex


def _fields(
    scope: Scope, request_id: str, status: int, started: float, *, event: str
) -> dict[str, object]:
    # scope["path"] never holds the query string (that is scope["query_string"]).
    return {
        "event": event,
        "method": scope["method"],
        "path": scope["path"],
        "status": status,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "request_id": request_id,
    }
