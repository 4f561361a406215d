"""Finding the stored rows a use-case works on, refusing with a message a coordinator can act on.

Also the one place that turns a stored UTC instant into the calendar date at the site.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, tzinfo
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.models import Base, Enrolment, Participant, User
from trialdesk.store.participant_rows import first_of
from trialdesk.trial.clock import Clock
from trialdesk.trial.roles import MATRIX, Action, check_permitted, who_may

RowT = TypeVar("RowT", bound=Base)


def get_row(session: Session, model: type[RowT], row_id: int, what: str) -> RowT:
    """The ``model`` row with ``row_id``; refused when there is none."""
    row = session.get(model, row_id)
    if row is None:
        raise TrialdeskError(f"there is no {what} #{row_id}; check the number", field="id")
    return row


def enrolment_of(session: Session, participant_id: int) -> Enrolment:
    """The participant's enrolment; refused for an unknown or not (yet) enrolled participant."""
    participant = get_row(session, Participant, participant_id, "participant")
    enrolment = first_of(session, Enrolment, participant.id)
    if enrolment is None:
        raise TrialdeskError(
            f"participant {participant.screening_number} is not enrolled; enrol them first "
            "(treatment and follow-up are recorded for enrolled participants only)",
            field="participant_id",
        )
    return enrolment


def require_role(session: Session, username: str, action: Action) -> User:
    """The active user ``username`` whose role the matrix allows ``action``; refused otherwise."""
    user = session.scalars(select(User).where(User.username == username)).one_or_none()
    if user is None or not user.active:
        raise TrialdeskError(
            f"{username!r} is not an active user of this desk; only an active user with "
            f"{who_may(action)} may {MATRIX[action].doing}",
            field="actor",
        )
    check_permitted(user.username, user.role, action)
    return user


def site_zone(clock: Clock) -> tzinfo:
    """The site's time zone as the clock knows it (a ``zone`` attribute); UTC if it has none."""
    zone = getattr(clock, "zone", None)
    return zone if isinstance(zone, tzinfo) else UTC


def site_date(moment: datetime, clock: Clock) -> date:
    """The calendar date at the site of the instant ``moment`` (what a form would show)."""
    return moment.astimezone(site_zone(clock)).date()


def not_in_future(day: date, clock: Clock, field: str) -> date:
    """``day`` unless it is after the clock's today (nothing is recorded ahead of time)."""
    if day > clock.today():
        raise TrialdeskError(
            f"{day} is in the future (today is {clock.today()}); record what has happened",
            field=field,
        )
    return day


def check_text(value: str | None, field: str, *, limit: int, required: bool) -> str | None:
    """``value`` stripped (None when empty and optional); refused when missing or too long."""
    text = (value or "").strip()
    if not text:
        if required:
            raise TrialdeskError("is required", field=field)
        return None
    if len(text) > limit:
        raise TrialdeskError(f"is {len(text)} characters; at most {limit} fit", field=field)
    return text
