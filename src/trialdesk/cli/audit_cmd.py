"""`trialdesk audit verify`: walk the audit log's hash chain and compare its end with the
checkpoint; name the first entry changed, inserted or removed outside trialdesk."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer

from trialdesk.cli.desk import DatabaseUrlOption
from trialdesk.errors import TrialdeskError

if TYPE_CHECKING:
    from sqlalchemy import Engine

INTACT = 0
BROKEN = 1

app = typer.Typer(help="Verify the audit trail.", no_args_is_help=True)


@app.command("verify")
def verify(
    database_url: DatabaseUrlOption = None,
    known_head: Annotated[
        list[str] | None,
        typer.Option(
            "--known-head",
            metavar="HASH",
            help="A head hash printed by an earlier backup or verify; it must still be in the "
            "log (repeatable).",
        ),
    ] = None,
) -> None:
    """Exit 0 with the entry count and head hash when the log is intact; exit 1 naming the
    first entry changed, inserted or removed outside trialdesk."""
    from trialdesk.store.audit_verify import verify_audit_database

    with open_engine(database_url) as engine:
        found = verify_audit_database(engine, known_heads=known_head or ())
    if found.intact:
        typer.echo(f"audit log intact: {found.head_line()}")
        return
    first = found.first_problem
    assert first is not None
    typer.secho(f"audit log BROKEN: first problem: {first}", err=True, fg=typer.colors.RED)
    for problem in found.problems[1:]:
        typer.secho(f"  also: {problem}", err=True, fg=typer.colors.RED)
    typer.echo(f"read: {found.head_line()}")
    typer.secho(
        "the log was changed outside trialdesk: restore the last good backup and find out who "
        "had write access to the database",
        err=True,
    )
    raise typer.Exit(BROKEN)


@contextmanager
def open_engine(database_url: str | None) -> Iterator[Engine]:
    """An engine on the database; refused when it has no trialdesk schema."""
    from trialdesk.store.config import database_url as resolve
    from trialdesk.store.engine import make_engine
    from trialdesk.store.migrate import current_revision

    engine = make_engine(resolve(database_url))
    try:
        if current_revision(engine) is None:
            shown = engine.url.render_as_string(hide_password=True)
            raise TrialdeskError(
                f"{shown} has no trialdesk schema yet; run `trialdesk db upgrade` first",
                field="--database-url",
            )
        yield engine
    finally:
        engine.dispose()
