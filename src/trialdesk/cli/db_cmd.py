"""`trialdesk db ...`: create or upgrade the database schema, show its state, read the audit log."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(help="Database schema and audit log.", no_args_is_help=True)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///file or postgresql+psycopg://...; default: TRIALDESK_DATABASE_URL, "
        "else $TRIALDESK_HOME/trialdesk.sqlite3 (TRIALDESK_HOME defaults to ~/.trialdesk).",
    ),
]


@app.command("upgrade")
def upgrade(database_url: DatabaseUrlOption = None) -> None:
    """Create the schema or bring it to the newest revision (safe to repeat)."""
    from trialdesk.store.config import database_url as resolve
    from trialdesk.store.engine import make_engine
    from trialdesk.store.migrate import current_revision, head_revision, upgrade_to_head

    url = resolve(database_url)
    engine = make_engine(url)
    try:
        before = current_revision(engine)
        upgrade_to_head(engine)
        head = head_revision()
    finally:
        engine.dispose()
    label = _label(url)
    if before == head:
        typer.echo(f"{label}: already at the newest revision {head}")
    else:
        typer.echo(f"{label}: upgraded from {before or 'an empty database'} to {head}")


@app.command("status")
def status(database_url: DatabaseUrlOption = None) -> None:
    """Show which database is used and whether its schema is at the newest revision."""
    from trialdesk.store.config import database_url as resolve
    from trialdesk.store.engine import make_engine
    from trialdesk.store.migrate import current_revision, head_revision

    url = resolve(database_url)
    engine = make_engine(url)
    try:
        current = current_revision(engine)
    finally:
        engine.dispose()
    head = head_revision()
    typer.echo(f"database: {_label(url)}")
    typer.echo(f"current revision: {current or 'none (empty database)'}")
    typer.echo(f"newest revision:  {head}")
    if current == head:
        typer.echo("schema is up to date")
    else:
        typer.echo("schema is behind: run `trialdesk db upgrade`")


@app.command("audit")
def audit(
    database_url: DatabaseUrlOption = None,
    entity: Annotated[
        str | None, typer.Option("--entity", help="Only entries about this kind of record.")
    ] = None,
    entity_id: Annotated[
        str | None, typer.Option("--entity-id", help="Only entries about this record.")
    ] = None,
) -> None:
    """Print the audit trail oldest first and verify its hash chain (exit 2 if it is broken)."""
    from trialdesk.errors import TrialdeskError
    from trialdesk.store.audit import audit_trail
    from trialdesk.store.audit_verify import verify_audit_database
    from trialdesk.store.config import database_url as resolve
    from trialdesk.store.engine import make_engine
    from trialdesk.store.migrate import current_revision
    from trialdesk.store.session import unit_of_work

    url = resolve(database_url)
    engine = make_engine(url)
    try:
        if current_revision(engine) is None:
            raise TrialdeskError(
                f"{_label(url)} has no trialdesk schema yet; run `trialdesk db upgrade` first",
                field="--database-url",
            )
        with unit_of_work(engine) as session:
            entries = audit_trail(session, entity=entity, entity_id=entity_id)
        problems = verify_audit_database(engine).problems
    finally:
        engine.dispose()
    for entry in entries:
        where = f"{entry.entity}/{entry.entity_id}" + (f".{entry.field}" if entry.field else "")
        typer.echo(
            f"#{entry.id} {entry.at.isoformat(timespec='seconds')} {entry.actor}: {where} "
            f"{entry.old_value} -> {entry.new_value}  (reason: {entry.reason})"
        )
    if not entries:
        typer.echo("no audit entries" + (" for this selection" if entity or entity_id else ""))
    if problems:
        listed = "; ".join(str(problem) for problem in problems)
        raise TrialdeskError(
            f"the audit log's hash chain is broken ({len(problems)} problem(s): {listed}); "
            "entries were changed or removed outside trialdesk: restore the database from a "
            "backup and investigate who had write access"
        )
    typer.echo("hash chain intact (whole log verified)")


def _label(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
