"""What the app's pure ASGI middlewares share: passing non-HTTP scopes through, reading a header.

They are pure ASGI (not Starlette's BaseHTTPMiddleware) so that a streamed body and the server's
own 500 handling pass through them unchanged.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send


class HttpMiddleware:
    """A middleware that acts on HTTP requests only: lifespan and websocket scopes go straight
    to the wrapped app, every HTTP request to ``handle``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


def header(scope: Scope, name: str) -> str | None:
    """The first value of the request header ``name`` (any case), or None when it is absent.

    Header bytes are decoded as latin-1, as HTTP defines them; no value is ever refused here.
    """
    wanted = name.lower().encode("latin-1")
    for key, value in scope.get("headers", []):
        if bytes(key).lower() == wanted:
            return bytes(value).decode("latin-1")
    return None
