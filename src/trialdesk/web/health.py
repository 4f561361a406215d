"""``GET /healthz``: is this desk process able to serve? For load balancers and monitoring.

200 when the database answers and its schema is at the revision this software expects; 503
otherwise (unreachable, or a schema behind or ahead of this version: run `trialdesk db upgrade`,
or the software is older than the database). The body says which, without the database URL.
"""

from __future__ import annotations

from functools import cache

from fastapi.responses import JSONResponse
from sqlalchemy import inspect, text
from sqlalchemy.exc import SQLAlchemyError

from trialdesk import __version__
from trialdesk.protocol import LoadedProtocol
from trialdesk.store.migrate import head_revision
from trialdesk.web.runtime import Runtime


@cache
def _expected_revision() -> str:
    """Reading the migration scripts takes milliseconds; they do not change while running."""
    return head_revision()


def health_response(runtime: Runtime, loaded: LoadedProtocol) -> JSONResponse:
    expected = _expected_revision()
    revision: str | None = None
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
            # Read directly: Alembic's MigrationContext would log two lines per probe.
            if inspect(connection).has_table("alembic_version"):
                revision = connection.execute(
                    text("SELECT version_num FROM alembic_version")
                ).scalar_one_or_none()
    except SQLAlchemyError as exc:
        database = f"unreachable: {type(exc).__name__}"
    else:
        database = "ok"
    reachable = database == "ok"
    at_head = reachable and revision == expected
    body = {
        "status": "ok" if at_head else "degraded",
        "database": database,
        "schema": {
            "revision": revision,
            "expected": expected,
            "at_head": at_head,
        },
        "protocol": loaded.protocol.id,
        "protocol_sha256": loaded.sha256,
        "version": __version__,
    }
    return JSONResponse(body, status_code=200 if at_head else 503)
