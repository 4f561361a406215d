"""`trialdesk infusion ...`: schedule, record given or missed, correct, void."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from trialdesk.cli.desk import (
    ActorOption,
    DatabaseUrlOption,
    ParticipantArg,
    ProtocolOption,
    ReasonOption,
    acting,
    open_desk,
    parse_day,
    parse_moment,
    participant_id,
    required_reason,
    when,
)

if TYPE_CHECKING:
    from trialdesk.trial.clock import Clock
    from trialdesk.trial.infusions import InfusionRecorded

app = typer.Typer(
    help="Infusions: schedule, record given or missed, correct, void.", no_args_is_help=True
)

FIELDS = {
    "given_at": "--at",
    "cells_given": "--cells",
    "product_lot": "--lot",
    "interrupted": "--interrupted",
    "interruption_note": "--interruption-note",
    "reaction_note": "--reaction",
    "number": "NUMBER",
    "first_on": "--first-on",
    "id": "INFUSION_ID",
}
NumberArg = Annotated[int, typer.Argument(metavar="NUMBER", help="Infusion number (1, 2, ...).")]
IdArg = Annotated[
    int, typer.Argument(metavar="INFUSION_ID", help="The record's id (#n as printed).")
]

STATUS_WORDS = {
    "done": "on time",
    "done_early": "EARLY",
    "done_late": "LATE",
    "due": "due",
    "upcoming": "upcoming",
    "missed": "missed",
}


@app.command("schedule")
def schedule(
    participant: ParticipantArg,
    first_on: Annotated[
        str, typer.Option("--first-on", help="Planned first infusion, YYYY-MM-DD.")
    ],
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Plan the protocol's infusions from the first one, each with the planned amount."""
    from trialdesk.protocol.dosing import format_scientific
    from trialdesk.trial.infusions import schedule_infusions

    day = parse_day(first_on, "--first-on")
    with open_desk(database_url, protocol, FIELDS) as desk:
        who = acting(desk, actor)
        rows = schedule_infusions(
            desk.session,
            participant_id(desk, participant),
            first_on=day,
            protocol=desk.ctx.protocol,
            actor=who,
            clock=desk.clock,
        )
    for row in rows:
        typer.echo(
            f"#{row.id} infusion {row.number}: {row.scheduled_on}, "
            f"{format_scientific(row.planned_cells)} cells"
        )


@app.command("record")
def record(
    participant: ParticipantArg,
    number: NumberArg,
    at: Annotated[str, typer.Option("--at", help="When given, ISO 8601 with zone.")],
    cells: Annotated[float, typer.Option("--cells", help="Cells actually given, e.g. 6e7.")],
    lot: Annotated[str, typer.Option("--lot", help="Product lot.")],
    interrupted: Annotated[
        bool, typer.Option("--interrupted", help="The infusion was interrupted.")
    ] = False,
    interruption_note: Annotated[
        str | None, typer.Option("--interruption-note", help="When, why, how long.")
    ] = None,
    reaction: Annotated[
        str | None, typer.Option("--reaction", help="Infusion reaction, if any.")
    ] = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Record infusion NUMBER as given (refused above the assigned dose; flagged if late)."""
    from trialdesk.trial.infusions import record_infusion

    moment = parse_moment(at, "--at")
    with open_desk(database_url, protocol, FIELDS) as desk:
        who = acting(desk, actor)
        recorded = record_infusion(
            desk.session,
            participant_id(desk, participant),
            number,
            given_at=moment,
            cells_given=cells,
            product_lot=lot,
            interrupted=interrupted,
            interruption_note=interruption_note,
            reaction_note=reaction,
            protocol=desk.ctx.protocol,
            actor=who,
            clock=desk.clock,
        )
        _print(recorded, desk.clock)


@app.command("missed")
def missed(
    participant: ParticipantArg,
    number: NumberArg,
    reason: ReasonOption = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Record that infusion NUMBER was not given, and why."""
    from trialdesk.trial.infusions import record_missed_infusion

    why = required_reason(reason)
    with open_desk(database_url, protocol, FIELDS) as desk:
        who = acting(desk, actor)
        row = record_missed_infusion(
            desk.session,
            participant_id(desk, participant),
            number,
            reason=why,
            protocol=desk.ctx.protocol,
            actor=who,
            clock=desk.clock,
        )
    typer.echo(f"#{row.id} infusion {row.number} of {participant} recorded as missed")


@app.command("correct")
def correct(
    infusion_id: IdArg,
    at: Annotated[str | None, typer.Option("--at", help="When given, ISO 8601 with zone.")] = None,
    cells: Annotated[float | None, typer.Option("--cells", help="Cells actually given.")] = None,
    lot: Annotated[str | None, typer.Option("--lot", help="Product lot.")] = None,
    interrupted: Annotated[
        bool | None,
        typer.Option("--interrupted/--not-interrupted", help="Whether it was interrupted."),
    ] = None,
    interruption_note: Annotated[
        str | None, typer.Option("--interruption-note", help="When, why, how long.")
    ] = None,
    reaction: Annotated[str | None, typer.Option("--reaction", help="Infusion reaction.")] = None,
    reason: ReasonOption = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Correct a given infusion's fields (only those given change), with a reason."""
    from trialdesk.errors import TrialdeskError
    from trialdesk.trial.infusions import correct_infusion

    changes: dict[str, object] = {
        name: value
        for name, value in (
            ("given_at", parse_moment(at, "--at") if at is not None else None),
            ("cells_given", cells),
            ("product_lot", lot),
            ("interrupted", interrupted),
            ("interruption_note", interruption_note),
            ("reaction_note", reaction),
        )
        if value is not None
    }
    if not changes:
        raise TrialdeskError(
            "nothing to correct; give the new value with --at, --cells, --lot, --interrupted, "
            "--interruption-note or --reaction",
            field="INFUSION_ID",
        )
    why = required_reason(reason)
    with open_desk(database_url, protocol, FIELDS) as desk:
        who = acting(desk, actor)
        recorded = correct_infusion(
            desk.session,
            infusion_id,
            changes,
            reason=why,
            protocol=desk.ctx.protocol,
            actor=who,
            clock=desk.clock,
        )
        _print(recorded, desk.clock)


@app.command("void")
def void(
    infusion_id: IdArg,
    reason: ReasonOption = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Void an infusion record entered by mistake (kept, marked voided, with the reason)."""
    from trialdesk.trial.infusions import void_infusion

    why = required_reason(reason)
    with open_desk(database_url, protocol, FIELDS) as desk:
        who = acting(desk, actor)
        row = void_infusion(desk.session, infusion_id, reason=why, actor=who, clock=desk.clock)
    typer.echo(f"infusion #{row.id} voided: {row.void_reason}")


def _print(recorded: InfusionRecorded, clock: Clock) -> None:
    from trialdesk.protocol.dosing import format_scientific

    row, check = recorded.infusion, recorded.check
    assert row.given_at is not None and row.cells_given is not None
    window = f"window {check.window.earliest} to {check.window.latest}"
    status = STATUS_WORDS.get(check.status.value, check.status.value)
    if check.deviation_days:
        status += f" by {abs(check.deviation_days)} day(s)"
    typer.echo(
        f"#{row.id} infusion {row.number} given {when(row.given_at, clock)}: "
        f"{format_scientific(row.cells_given)} cells, lot {row.product_lot} ({status}; {window})"
    )
