"""`trialdesk serve`: start the trial desk web app."""

from __future__ import annotations

from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    app.command("serve")(serve)


def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Start the trial desk (SQLite by default; TRIALDESK_DATABASE_URL for PostgreSQL)."""
    import uvicorn

    from trialdesk.web.app import create_app

    application = create_app()
    typer.echo(f"trialdesk: open http://{host}:{port}/ (Ctrl+C to stop)")
    uvicorn.run(application, host=host, port=port, log_level="info")
