"""The FastAPI application factory.

`create_app()` loads the protocol (the built-in NCT06021067 unless a file is given), brings the
database to the latest schema and records the exact protocol text it runs, then serves pages
and the JSON API. Everything the pages show comes from the same use-cases the API offers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import asdict
from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from fastapi_offline import FastAPIOffline

from trialdesk import __version__
from trialdesk.errors import TrialdeskError
from trialdesk.markup import superscript_powers
from trialdesk.protocol import LoadedProtocol, load_protocol
from trialdesk.protocol.summary import summarise
from trialdesk.trial.clock import Clock, SystemClock
from trialdesk.web import api_screenings
from trialdesk.web.access_log import install_access_log
from trialdesk.web.accounts_setup import install_accounts
from trialdesk.web.busy import install_busy_answer
from trialdesk.web.health import health_response
from trialdesk.web.i18n import normalise_lang, translate
from trialdesk.web.input_guards import install_input_guards
from trialdesk.web.pages import install_desk_pages
from trialdesk.web.public_routes import PublicGuards, public_router
from trialdesk.web.request_threads import request_threads, use_request_threads
from trialdesk.web.runtime import Runtime
from trialdesk.web.security_headers import SecurityHeadersMiddleware

_PACKAGE = resources.files("trialdesk.web")


def create_app(
    *,
    protocol_path: str | Path | None = None,
    database_url: str | None = None,
    threads: int | None = None,
) -> FastAPI:
    """A ready app. ``database_url`` overrides TRIALDESK_DATABASE_URL / the default SQLite file;
    ``threads`` (requests worked on at once) overrides TRIALDESK_REQUEST_THREADS / the default."""
    threads = request_threads(threads)
    loaded = load_protocol(protocol_path)
    runtime = Runtime.start(loaded, database_url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        use_request_threads(threads)
        yield
        runtime.close()

    # FastAPIOffline serves /docs and /redoc from packaged files: no CDN, nothing downloaded.
    app = FastAPIOffline(
        title="trialdesk",
        version=__version__,
        summary=f"Trial desk for {loaded.protocol.id}",
        lifespan=lifespan,
    )
    app.state.runtime = runtime
    templates = Jinja2Templates(directory=str(_PACKAGE.joinpath("templates")))
    templates.env.filters["powers"] = superscript_powers
    templates.env.auto_reload = False  # packaged templates: no file check on every render
    app.mount("/static", StaticFiles(directory=str(_PACKAGE.joinpath("static"))), name="static")

    @app.exception_handler(TrialdeskError)
    async def _problem(_: Request, exc: TrialdeskError) -> JSONResponse:
        return JSONResponse(
            status_code=400,
            content={
                "title": "Request cannot be processed",
                "detail": str(exc),
                "field": exc.field,
            },
            media_type="application/problem+json",
        )

    app.include_router(api_screenings.router)
    install_accounts(app)
    install_input_guards(app)
    install_busy_answer(app)
    install_desk_pages(app)
    app.state.public_guards = PublicGuards()
    app.include_router(
        public_router(templates, loaded, clock=site_clock, guards=app.state.public_guards)
    )

    @app.get("/protocol", response_class=HTMLResponse, include_in_schema=False)
    def protocol_page(
        request: Request, lang: str | None = None, weight: float | None = None
    ) -> HTMLResponse:
        chosen = normalise_lang(lang or request.headers.get("accept-language"))
        summary = summarise(loaded.protocol, weight_kg=weight, lang=chosen)
        return templates.TemplateResponse(
            request,
            "protocol.html",
            {
                "s": summary,
                "lang": chosen,
                "t": lambda text, **kw: translate(text, chosen, **kw),
                "protocol_id": loaded.protocol.id,
                "sha256": loaded.sha256,
                "version": __version__,
            },
        )

    def api_protocol(weight: float | None = None, lang: str = "en") -> dict[str, Any]:
        """The protocol the desk runs: the full validated model, its hash and a readable summary."""
        return protocol_document(loaded, weight_kg=weight, lang=normalise_lang(lang))

    app.get("/api/protocol", tags=["protocol"])(api_screenings.in_one_thread(api_protocol))

    @app.get("/healthz", tags=["operations"])
    def healthz(request: Request) -> JSONResponse:
        """Database reachable and schema at this version's revision: 200; otherwise 503."""
        return health_response(request.app.state.runtime, loaded)

    app.add_middleware(SecurityHeadersMiddleware)  # CSP & co. on every response, refusals too
    install_access_log(app)  # last, so outermost: it times and logs every other middleware too
    return app


def site_clock(request: Request) -> Clock:
    """The app's clock (``app.state.clock``, set by tests and the demo), else the real time."""
    clock: Clock | None = getattr(request.app.state, "clock", None)
    return clock if clock is not None else SystemClock()


def protocol_document(
    loaded: LoadedProtocol, *, weight_kg: float | None, lang: str
) -> dict[str, Any]:
    return {
        "id": loaded.protocol.id,
        "version": loaded.protocol.version,
        "sha256": loaded.sha256,
        "protocol": loaded.protocol.model_dump(mode="json"),
        "summary": asdict(summarise(loaded.protocol, weight_kg=weight_kg, lang=lang)),
    }
