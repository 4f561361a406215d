"""`trialdesk serve`: start the trial desk web app.

One process by default. With ``--workers N`` uvicorn starts N processes that each build the app
from the environment (:mod:`trialdesk.web.serving`); the schema is upgraded and the protocol
recorded once, here, before they start. Logs go to stderr as JSON lines unless
``--log-format text`` (see :mod:`trialdesk.logs`); uvicorn's own access log is off.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Annotated, Any

import typer

from trialdesk.logs import LOG_FORMAT_ENV, LOG_LEVEL_ENV


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    protocol: Annotated[
        Path | None,
        typer.Option(help="Protocol YAML to run instead of the built-in NCT06021067."),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            help="SQLAlchemy URL of the database; default: TRIALDESK_DATABASE_URL, else "
            "$TRIALDESK_HOME/trialdesk.sqlite3 (TRIALDESK_HOME defaults to ~/.trialdesk)."
        ),
    ] = None,
    demo: Annotated[
        bool,
        typer.Option(
            help="Seed a demo trial in progress first (on a new temporary SQLite database "
            "unless --database-url is given) and print its logins."
        ),
    ] = False,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            help="Worker processes; more than 1 needs TRIALDESK_SECRET_KEY (and is best on "
            "PostgreSQL).",
        ),
    ] = 1,
    threads: Annotated[
        int | None,
        typer.Option(
            help="Requests each worker process works on at once; default: "
            "TRIALDESK_REQUEST_THREADS, else 8 (see docs/operations.md).",
        ),
    ] = None,
    proxy_headers: Annotated[
        bool,
        typer.Option(
            help="Trust X-Forwarded-For/-Proto from the addresses in --forwarded-allow-ips "
            "(a TLS reverse proxy)."
        ),
    ] = True,
    forwarded_allow_ips: Annotated[
        str,
        typer.Option(
            help="Comma-separated proxy addresses whose X-Forwarded-* headers are trusted."
        ),
    ] = "127.0.0.1",
    log_format: Annotated[
        str, typer.Option(help="json (one object per line, for log collectors) or text.")
    ] = "json",
    log_level: Annotated[str, typer.Option(help="debug, info, warning or error.")] = "info",
) -> None:
    """Start the trial desk (SQLite by default; TRIALDESK_DATABASE_URL for PostgreSQL)."""
    import uvicorn

    from trialdesk.logs import configure_logging
    from trialdesk.web.app import create_app
    from trialdesk.web.form_tokens import SECRET_ENV
    from trialdesk.web.request_threads import REQUEST_THREADS_ENV
    from trialdesk.web.serving import FACTORY, PROTOCOL_ENV, is_loopback, require_shared_secret

    configure_logging(log_format, log_level)
    require_shared_secret(workers)
    if not is_loopback(host) and not os.environ.get(SECRET_ENV, "").strip():
        logging.getLogger("trialdesk.serve").warning(
            "%s is not set: public form tokens are signed with a key made at start-up, so a "
            "restart refuses forms already open in visitors' browsers",
            SECRET_ENV,
        )

    if demo:
        import tempfile

        from trialdesk.cli.demo_cmd import seed_and_describe

        if database_url is None:
            folder = Path(tempfile.mkdtemp(prefix="trialdesk-demo-"))
            database_url = f"sqlite:///{folder / 'demo.sqlite3'}"
        typer.echo(seed_and_describe(database_url, str(protocol or "builtin")))

    application = create_app(protocol_path=protocol, database_url=database_url, threads=threads)
    runtime = application.state.runtime
    typer.echo(
        f"trialdesk: protocol {runtime.loaded.protocol.id} on {runtime.database_label}"
        + (f" with {workers} workers" if workers > 1 else "")
        + f"\ntrialdesk: open http://{host}:{port}/ (Ctrl+C to stop)"
    )
    server_options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,  # keep trialdesk's logging (configured above)
        "access_log": False,  # uvicorn's prints query strings; trialdesk.access replaces it
        "proxy_headers": proxy_headers,
        "forwarded_allow_ips": forwarded_allow_ips,
        "loop": "auto",  # uvloop (a dependency except on Windows): less CPU a request
    }
    if workers == 1:
        uvicorn.run(application, **server_options)
        return
    # The workers build their own app; this one only checked the settings and migrated.
    runtime.close()
    os.environ["TRIALDESK_DATABASE_URL"] = runtime.database_url
    if protocol is not None:
        os.environ[PROTOCOL_ENV] = str(protocol.resolve())
    else:
        os.environ.pop(PROTOCOL_ENV, None)
    os.environ[LOG_FORMAT_ENV] = log_format
    os.environ[LOG_LEVEL_ENV] = log_level
    if threads is not None:
        os.environ[REQUEST_THREADS_ENV] = str(threads)
    uvicorn.run(FACTORY, factory=True, workers=workers, **server_options)
