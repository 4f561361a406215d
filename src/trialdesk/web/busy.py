"""A write that could not get the database's write lock in time answers 503, not 500.

Writers take turns (:mod:`trialdesk.store.session`). When the desk is so busy that one waits
longer than the database lets it (SQLite's busy timeout) or than its process's queue of writers
allows, its transaction was rolled back before anything was written, so the person can simply
send it again. That is what the answer says.
"""

from __future__ import annotations

from typing import Final

from fastapi import FastAPI, Request, Response
from sqlalchemy.exc import OperationalError

from trialdesk.store.session import WriterQueueTimeout, waited_too_long
from trialdesk.web.api_screenings import problem

RETRY_AFTER_SECONDS: Final = 2


def install_busy_answer(app: FastAPI) -> None:
    app.add_exception_handler(OperationalError, _busy)
    app.add_exception_handler(WriterQueueTimeout, _busy)


async def _busy(_: Request, exc: Exception) -> Response:
    if not waited_too_long(exc):
        raise exc
    response = problem(
        503,
        "the desk is busy saving other entries and could not save this one in time; nothing of "
        "it was saved. Send it again in a few seconds",
        None,
        title="The desk is busy",
    )
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
