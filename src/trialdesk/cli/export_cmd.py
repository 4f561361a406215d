"""`trialdesk export csv|odm|sdtm --out ...`: the trial's data for a monitor, a statistician or
a regulator, read from the database in one transaction. Each file is written whole or not at
all (see trialdesk.exports.files)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from trialdesk.cli.desk import DatabaseUrlOption, desk_clock, open_store

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from trialdesk.exports.dataset import TrialData

app = typer.Typer(
    help="Export the trial: CSV per entity with a data dictionary, CDISC ODM 1.3.2 XML with the "
    "audit trail, or SDTM-style domains.",
    no_args_is_help=True,
)

DirectoryOut = Annotated[
    Path, typer.Option("--out", help="Directory to write into (made when missing).")
]
FileOut = Annotated[Path, typer.Option("--out", help="The XML file to write.")]


@app.command("csv")
def export_csv(out: DirectoryOut, database_url: DatabaseUrlOption = None) -> None:
    """One CSV per entity (voided records with their reason) plus data_dictionary.csv/.md."""
    from trialdesk.exports.csv_export import csv_files
    from trialdesk.exports.files import output_directory, write_files

    directory = output_directory(out)
    with open_store(database_url) as session:
        files = csv_files(_trial(session))
    written = write_files(directory, files)
    typer.echo(f"wrote {len(written)} files to {directory}")


@app.command("odm")
def export_odm(out: FileOut, database_url: DatabaseUrlOption = None) -> None:
    """CDISC ODM 1.3.2 XML (validated against the ODM schema before it is written)."""
    from trialdesk.exports.files import output_file, write_atomically
    from trialdesk.exports.odm import odm_bytes

    target = output_file(out)
    with open_store(database_url) as session:
        data = _trial(session)
        document = odm_bytes(data)
    write_atomically(target, document)
    typer.echo(
        f"wrote {target}: {len(data.participants)} subject(s), {len(data.audit)} audit "
        "record(s); valid against the ODM 1.3.2 schema"
    )


@app.command("sdtm")
def export_sdtm(out: DirectoryOut, database_url: DatabaseUrlOption = None) -> None:
    """SDTM-style domains DM, AE, EX, LB, VS, CM, DS as CSV (dm.csv ...)."""
    from trialdesk.exports.files import output_directory, write_files
    from trialdesk.exports.sdtm import sdtm_files

    directory = output_directory(out)
    with open_store(database_url) as session:
        files = sdtm_files(_trial(session))
    written = write_files(directory, files)
    typer.echo(f"wrote {len(written)} domains to {directory}")


def _trial(session: Session) -> TrialData:
    from trialdesk import __version__
    from trialdesk.exports.dataset import load_trial

    return load_trial(session, as_of=desk_clock().now(), software_version=__version__)
