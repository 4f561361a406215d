"""The trialdesk command line (Typer). Each command group lives in its own module."""

from __future__ import annotations

import sys

import click
import typer

from trialdesk import __version__
from trialdesk.errors import TrialdeskError

app = typer.Typer(
    name="trialdesk",
    help="Run early-phase dose-escalation clinical trials (built-in protocol: NCT06021067).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    """Attach every command group. Imported here so that `trialdesk --help` lists them all."""
    from trialdesk.cli import commands

    commands.register(app)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit."),
) -> None:
    if version:
        typer.echo(f"trialdesk {__version__}")
        raise typer.Exit()


def main() -> None:
    """Entry point: run the CLI, turning a TrialdeskError into a clear message and exit code 2."""
    _register()
    try:
        app(standalone_mode=False)
    except TrialdeskError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        sys.exit(2)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        typer.echo("Aborted.", err=True)
        sys.exit(1)
