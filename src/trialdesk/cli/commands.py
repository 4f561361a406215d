"""Which command groups make up `trialdesk`. One line per group; each group owns its module."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from trialdesk.cli import (
        calc_cmd,
        ctcae_cmd,
        db_cmd,
        decide_cmd,
        protocol_cmd,
        screen_batch_cmd,
        screen_cmd,
        serve_cmd,
        simulate_cmd,
    )

    app.add_typer(protocol_cmd.app, name="protocol")
    serve_cmd.register(app)
    decide_cmd.register(app)
    simulate_cmd.register(app)
    app.add_typer(ctcae_cmd.app, name="ctcae")
    app.add_typer(db_cmd.app, name="db")
    app.add_typer(calc_cmd.app, name="calc")
    screen_cmd.register(app)
    screen_batch_cmd.register(app)
