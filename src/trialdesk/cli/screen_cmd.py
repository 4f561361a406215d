"""`trialdesk screen FILE`: is this patient eligible? Every criterion, with reasons and evidence.

FILE is a screening record in trialdesk's own format (JSON or YAML, see docs/screening.md) or a
FHIR R4 Bundle; the format is recognised from the content. Exit 0 for a completed screening
whatever the verdict; 2 with ``error: ...`` for input that cannot be screened.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Annotated

import typer

from trialdesk.errors import TrialdeskError


def register(app: typer.Typer) -> None:
    app.command("screen")(screen)


def parse_date(text: str, option: str = "--date") -> dt.date:
    """``YYYY-MM-DD`` -> date, or an error naming the option."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise TrialdeskError(
            f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-10", field=option
        ) from None


def screen(
    file: Annotated[
        Path | None,
        typer.Argument(help="Screening record (JSON/YAML) or FHIR R4 Bundle (JSON)."),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="Screening date YYYY-MM-DD (default: the record's screening_date; for a FHIR "
            "bundle, today).",
        ),
    ] = None,
    protocol: Annotated[
        str,
        typer.Option("--protocol", help="Protocol YAML file, or 'builtin' (NCT06021067)."),
    ] = "builtin",
    lang: Annotated[str, typer.Option(help="Language of the checklist: en or zh.")] = "en",
    as_json: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print {"verdict", "criteria": [{"id", "status", "reason", "evidence"}]} as JSON.',
        ),
    ] = False,
    replay: Annotated[
        int | None,
        typer.Option(
            "--replay",
            metavar="ID",
            help="Re-run stored screening ID with its stored input, date and protocol text and "
            "check the result is identical (exit 1 if not).",
        ),
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(
            "--database-url",
            help="Database of --replay; default: TRIALDESK_DATABASE_URL, else "
            "$TRIALDESK_HOME/trialdesk.sqlite3.",
        ),
    ] = None,
) -> None:
    """Screen a patient against every criterion and print a checklist and the verdict."""
    from trialdesk.cli.screen_checklist import render_checklist
    from trialdesk.eligibility import screen as run_screening
    from trialdesk.eligibility.screening_input import load_screening_input
    from trialdesk.protocol import load_protocol

    if lang not in ("en", "zh"):
        raise TrialdeskError(f"must be en or zh, not {lang!r}", field="--lang")
    if replay is not None:
        from trialdesk.cli.screen_replay import refuse_with_replay, replay_screening

        refuse_with_replay(file=file, date=date, protocol=protocol)
        code = replay_screening(replay, database_url=database_url, as_json=as_json, lang=lang)
        if code:
            raise typer.Exit(code)
        return
    if file is None:
        raise TrialdeskError("give the FILE to screen (a screening record or a FHIR R4 Bundle)")
    on = parse_date(date) if date is not None else None
    loaded = load_protocol(None if protocol == "builtin" else Path(protocol))
    given = load_screening_input(
        file, protocol=loaded.protocol, screening_date=on or dt.date.today()
    )
    result = run_screening(loaded.protocol, given.record, on=on)
    if as_json:
        typer.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
        return
    typer.echo(render_checklist(result, loaded.protocol, lang=lang))
