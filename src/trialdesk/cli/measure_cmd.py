"""`trialdesk measure record`: a follow-up value at a protocol visit."""

from __future__ import annotations

from typing import Annotated

import typer

from trialdesk.cli.desk import (
    ActorOption,
    DatabaseUrlOption,
    ParticipantArg,
    ProtocolOption,
    acting,
    open_desk,
    optional_day,
    participant_id,
)

app = typer.Typer(help="Follow-up measurements (efficacy and labs).", no_args_is_help=True)

FIELDS = {
    "code": "CODE",
    "value": "VALUE",
    "unit": "--unit",
    "measured_on": "--date",
    "visit_id": "--visit",
}


@app.command("record")
def record(
    participant: ParticipantArg,
    code: Annotated[
        str,
        typer.Argument(
            help="pneumonitis_grade, spo2, oxygen_l_min, fvc_pct, dlco_pct, mmrc, ct_score or "
            "lab:<analyte>."
        ),
    ],
    value: Annotated[float, typer.Argument(help="The value.")],
    unit: Annotated[
        str | None, typer.Option("--unit", help="Unit (labs: any accepted unit).")
    ] = None,
    date: Annotated[
        str | None, typer.Option("--date", help="Measured on YYYY-MM-DD; default: today.")
    ] = None,
    visit: Annotated[
        str | None, typer.Option("--visit", help="Protocol visit id, e.g. day14.")
    ] = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Record one follow-up value; says whether the date is inside the visit's window."""
    from trialdesk.trial.follow_up import record_measurement

    day = optional_day(date, "--date")
    with open_desk(database_url, protocol, FIELDS) as desk:
        who = acting(desk, actor)
        recorded = record_measurement(
            desk.session,
            participant_id(desk, participant),
            code=code,
            value=value,
            measured_on=day or desk.clock.today(),
            unit=unit,
            visit_id=visit,
            protocol=desk.ctx.protocol,
            actor=who,
            clock=desk.clock,
        )
    row, check = recorded.measurement, recorded.visit
    unit_text = f" {row.unit}" if row.unit else ""
    line = (
        f"measurement #{row.id} for {participant}: {row.code} = {row.value:g}{unit_text} "
        f"on {row.measured_on}"
    )
    if check is not None:
        inside = (
            "inside" if check.deviation_days == 0 else f"{abs(check.deviation_days)} day(s) outside"
        )
        line += (
            f", visit {row.visit_id} ({inside} its window {check.window.earliest} to "
            f"{check.window.latest})"
        )
    typer.echo(line)
