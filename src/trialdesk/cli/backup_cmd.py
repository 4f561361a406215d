"""`trialdesk backup FILE` and `trialdesk restore FILE`: a consistent snapshot while the desk
runs, and bringing it back; both print the audit log's entry count and head hash to keep."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trialdesk.cli.desk import DatabaseUrlOption

if TYPE_CHECKING:
    from trialdesk.store.audit_verify import AuditVerification

AUDIT_BROKEN = 1

FileArg = Annotated[Path, typer.Argument(metavar="FILE", help="The backup file.")]


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)


def backup(file: FileArg, database_url: DatabaseUrlOption = None) -> None:
    """Write a consistent snapshot of the running desk to FILE (a new file): SQLite online
    backup, or pg_dump (custom format) for PostgreSQL."""
    from trialdesk.store.backup import backup_database
    from trialdesk.store.config import database_url as resolve

    done = backup_database(resolve(database_url), file)
    how = "SQLite online backup" if done.kind == "sqlite" else "pg_dump custom format"
    typer.echo(f"backup written: {done.path} ({how}, {done.size_bytes:,} bytes)")
    _report(done.audit, "in the backup")


def restore(
    file: FileArg,
    database_url: DatabaseUrlOption = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace a database that already has tables."),
    ] = False,
) -> None:
    """Bring the backup FILE back into the database (an empty one unless --force), then verify
    the restored audit log."""
    from trialdesk.store.backup import restore_database
    from trialdesk.store.config import database_url as resolve

    url = resolve(database_url)
    done = restore_database(url, file, force=force)
    typer.echo(f"restored {done.path} into {_label(url)}")
    _report(done.audit, "restored")


def _report(audit: AuditVerification, where: str) -> None:
    if audit.intact:
        typer.echo(f"audit log {where} intact: {audit.head_line()}")
        if audit.head_entry_id is not None:
            typer.echo(
                "keep this line outside the database; later, `trialdesk audit verify "
                f"--known-head {audit.head_hash}` shows whether entries were removed since"
            )
        return
    typer.echo(f"audit log {where}: {audit.head_line()}")
    first = audit.first_problem
    typer.secho(
        f"audit log {where} is BROKEN: first problem: {first}", err=True, fg=typer.colors.RED
    )
    raise typer.Exit(AUDIT_BROKEN)


def _label(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
