"""`trialdesk decision ...`: compute the design's escalation decision and sign it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from trialdesk.cli.desk import (
    ActorOption,
    DatabaseUrlOption,
    ProtocolOption,
    acting,
    open_desk,
    password,
    when,
)

if TYPE_CHECKING:
    from trialdesk.store.models import EscalationDecision

app = typer.Typer(
    help="Escalation decisions: compute when the design can decide; an investigator signs.",
    no_args_is_help=True,
)

FIELDS = {"decision": "decision", "decision_id": "DECISION_ID", "password": "password"}


@app.command("compute")
def compute(
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Compute and store the decision for the current cohort (refused, saying why, when the
    design cannot decide yet)."""
    from trialdesk.trial.decisions import compute_decision, stored_decision

    with open_desk(database_url, protocol, FIELDS) as desk:
        who = acting(desk, actor)
        row = compute_decision(desk.session, desk.ctx, actor=who)
    decided = stored_decision(row)
    typer.echo(f"decision #{row.id} for cohort {row.cohort_number} at level {row.dose_level}:")
    if decided.get("stop"):
        mtd = decided.get("mtd_level")
        typer.echo(f"  stop the trial ({'MTD level ' + str(mtd) if mtd else 'no MTD'})")
    else:
        typer.echo(f"  {decided.get('action')}: next cohort at level {decided.get('next_level')}")
    typer.echo(f"  why: {decided.get('reason')}")
    typer.echo(f"sign it: trialdesk decision sign {row.id} --as INVESTIGATOR")


@app.command("sign")
def sign(
    decision_id: Annotated[int, typer.Argument(metavar="DECISION_ID", help="Decision id (#n).")],
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Sign a computed decision (investigator): re-enter your password (or TRIALDESK_PASSWORD)."""
    from trialdesk.trial.decisions import sign_decision
    from trialdesk.trial.signatures import manifest

    secret = password(confirm=False)
    with open_desk(database_url, protocol, FIELDS) as desk:
        who = acting(desk, actor)
        row = sign_decision(desk.session, desk.ctx, decision_id, username=who, password=secret)
        assert row.signed_at is not None
        typer.echo(
            f"decision #{row.id} (user {row.signed_by}, {when(row.signed_at, desk.clock)} "
            f"site time): {manifest(row)}"
        )


@app.command("list")
def list_decisions(
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Every computed decision, oldest first, with its signature (or 'Not signed')."""
    from sqlalchemy import select

    from trialdesk.store.models import EscalationDecision
    from trialdesk.trial.signatures import manifest

    with open_desk(database_url, protocol, FIELDS) as desk:
        rows = list(
            desk.session.scalars(select(EscalationDecision).order_by(EscalationDecision.id))
        )
        lines = [f"{decision_line(row)}\n  {manifest(row)}" for row in rows]
    typer.echo("\n".join(lines) if lines else "no decision computed yet")


def decision_line(row: EscalationDecision) -> str:
    """``#1 cohort 1 at level 1: stay, next cohort at level 1`` (``[superseded]`` when it is)."""
    from trialdesk.trial.decisions import stored_decision

    decided = stored_decision(row)
    if decided.get("stop"):
        mtd = decided.get("mtd_level")
        outcome = f"stop the trial ({'MTD level ' + str(mtd) if mtd else 'no MTD'})"
    else:
        outcome = f"{decided.get('action')}, next cohort at level {decided.get('next_level')}"
    superseded = " [superseded]" if row.superseded else ""
    return f"#{row.id} cohort {row.cohort_number} at level {row.dose_level}: {outcome}{superseded}"
