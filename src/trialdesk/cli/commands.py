"""Which command groups make up `trialdesk`. One line per group; each group owns its module."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    from trialdesk.cli import (
        ae_cmd,
        audit_cmd,
        backup_cmd,
        calc_cmd,
        ctcae_cmd,
        db_cmd,
        decide_cmd,
        decision_cmd,
        demo_cmd,
        dlt_cmd,
        export_cmd,
        infusion_cmd,
        measure_cmd,
        participant_cmd,
        protocol_cmd,
        replay_cmd,
        report_cmd,
        screen_batch_cmd,
        screen_cmd,
        serve_cmd,
        simulate_cmd,
        status_cmd,
        user_cmd,
    )

    app.add_typer(protocol_cmd.app, name="protocol")
    serve_cmd.register(app)
    demo_cmd.register(app)
    decide_cmd.register(app)
    simulate_cmd.register(app)
    app.add_typer(ctcae_cmd.app, name="ctcae")
    app.add_typer(db_cmd.app, name="db")
    app.add_typer(audit_cmd.app, name="audit")
    backup_cmd.register(app)
    app.add_typer(calc_cmd.app, name="calc")
    screen_cmd.register(app)
    screen_batch_cmd.register(app)
    app.add_typer(user_cmd.app, name="user")
    app.add_typer(participant_cmd.app, name="participant")
    app.add_typer(infusion_cmd.app, name="infusion")
    app.add_typer(ae_cmd.app, name="ae")
    app.add_typer(dlt_cmd.app, name="dlt")
    app.add_typer(decision_cmd.app, name="decision")
    app.add_typer(measure_cmd.app, name="measure")
    status_cmd.register(app)
    replay_cmd.register(app)
    app.add_typer(report_cmd.app, name="report")
    app.add_typer(export_cmd.app, name="export")
