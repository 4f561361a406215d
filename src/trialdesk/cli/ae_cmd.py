"""`trialdesk ae ...`: adverse events by CTCAE v5.0, their DLT flag and the SAE report."""

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
    optional_day,
    parse_day,
    parse_moment,
    participant_id,
    required_reason,
    when,
)

if TYPE_CHECKING:
    from trialdesk.trial.adverse_events import AdverseEventRecorded
    from trialdesk.trial.clock import Clock

app = typer.Typer(
    help="Adverse events (CTCAE v5.0): record, correct, void, mark an SAE reported.",
    no_args_is_help=True,
)

FIELDS = {
    "term": "--term",
    "grade": "--grade",
    "onset_date": "--onset",
    "resolution_date": "--resolved",
    "serious": "--serious",
    "serious_criteria": "--serious",
    "attribution_hdmsc": "--hdmsc",
    "attribution_standard": "--standard",
    "action_taken": "--action",
    "outcome": "--outcome",
    "reported_at": "--at",
    "id": "AE_ID",
}
ATTRIBUTIONS = "unrelated, unlikely, possible, probable or definite"
IdArg = Annotated[int, typer.Argument(metavar="AE_ID", help="The adverse event's id (#n).")]
TermOption = Annotated[
    str | None, typer.Option("--term", help="CTCAE v5.0 term name or MedDRA code.")
]
GradeOption = Annotated[int | None, typer.Option("--grade", help="CTCAE grade 1-5.")]
OnsetOption = Annotated[str | None, typer.Option("--onset", help="Onset date YYYY-MM-DD.")]
HdmscOption = Annotated[
    str | None, typer.Option("--hdmsc", help=f"Attribution to hDMSC: {ATTRIBUTIONS}.")
]
StandardOption = Annotated[
    str | None,
    typer.Option("--standard", help=f"Attribution to the standard treatment: {ATTRIBUTIONS}."),
]
ResolvedOption = Annotated[
    str | None, typer.Option("--resolved", help="Resolution date YYYY-MM-DD.")
]
SeriousOption = Annotated[
    list[str] | None,
    typer.Option(
        "--serious",
        metavar="CRITERION",
        help="Serious because of (repeat for several): death, life_threatening, "
        "hospitalisation, disability, congenital_anomaly, important_medical_event.",
    ),
]
ActionOption = Annotated[
    str | None,
    typer.Option(
        "--action",
        help="dose_not_changed, drug_interrupted, drug_withdrawn, not_applicable or unknown.",
    ),
]
OutcomeOption = Annotated[
    str | None,
    typer.Option(
        "--outcome",
        help="recovered, recovering, not_recovered, recovered_with_sequelae, fatal or unknown.",
    ),
]


def _required(value: object, option: str, example: str) -> None:
    from trialdesk.errors import TrialdeskError

    if value is None:
        raise TrialdeskError(f"is required, e.g. {option} {example}", field=option)


@app.command("record")
def record(
    participant: ParticipantArg,
    term: TermOption = None,
    grade: GradeOption = None,
    onset: OnsetOption = None,
    hdmsc: HdmscOption = None,
    standard: StandardOption = None,
    resolved: ResolvedOption = None,
    serious: SeriousOption = None,
    action: ActionOption = None,
    outcome: OutcomeOption = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Record an adverse event; prints the grade's CTCAE text, a candidate DLT and the SAE clock."""
    from trialdesk.trial.adverse_events import record_adverse_event

    for value, option, example in (
        (term, "--term", "Pneumonitis"),
        (grade, "--grade", "3"),
        (onset, "--onset", "2026-03-15"),
        (hdmsc, "--hdmsc", "possible"),
        (standard, "--standard", "unlikely"),
    ):
        _required(value, option, example)
    assert term is not None and grade is not None and onset is not None
    assert hdmsc is not None and standard is not None
    onset_day = parse_day(onset, "--onset")
    resolved_day = optional_day(resolved, "--resolved")
    with open_desk(database_url, protocol, FIELDS) as desk:
        who = acting(desk, actor)
        recorded = record_adverse_event(
            desk.session,
            participant_id(desk, participant),
            term=term,
            grade=grade,
            onset_date=onset_day,
            attribution_hdmsc=hdmsc,
            attribution_standard=standard,
            resolution_date=resolved_day,
            serious=bool(serious),
            serious_criteria=serious or (),
            action_taken=action,
            outcome=outcome,
            protocol=desk.ctx.protocol,
            actor=who,
            clock=desk.clock,
        )
        _print(recorded, participant, desk.clock)


@app.command("correct")
def correct(
    ae_id: IdArg,
    term: TermOption = None,
    grade: GradeOption = None,
    onset: OnsetOption = None,
    hdmsc: HdmscOption = None,
    standard: StandardOption = None,
    resolved: ResolvedOption = None,
    serious: SeriousOption = None,
    not_serious: Annotated[
        bool, typer.Option("--not-serious", help="The event is not serious after all.")
    ] = False,
    action: ActionOption = None,
    outcome: OutcomeOption = None,
    reason: ReasonOption = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Correct fields of an adverse event (only those given change), with a reason."""
    from trialdesk.errors import TrialdeskError
    from trialdesk.trial.adverse_events import correct_adverse_event

    why = required_reason(reason)
    if serious and not_serious:
        raise TrialdeskError("give either --serious CRITERION or --not-serious", field="--serious")
    changes: dict[str, object] = {
        name: value
        for name, value in (
            ("term", term),
            ("grade", grade),
            ("onset_date", optional_day(onset, "--onset")),
            ("resolution_date", optional_day(resolved, "--resolved")),
            ("attribution_hdmsc", hdmsc),
            ("attribution_standard", standard),
            ("action_taken", action),
            ("outcome", outcome),
        )
        if value is not None
    }
    if serious:
        changes.update(serious=True, serious_criteria=list(serious))
    if not_serious:
        changes.update(serious=False, serious_criteria=[])
    if not changes:
        raise TrialdeskError(
            "nothing to correct; give the new value with --term, --grade, --onset, --resolved, "
            "--hdmsc, --standard, --serious/--not-serious, --action or --outcome",
            field="AE_ID",
        )
    with open_desk(database_url, protocol, FIELDS) as desk:
        who = acting(desk, actor)
        recorded = correct_adverse_event(
            desk.session,
            ae_id,
            changes,
            reason=why,
            protocol=desk.ctx.protocol,
            actor=who,
            clock=desk.clock,
        )
        _print(recorded, None, desk.clock)


@app.command("void")
def void(
    ae_id: IdArg,
    reason: ReasonOption = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Void an adverse event entered by mistake (kept, voided; its DLT assessment rejected)."""
    from trialdesk.trial.adverse_events import void_adverse_event

    why = required_reason(reason)
    with open_desk(database_url, protocol, FIELDS) as desk:
        who = acting(desk, actor)
        event = void_adverse_event(
            desk.session,
            ae_id,
            reason=why,
            protocol=desk.ctx.protocol,
            actor=who,
            clock=desk.clock,
        )
    typer.echo(f"adverse event #{event.id} voided: {event.void_reason}")


@app.command("reported")
def reported(
    ae_id: IdArg,
    at: Annotated[
        str | None, typer.Option("--at", help="When the SAE was reported, ISO 8601 with zone.")
    ] = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Record when a serious adverse event was reported (on time or late)."""
    from trialdesk.trial.adverse_events import mark_sae_reported

    _required(at, "--at", "2026-03-16T10:00+08:00")
    assert at is not None
    moment = parse_moment(at, "--at")
    with open_desk(database_url, protocol, FIELDS) as desk:
        who = acting(desk, actor)
        report = mark_sae_reported(
            desk.session,
            ae_id,
            reported_at=moment,
            protocol=desk.ctx.protocol,
            actor=who,
            clock=desk.clock,
        )
        typer.echo(
            f"adverse event #{ae_id}: {report.state.text('en')} at {when(moment, desk.clock)} "
            f"(due by {when(report.due_at, desk.clock)})"
        )


def _print(recorded: AdverseEventRecorded, participant: str | None, clock: Clock) -> None:
    event = recorded.event
    who = f" for {participant}" if participant else ""
    serious = " SERIOUS" if event.serious else ""
    typer.echo(
        f"adverse event #{event.id}{who}: {event.term} (MedDRA {event.meddra_code}), "
        f"grade {event.grade}{serious}"
    )
    typer.echo(f"grade {event.grade}: {recorded.grade_text}")
    dlt = recorded.dlt
    if dlt is not None:
        why = dlt.rule_matched if dlt.status == "candidate" else dlt.reason
        typer.echo(f"DLT assessment #{dlt.id}: {dlt.status} ({why})")
        if dlt.status == "candidate":
            typer.echo(
                f"an investigator confirms or rejects it: trialdesk dlt confirm|reject {dlt.id} "
                '--reason "..." --as USERNAME'
            )
    report = recorded.report
    if report is not None:
        hours = report.time_left.total_seconds() / 3600
        typer.echo(
            f"SAE {report.state.text('en')}: by {when(report.due_at, clock)} ({hours:.1f} h left)"
        )
