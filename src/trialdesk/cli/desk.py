"""What every command of the running trial shares: the common options, the open desk (one
database transaction per command, committed only when the whole command succeeded), the clock,
and parsing of dates, times and participant references.

A use-case names the field it refuses (``actor``, ``reason``, ``enrolled_on`` ...); the command
renames it to the option the user typed (``--as``, ``--reason``, ``--date`` ...), so that the
``error: ...`` line points at what to fix.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Final

import typer
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.trial.clock import Clock, SystemClock
from trialdesk.trial.context import TrialContext

PASSWORD_ENV: Final = "TRIALDESK_PASSWORD"

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        help="sqlite:///file or postgresql+psycopg://...; default: TRIALDESK_DATABASE_URL, "
        "else $TRIALDESK_HOME/trialdesk.sqlite3.",
    ),
]
ProtocolOption = Annotated[
    str,
    typer.Option("--protocol", help="Protocol YAML file, or 'builtin' (NCT06021067)."),
]
ActorOption = Annotated[
    str | None,
    typer.Option("--as", metavar="USERNAME", help="Your user name (who does this); required."),
]
ReasonOption = Annotated[
    str | None,
    typer.Option("--reason", help="Why; required, kept in the audit trail."),
]
ParticipantArg = Annotated[
    str,
    typer.Argument(metavar="PARTICIPANT", help="Screening number (S-001) or study id (RLI-001)."),
]

COMMON_FIELDS: Final = {
    "actor": "--as",
    "reason": "--reason",
    "participant": "PARTICIPANT",
    "participant_id": "PARTICIPANT",
}


def desk_clock() -> Clock:
    """The clock of the command line: the system's time in the machine's zone (the site's).
    Tests replace this function to run a trial on a manual clock."""
    return SystemClock()


@dataclass(frozen=True)
class Desk:
    """An open desk: the session of this command's transaction and the trial context."""

    session: Session
    ctx: TrialContext

    @property
    def clock(self) -> Clock:
        return self.ctx.clock


@contextmanager
def open_desk(
    database_url: str | None, protocol: str, fields: Mapping[str, str] | None = None
) -> Iterator[Desk]:
    """The desk on ``database_url`` running ``protocol``; everything done inside is committed
    together, or nothing when it raises. Field names in errors are renamed by ``fields``
    (on top of :data:`COMMON_FIELDS`)."""
    from trialdesk.protocol import load_protocol

    names = {**COMMON_FIELDS, **(fields or {})}
    with options_named(names):
        loaded = load_protocol(None if protocol == "builtin" else Path(protocol))
        with open_store(database_url) as session:
            yield Desk(session, TrialContext.open(session, loaded, desk_clock()))


@contextmanager
def open_store(database_url: str | None) -> Iterator[Session]:
    """A unit of work on ``database_url``; refused when the database has no trialdesk schema."""
    from trialdesk.store.config import database_url as resolve
    from trialdesk.store.engine import make_engine
    from trialdesk.store.migrate import current_revision
    from trialdesk.store.session import unit_of_work

    engine = make_engine(resolve(database_url))
    try:
        if current_revision(engine) is None:
            shown = engine.url.render_as_string(hide_password=True)
            raise TrialdeskError(
                f"{shown} has no trialdesk schema yet; run `trialdesk db upgrade` with the "
                "same --database-url first",
                field="--database-url",
            )
        with unit_of_work(engine) as session:
            yield session
    finally:
        engine.dispose()


@contextmanager
def options_named(names: Mapping[str, str]) -> Iterator[None]:
    """Re-raise a TrialdeskError about field ``f`` as one about option ``names[f]``."""
    try:
        yield
    except TrialdeskError as exc:
        if exc.field is None or exc.field not in names:
            raise
        message = str(exc).removeprefix(f"{exc.field}: ")
        raise TrialdeskError(message, field=names[exc.field]) from None


def acting(desk: Desk, actor: str | None) -> str:
    """The user name of ``--as``, refused unless it names an active user of the desk."""
    from trialdesk.trial.users import require_user

    if actor is None or not actor.strip():
        raise TrialdeskError(
            "is required: give your user name (who does this), e.g. --as coord", field="--as"
        )
    return require_user(desk.session, actor).username


def required_reason(reason: str | None) -> str:
    """The text of ``--reason``; refused when missing or empty (every change says why)."""
    if reason is None or not reason.strip():
        raise TrialdeskError(
            'is required: say why, e.g. --reason "transcription error, corrected from the '
            'source document"',
            field="--reason",
        )
    return reason.strip()


def participant_id(desk: Desk, reference: str) -> int:
    """The id of the participant with this screening number or study id."""
    from trialdesk.trial.participants import participant_by_number

    return participant_by_number(desk.session, reference).id


def parse_day(text: str, option: str) -> dt.date:
    """``YYYY-MM-DD`` -> date, or an error naming the option."""
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise TrialdeskError(
            f"{text!r} is not a date; write it as YYYY-MM-DD, e.g. 2026-03-10", field=option
        ) from None


def parse_moment(text: str, option: str) -> dt.datetime:
    """An ISO 8601 date and time with its zone -> aware datetime, or an error naming the option."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise TrialdeskError(
            f"{text!r} is not a date and time; write ISO 8601 with the zone, e.g. "
            "2026-03-10T09:30+08:00",
            field=option,
        ) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise TrialdeskError(
            f"{text!r} has no time zone; add it, e.g. {text.strip()}+08:00 (Beijing time) "
            "or Z for UTC",
            field=option,
        )
    return moment


def optional_day(text: str | None, option: str) -> dt.date | None:
    return None if text is None else parse_day(text, option)


def password(*, confirm: bool) -> str:
    """The password from TRIALDESK_PASSWORD (for scripts), else asked with hidden input."""
    from_env = os.environ.get(PASSWORD_ENV)
    if from_env:
        return from_env
    entered: str = typer.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    return entered


def when(moment: dt.datetime, clock: Clock) -> str:
    """An instant as the site reads it, ISO 8601 in the site's zone: 2026-03-10T09:30+08:00."""
    from trialdesk.trial.lookup import site_zone

    return moment.astimezone(site_zone(clock)).isoformat(timespec="minutes")
