"""A participant's way in: pre-screen contact -> eligibility screening -> informed consent.

Enrolment (with the dose the design assigns) is :mod:`trialdesk.trial.enrolment`. A
participant's ``status`` is always derived from their records (:func:`derived_status`), so it
cannot drift from them; every change of it is audited with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.protocol import load_protocol_text
from trialdesk.store.models import (
    SEXES,
    Consent,
    Enrolment,
    Participant,
    ParticipantScreening,
    ProtocolVersion,
    Screening,
)
from trialdesk.store.screenings import get_screening
from trialdesk.store.session import Claim, ClaimKind
from trialdesk.trial.context import TrialContext
from trialdesk.trial.records import check_actor, create, describe, update

CLOSED_STATUSES = ("enrolled", "withdrawn", "completed")


def get_participant(session: Session, participant_id: int) -> Participant:
    row = session.get(Participant, participant_id)
    if row is None:
        raise TrialdeskError(f"there is no participant #{participant_id}", field="participant_id")
    return row


def participant_by_number(session: Session, number: str) -> Participant:
    """The participant with this screening number (``S-001``) or study id (``RLI-001``)."""
    key = number.strip()
    row = session.scalars(
        select(Participant).where(
            (Participant.screening_number == key) | (Participant.study_id == key)
        )
    ).one_or_none()
    if row is None:
        raise TrialdeskError(
            f"no participant has the screening number or study id {key!r}", field="participant"
        )
    return row


NEW_CONTACT_CLAIMS: Final = (Claim(ClaimKind.PARTICIPANT_NUMBERS),)
"""What :func:`register_contact` changes alone: the count it numbers the new contact from."""


def register_contact(
    session: Session,
    ctx: TrialContext,
    *,
    actor: str,
    contact_note: str | None = None,
    sex: str | None = None,
    birth_date: date | None = None,
) -> Participant:
    """A new pre-screen contact with the next screening number (``S-001``, ``S-002``, ...)."""
    if sex is not None and sex not in SEXES:
        raise TrialdeskError(f"{sex!r} is not one of {', '.join(SEXES)}", field="sex")
    if birth_date is not None and birth_date > ctx.clock.today():
        raise TrialdeskError(f"{birth_date} is in the future", field="birth_date")
    count = session.scalar(select(func.count()).select_from(Participant)) or 0
    number = ctx.protocol.conduct.screening_number_format.format(n=count + 1)
    row = Participant(
        screening_number=number,
        status="prescreened",
        sex=sex,
        birth_date=birth_date,
        contact_note=(contact_note or "").strip() or None,
        protocol_version_id=ctx.protocol_version_id,
    )
    return create(
        session, row, actor=actor, clock=ctx.clock, reason="pre-screen contact registered"
    )


def link_screening(
    session: Session, ctx: TrialContext, participant_id: int, screening_id: int, *, actor: str
) -> ParticipantScreening:
    """Attach a stored eligibility screening to the participant. Its verdict (from the stored
    row) sets the status; an ``ineligible`` verdict makes a screen failure whose reason names
    every failing criterion."""
    who = check_actor(actor)
    person = get_participant(session, participant_id)
    require_open(person, "screened again")
    screening = get_screening(session, screening_id)
    owner = session.scalars(
        select(ParticipantScreening).where(ParticipantScreening.screening_id == screening_id)
    ).one_or_none()
    if owner is not None:
        raise TrialdeskError(
            f"screening #{screening_id} already belongs to participant #{owner.participant_id}",
            field="screening_id",
        )
    if screening.screening_date > ctx.clock.today():
        raise TrialdeskError(
            f"screening #{screening_id} is dated {screening.screening_date}, in the future",
            field="screening_id",
        )
    link = create(
        session,
        ParticipantScreening(
            participant_id=person.id,
            screening_id=screening.id,
            linked_at=ctx.clock.now(),
            linked_by=who,
        ),
        actor=who,
        clock=ctx.clock,
        reason=f"screening #{screening.id} ({screening.verdict}) linked",
    )
    fail_reason = (
        screen_fail_reason(session, screening) if screening.verdict == "ineligible" else None
    )
    changes: dict[str, Any] = {"screen_fail_reason": fail_reason}
    _set_status(
        session, ctx, person, who, f"screening #{screening.id}: {screening.verdict}", changes
    )
    return link


def record_consent(
    session: Session,
    ctx: TrialContext,
    participant_id: int,
    *,
    consent_date: date,
    form_version: str,
    obtained_by: str,
    actor: str,
) -> Consent:
    """Written informed consent: the date it was signed, the form version, who obtained it."""
    person = get_participant(session, participant_id)
    require_open(person, "consented")
    if consent_date > ctx.clock.today():
        raise TrialdeskError(
            f"{consent_date} is in the future (today is {ctx.clock.today()}); give the date the "
            "participant signed the form",
            field="consent_date",
        )
    version = form_version.strip()
    expected = ctx.protocol.conduct.consent_form_version
    if not version:
        raise TrialdeskError("give the version printed on the consent form", field="form_version")
    if expected is not None and version != expected:
        raise TrialdeskError(
            f"{version!r} is not the consent form in use ({expected!r}); consent the participant "
            "on the current form, or update the protocol's conduct.consent_form_version",
            field="form_version",
        )
    if not obtained_by.strip():
        raise TrialdeskError("give the name of who obtained consent", field="obtained_by")
    consent = create(
        session,
        Consent(
            participant_id=person.id,
            consent_date=consent_date,
            form_version=version,
            obtained_by=obtained_by.strip(),
        ),
        actor=actor,
        clock=ctx.clock,
        reason="informed consent recorded",
    )
    _set_status(session, ctx, person, check_actor(actor), "consent recorded", {})
    return consent


@dataclass(frozen=True, slots=True)
class ScreeningStanding:
    """The participant's latest screening and its verdict (None: never screened)."""

    screening: Screening | None

    @property
    def verdict(self) -> str | None:
        return self.screening.verdict if self.screening is not None else None


def latest_screening(session: Session, participant_id: int) -> ScreeningStanding:
    """The most recent screening linked to the participant (by screening date, then id)."""
    row = session.scalars(
        select(Screening)
        .join(ParticipantScreening, ParticipantScreening.screening_id == Screening.id)
        .where(ParticipantScreening.participant_id == participant_id)
        .order_by(Screening.screening_date.desc(), Screening.id.desc())
        .limit(1)
    ).one_or_none()
    return ScreeningStanding(row)


def valid_consent(session: Session, participant_id: int) -> Consent | None:
    """The latest consent that is not voided."""
    return session.scalars(
        select(Consent)
        .where(Consent.participant_id == participant_id, Consent.voided_at.is_(None))
        .order_by(Consent.consent_date.desc(), Consent.id.desc())
        .limit(1)
    ).one_or_none()


def derived_status(session: Session, person: Participant) -> str:
    """The status the participant's records imply (withdrawn and completed are kept as set)."""
    if person.status in ("withdrawn", "completed"):
        return person.status
    enrolled = session.scalar(select(Enrolment.id).where(Enrolment.participant_id == person.id))
    if enrolled is not None:
        return "enrolled"
    verdict = latest_screening(session, person.id).verdict
    if verdict == "ineligible":
        return "screen_failed"
    if valid_consent(session, person.id) is not None:
        return "consented"
    return "screening" if verdict is not None else "prescreened"


def screen_fail_reason(session: Session, screening: Screening) -> str:
    """'I3 not met: ...; E5 met: ...' from the stored result, kinds from its protocol text."""
    version = session.get(ProtocolVersion, screening.protocol_version_id)
    kinds: dict[str, str] = {}
    if version is not None:
        protocol = load_protocol_text(version.yaml_text, "stored protocol").protocol
        kinds = {i: c.kind for c in protocol.criteria for i in c.ids}
    result: Any = json.loads(screening.result_json)
    failing: list[str] = []
    for item in result.get("criteria", []) if isinstance(result, dict) else []:
        kind = kinds.get(str(item.get("id")))
        status = item.get("status")
        if (kind, status) in (("inclusion", "not_met"), ("exclusion", "met")):
            word = "not met" if status == "not_met" else "met"
            failing.append(f"{item.get('id')} {word}: {item.get('reason')}")
    reason = "; ".join(failing) or "ineligible"
    return f"screening #{screening.id} on {screening.screening_date}: {reason}"


def require_open(person: Participant, what: str) -> None:
    if person.status in CLOSED_STATUSES:
        raise TrialdeskError(
            f"{describe(person)} ({person.screening_number}) is {person.status} and cannot be "
            f"{what}",
            field="participant_id",
        )


def _set_status(
    session: Session,
    ctx: TrialContext,
    person: Participant,
    actor: str,
    why: str,
    changes: dict[str, Any],
) -> None:
    status = derived_status(session, person)
    if status != "screen_failed":
        changes["screen_fail_reason"] = None
    update(session, person, {**changes, "status": status}, actor=actor, reason=why, clock=ctx.clock)
