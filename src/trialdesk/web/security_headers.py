"""Security headers on every response: pages, API, static files and refusals alike.

The desk's own pages load scripts and stylesheets from /static only (no inline script), so the
policy is strict: ``default-src 'self'``, no framing, no plugins, forms post only here. Two
kinds of page need more, on their paths only:

- the safety report page is the same self-contained HTML document the CLI prints to PDF: inline
  ``<style>`` and ``style`` attributes, plots as ``data:`` images;
- /docs and /redoc (served by fastapi_offline) carry an inline start-up script, whose sha256 is
  put into the policy per response (no ``'unsafe-inline'`` for scripts), and ReDoc's and
  Swagger UI's styles are set by script; ReDoc searches in a ``blob:`` worker.

The referrer policy is ``same-origin``, not ``no-referrer``: with ``no-referrer`` a browser
sends ``Origin: null`` on form posts, and the public forms refuse posts from another origin.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from typing import Final

from starlette.datastructures import MutableHeaders
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from trialdesk.web.asgi import HttpMiddleware

STRICT_CSP: Final = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
REPORT_CSP: Final = STRICT_CSP.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'")
DOCS_CSP: Final = (
    "default-src 'self'; script-src 'self'{hashes}; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
REPORT_PATHS: Final = frozenset({"/desk/reports/safety"})
DOCS_PATHS: Final = frozenset({"/docs", "/redoc", "/docs/oauth2-redirect"})

COMMON_HEADERS: Final[Mapping[str, str]] = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}
HSTS: Final = "max-age=31536000"
"""Sent only on responses over HTTPS (the scheme as uvicorn sets it, from a trusted proxy too)."""

_INLINE_SCRIPT: Final = re.compile(rb"<script>(.*?)</script>", re.DOTALL | re.IGNORECASE)


def policy_for(path: str) -> str:
    """The Content-Security-Policy of a response to ``path`` (docs pages: see docs_policy)."""
    return REPORT_CSP if path in REPORT_PATHS else STRICT_CSP


def docs_policy(html: bytes) -> str:
    """The docs pages' policy, allowing exactly the inline scripts of ``html`` by hash."""
    hashes = "".join(
        f" 'sha256-{base64.b64encode(hashlib.sha256(body).digest()).decode('ascii')}'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    return DOCS_CSP.format(hashes=hashes)


class SecurityHeadersMiddleware(HttpMiddleware):
    """Adds the headers to every HTTP response; a header a route set itself is kept."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope["path"]
        https = scope.get("scheme") == "https"
        if path in DOCS_PATHS:
            await self._docs(scope, receive, send, https=https)
            return

        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                _add(message, policy_for(path), https=https)
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            # The server's own 500 page is made outside every middleware, without headers:
            # send the same plain answer from here, then let the error go on to be logged.
            if not started:
                answer = PlainTextResponse("Internal Server Error", status_code=500)
                await answer(scope, receive, send_with_headers)
            raise

    async def _docs(self, scope: Scope, receive: Receive, send: Send, *, https: bool) -> None:
        """Holds the (small) docs page back until its inline scripts are known."""
        start: Message | None = None
        chunks: list[bytes] = []

        async def send_buffered(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
                return
            if message["type"] != "http.response.body" or start is None:
                await send(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body", False):
                return
            body = b"".join(chunks)
            _add(start, docs_policy(body), https=https)
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})

        await self.app(scope, receive, send_buffered)


def _add(start: Message, policy: str, *, https: bool) -> None:
    headers = MutableHeaders(scope=start)
    headers.setdefault("Content-Security-Policy", policy)
    for name, value in COMMON_HEADERS.items():
        headers.setdefault(name, value)
    if https:
        headers.setdefault("Strict-Transport-Security", HSTS)
