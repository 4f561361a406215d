"""`trialdesk replay`: recompute every stored screening verdict and escalation decision from
its stored inputs and report any that differ (exit 1 if one does, 0 when all are identical)."""

from __future__ import annotations

import typer

from trialdesk.cli.desk import DatabaseUrlOption, open_store

IDENTICAL = 0
DIFFERS = 1


def register(app: typer.Typer) -> None:
    app.command("replay")(replay)


def replay(database_url: DatabaseUrlOption = None) -> None:
    """Replay every stored screening and decision; list any whose result differs."""
    from trialdesk.trial.replay import replay_all

    with open_store(database_url) as session:
        report = replay_all(session)
    typer.echo(
        f"replayed {report.screenings} screening(s) and {report.decisions} decision(s) with "
        f"trialdesk {report.software_version}"
    )
    if report.identical:
        typer.echo("all identical to what was stored")
        return
    typer.secho(
        f"{len(report.differences)} differ from what was stored:", err=True, fg=typer.colors.RED
    )
    for difference in report.differences:
        typer.secho(f"  {difference}", err=True, fg=typer.colors.RED)
    raise typer.Exit(DIFFERS)
