"""`trialdesk dlt ...`: candidate DLTs and the investigator's adjudication."""

from __future__ import annotations

from typing import Annotated

import typer

from trialdesk.cli.desk import (
    ActorOption,
    DatabaseUrlOption,
    ProtocolOption,
    ReasonOption,
    acting,
    open_desk,
    required_reason,
)

app = typer.Typer(
    help="Candidate DLTs: list them; an investigator confirms or rejects each.",
    no_args_is_help=True,
)

FIELDS = {"id": "ASSESSMENT_ID"}
IdArg = Annotated[
    int, typer.Argument(metavar="ASSESSMENT_ID", help="The DLT assessment's id (#n).")
]


@app.command("list")
def list_candidates(
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Candidate DLTs waiting for the investigator, oldest first."""
    from trialdesk.trial.desk_status import desk_status

    with open_desk(database_url, protocol) as desk:
        pending = desk_status(desk.session, desk.ctx).adjudications
    if not pending:
        typer.echo("no candidate DLT waits for adjudication")
    for item in pending:
        typer.echo(
            f"#{item.assessment_id} {item.study_id}: {item.term} grade {item.grade}, onset "
            f"{item.onset_date} (adverse event #{item.adverse_event_id}); {item.rule}"
        )


def _adjudicate(
    assessment_id: int,
    *,
    confirm: bool,
    reason: str | None,
    actor: str | None,
    database_url: str | None,
    protocol: str,
) -> None:
    from trialdesk.trial.dlt_review import adjudicate_dlt

    why = required_reason(reason)
    with open_desk(database_url, protocol, FIELDS) as desk:
        who = acting(desk, actor)
        row = adjudicate_dlt(
            desk.session, assessment_id, confirm=confirm, reason=why, actor=who, clock=desk.clock
        )
    typer.echo(f"DLT assessment #{row.id} {row.status} by {row.adjudicated_by}: {row.reason}")


@app.command("confirm")
def confirm(
    assessment_id: IdArg,
    reason: ReasonOption = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Confirm a candidate as a DLT (investigator only)."""
    _adjudicate(
        assessment_id,
        confirm=True,
        reason=reason,
        actor=actor,
        database_url=database_url,
        protocol=protocol,
    )


@app.command("reject")
def reject(
    assessment_id: IdArg,
    reason: ReasonOption = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Reject a candidate: not a DLT (investigator only)."""
    _adjudicate(
        assessment_id,
        confirm=False,
        reason=reason,
        actor=actor,
        database_url=database_url,
        protocol=protocol,
    )
