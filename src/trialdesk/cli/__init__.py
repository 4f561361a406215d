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
    add_completion=False,
)


_registered = False


def _register() -> None:
    """Attach every command group once (imported lazily so that start-up stays fast)."""
    global _registered
    if _registered:
        return
    from trialdesk.cli import commands

    commands.register(app)
    _registered = True


def _print_version(requested: bool) -> None:
    """Eager: runs while the options are parsed, before Typer asks for a command."""
    if requested:
        typer.echo(f"trialdesk {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False,
        "--version",
        help="Print the version and exit.",
        is_eager=True,
        callback=_print_version,
    ),
) -> None:
    """Run early-phase dose-escalation clinical trials (built-in protocol: NCT06021067)."""


def run(argv: list[str] | None = None) -> int:
    """Run the CLI with ``argv`` and return the exit code: 0 ok, 2 for bad input a user can fix.

    A TrialdeskError becomes ``error: <message>`` on stderr; no traceback is shown for one.
    """
    _register()
    try:
        outcome = app(args=argv, prog_name="trialdesk", standalone_mode=False)
    except TrialdeskError as exc:
        typer.secho(f"error: {exc}", err=True, fg=typer.colors.RED)
        return 2
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.exceptions.Abort, typer.Abort):
        typer.echo("Aborted.", err=True)
        return 1
    except typer.TyperException as exc:
        # Typer ships its own copy of click; its usage errors (unknown command, bad option)
        # are shown like click's, without a traceback.
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"error: {exc}", err=True)
        code = getattr(exc, "exit_code", 2)
        return code if isinstance(code, int) else 2
    # Not standalone, Typer returns the code of a `raise typer.Exit(code)` instead of raising.
    return outcome if isinstance(outcome, int) and not isinstance(outcome, bool) else 0


def main() -> None:
    """Console entry point."""
    sys.exit(run())
