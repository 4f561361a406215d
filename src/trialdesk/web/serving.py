"""What `trialdesk serve` needs beyond the app: a factory uvicorn's worker processes can import,
and the checks made before starting several of them.

uvicorn starts each worker in a new interpreter, so a worker learns its settings from the
environment: TRIALDESK_DATABASE_URL, TRIALDESK_PROTOCOL (a protocol file; unset for the
built-in one), TRIALDESK_LOG_FORMAT and TRIALDESK_LOG_LEVEL. `trialdesk serve` sets them.
"""

from __future__ import annotations

import ipaddress
import os

from fastapi import FastAPI

from trialdesk.errors import TrialdeskError
from trialdesk.logs import configure_logging_from_env
from trialdesk.web.form_tokens import SECRET_ENV

FACTORY = "trialdesk.web.serving:create_app_from_env"
PROTOCOL_ENV = "TRIALDESK_PROTOCOL"


def create_app_from_env() -> FastAPI:
    """The desk as configured by the environment (see the module docstring)."""
    from trialdesk.web.app import create_app

    configure_logging_from_env()
    return create_app(protocol_path=os.environ.get(PROTOCOL_ENV) or None)


def require_shared_secret(workers: int) -> None:
    """Several workers must sign the public forms' tokens with one key: without
    TRIALDESK_SECRET_KEY each makes its own, and a form served by one worker is refused by the
    next (the visitor sees "the form has expired")."""
    if workers > 1 and not os.environ.get(SECRET_ENV, "").strip():
        raise TrialdeskError(
            f"{workers} workers need {SECRET_ENV}: every worker must sign the public forms "
            'with the same key. Generate one with `python -c "import secrets; '
            f"print(secrets.token_urlsafe(32))\"`, keep it in the service's environment (not in "
            "the repository) and start again; see docs/operations.md, Running in production",
            field="--workers",
        )


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
