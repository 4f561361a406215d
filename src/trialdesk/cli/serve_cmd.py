"""`trialdesk serve`: start the trial desk web app."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


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
) -> None:
    """Start the trial desk (SQLite by default; TRIALDESK_DATABASE_URL for PostgreSQL)."""
    import uvicorn

    from trialdesk.web.app import create_app

    if demo:
        import tempfile

        from trialdesk.cli.demo_cmd import seed_and_describe

        if database_url is None:
            folder = Path(tempfile.mkdtemp(prefix="trialdesk-demo-"))
            database_url = f"sqlite:///{folder / 'demo.sqlite3'}"
        typer.echo(seed_and_describe(database_url, str(protocol or "builtin")))

    application = create_app(protocol_path=protocol, database_url=database_url)
    runtime = application.state.runtime
    typer.echo(
        f"trialdesk: protocol {runtime.loaded.protocol.id} on {runtime.database_label}\n"
        f"trialdesk: open http://{host}:{port}/ (Ctrl+C to stop)"
    )
    uvicorn.run(application, host=host, port=port, log_level="info")
