"""`trialdesk report safety`: the DSMB safety report as PDF or HTML, from the database."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trialdesk.cli.desk import DatabaseUrlOption, ProtocolOption, optional_day

app = typer.Typer(
    help="Reports generated from the database (nothing typed by hand).", no_args_is_help=True
)

OPTIONS = {"cutoff": "--cutoff", "lang": "--lang", "out": "--out"}


@app.command("safety")
def safety(
    out: Annotated[
        Path,
        typer.Option("--out", help="Where to write: FILE.pdf or FILE.html (format by suffix)."),
    ],
    cutoff: Annotated[
        str | None,
        typer.Option("--cutoff", metavar="YYYY-MM-DD", help="Data cut-off; default today."),
    ] = None,
    lang: Annotated[str, typer.Option("--lang", help="en or zh.")] = "en",
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """The DSMB safety report: enrolment, participant flow, dose levels, adverse events, SAEs,
    DLTs, signed escalation decisions and charts, as of the data cut-off."""
    from trialdesk.cli.desk import desk_clock, open_store, options_named
    from trialdesk.protocol import load_protocol
    from trialdesk.reports import check_output_path, render_safety_html, write_safety_report

    with options_named(OPTIONS):
        check_output_path(out)
        day = optional_day(cutoff, "--cutoff")
        loaded = load_protocol(None if protocol == "builtin" else Path(protocol))
        with open_store(database_url) as session:
            html = render_safety_html(session, loaded, day, lang, clock=desk_clock())
        written = write_safety_report(out, html)
    typer.echo(f"wrote {written}")
