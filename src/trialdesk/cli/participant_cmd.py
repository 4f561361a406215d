"""`trialdesk participant ...`: pre-screen contact, screening, consent, enrolment, withdrawal."""

from __future__ import annotations

from pathlib import Path
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
    participant_id,
    required_reason,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

app = typer.Typer(
    help="Participants: register, screen, consent, enrol, withdraw.", no_args_is_help=True
)

DateOption = Annotated[
    str | None, typer.Option("--date", help="YYYY-MM-DD; default: today at the site.")
]


@app.command("add")
def add(
    sex: Annotated[str | None, typer.Option("--sex", help="female or male.")] = None,
    birth_date: Annotated[
        str | None, typer.Option("--birth-date", help="YYYY-MM-DD, if known.")
    ] = None,
    note: Annotated[
        str | None, typer.Option("--note", help="How the contact came (no names).")
    ] = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Register a pre-screen contact; prints the screening number it gets (S-001, ...)."""
    from trialdesk.trial.participants import register_contact

    born = optional_day(birth_date, "--birth-date")
    fields = {"sex": "--sex", "birth_date": "--birth-date"}
    with open_desk(database_url, protocol, fields) as desk:
        who = acting(desk, actor)
        person = register_contact(
            desk.session, desk.ctx, actor=who, contact_note=note, sex=sex, birth_date=born
        )
    typer.echo(f"{person.screening_number} registered (pre-screen contact)")


@app.command("screen")
def screen(
    participant: ParticipantArg,
    file: Annotated[
        Path, typer.Argument(help="Screening record (JSON/YAML) or FHIR R4 Bundle (JSON).")
    ],
    date: Annotated[
        str | None,
        typer.Option("--date", help="Screening date YYYY-MM-DD; default: the record's own."),
    ] = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Screen the participant with FILE, store the screening (replayable) and link it."""
    from trialdesk.errors import TrialdeskError
    from trialdesk.trial.participants import link_screening
    from trialdesk.trial.screening import screen_and_record

    on = optional_day(date, "--date")
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise TrialdeskError(
            f"cannot read {file} ({exc.strerror}); check the path", field="FILE"
        ) from None
    fields = {"body": "FILE", "date": "--date", "screening_date": "FILE"}
    with open_desk(database_url, protocol, fields) as desk:
        who = acting(desk, actor)
        pid = participant_id(desk, participant)
        screening = screen_and_record(
            desk.session,
            loaded=desk.ctx.loaded,
            protocol_version_id=desk.ctx.protocol_version_id,
            input_text=text,
            on=on,
            screened_by=who,
            clock=desk.clock,
        )
        link_screening(desk.session, desk.ctx, pid, screening.id, actor=who)
        _print_screening(desk.session, pid, screening.id, screening.verdict)


@app.command("link-screening")
def link(
    participant: ParticipantArg,
    screening_id: Annotated[
        int, typer.Argument(help="Id of a stored screening (POST /api/screenings).")
    ],
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Link a screening stored by the web API to the participant."""
    from trialdesk.store.screenings import get_screening
    from trialdesk.trial.participants import link_screening

    with open_desk(
        database_url, protocol, {"screening_id": "SCREENING_ID", "id": "SCREENING_ID"}
    ) as desk:
        who = acting(desk, actor)
        pid = participant_id(desk, participant)
        link_screening(desk.session, desk.ctx, pid, screening_id, actor=who)
        verdict = get_screening(desk.session, screening_id).verdict
        _print_screening(desk.session, pid, screening_id, verdict)


def _print_screening(session: Session, pid: int, screening_id: int, verdict: str) -> None:
    from trialdesk.trial.participants import get_participant

    person = get_participant(session, pid)
    typer.echo(
        f"screening #{screening_id}: {verdict}; {person.screening_number} is {person.status}"
    )
    if person.screen_fail_reason:
        typer.echo(f"screen failure: {person.screen_fail_reason}")


@app.command("consent")
def consent(
    participant: ParticipantArg,
    form_version: Annotated[
        str, typer.Option("--form-version", help="Version printed on the signed consent form.")
    ],
    obtained_by: Annotated[str, typer.Option("--obtained-by", help="Who obtained consent (name).")],
    date: DateOption = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Record written informed consent (the date the participant signed)."""
    from trialdesk.trial.participants import record_consent

    day = optional_day(date, "--date")
    fields = {
        "consent_date": "--date",
        "form_version": "--form-version",
        "obtained_by": "--obtained-by",
    }
    with open_desk(database_url, protocol, fields) as desk:
        who = acting(desk, actor)
        pid = participant_id(desk, participant)
        row = record_consent(
            desk.session,
            desk.ctx,
            pid,
            consent_date=day or desk.clock.today(),
            form_version=form_version,
            obtained_by=obtained_by,
            actor=who,
        )
    typer.echo(
        f"consent recorded for {participant}: signed {row.consent_date}, form {row.form_version}, "
        f"obtained by {row.obtained_by}"
    )


@app.command("enrol")
def enrol(
    participant: ParticipantArg,
    weight: Annotated[float, typer.Option("--weight", help="Baseline body weight in kg.")],
    date: DateOption = None,
    level: Annotated[
        int | None,
        typer.Option(
            "--level", help="Override: a dose level other than the design's (investigator)."
        ),
    ] = None,
    override_reason: Annotated[
        str | None,
        typer.Option("--override-reason", help="Why the design is overridden (investigator)."),
    ] = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Enrol at the level the design assigns (refused, with the reason, by the interlocks)."""
    from trialdesk.trial.dosing import planned_dose
    from trialdesk.trial.enrolment import enrol as enrol_participant
    from trialdesk.trial.participants import get_participant

    day = optional_day(date, "--date")
    fields = {
        "enrolled_on": "--date",
        "baseline_weight_kg": "--weight",
        "dose_level": "--level",
        "override_reason": "--override-reason",
    }
    with open_desk(database_url, protocol, fields) as desk:
        who = acting(desk, actor)
        pid = participant_id(desk, participant)
        row = enrol_participant(
            desk.session,
            desk.ctx,
            pid,
            enrolled_on=day or desk.clock.today(),
            baseline_weight_kg=weight,
            actor=who,
            dose_level=level,
            override_reason=override_reason,
        )
        study_id = get_participant(desk.session, pid).study_id
        dose = planned_dose(desk.ctx.protocol, row.dose_level, row.baseline_weight_kg)
    override = " (OVERRIDE of the design)" if row.override else ""
    typer.echo(
        f"{participant} enrolled as {study_id} on {row.enrolled_on}: level {row.dose_level}, "
        f"cohort {row.cohort_number}{override}"
    )
    typer.echo(f"dose per infusion: {dose.describe()}")


@app.command("withdraw")
def withdraw(
    participant: ParticipantArg,
    reason: ReasonOption = None,
    actor: ActorOption = None,
    database_url: DatabaseUrlOption = None,
    protocol: ProtocolOption = "builtin",
) -> None:
    """Withdraw the participant from the study (kept on record with the reason)."""
    from trialdesk.trial.withdrawal import withdraw as withdraw_participant

    why = required_reason(reason)
    with open_desk(database_url, protocol) as desk:
        who = acting(desk, actor)
        person = withdraw_participant(
            desk.session, desk.ctx, participant_id(desk, participant), reason=why, actor=who
        )
    typer.echo(f"{person.study_id or person.screening_number} withdrawn: {why}")
