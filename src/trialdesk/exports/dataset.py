"""Everything an export shows, read from the database in one go (one transaction, so every
file of an export describes the same moment)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Final, TypeVar

from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from trialdesk.clinical.age import age_in_completed_years
from trialdesk.errors import TrialdeskError
from trialdesk.protocol.loader import LoadedProtocol, load_protocol_text
from trialdesk.store.models import (
    AdverseEvent,
    AuditEntry,
    Base,
    ConcomitantMedication,
    Consent,
    DltAssessment,
    Enrolment,
    EscalationDecision,
    Infusion,
    Measurement,
    Participant,
    ParticipantScreening,
    ProtocolVersion,
    Screening,
    User,
)
from trialdesk.store.screenings import AUDIT_ENTITY as SCREENING_ENTITY

RowT = TypeVar("RowT", bound=Base)

AUDITED_ENTITIES: Final = frozenset(
    model.AUDIT_ENTITY
    for model in (
        Participant,
        ParticipantScreening,
        Consent,
        Enrolment,
        Infusion,
        AdverseEvent,
        DltAssessment,
        EscalationDecision,
        Measurement,
        ConcomitantMedication,
    )
) | {SCREENING_ENTITY}
"""The audit-log entities whose rows an export carries (the clinical records and screenings;
not user accounts)."""


@dataclass(frozen=True)
class TrialData:
    """The stored trial as of ``as_of``: every clinical row (voided ones included), the
    screenings, the audit entries of those records, and the users who appear in them."""

    as_of: datetime
    software_version: str
    protocol_version: ProtocolVersion
    loaded: LoadedProtocol
    participants: list[Participant]
    participant_screenings: list[ParticipantScreening]
    screenings: list[Screening]
    consents: list[Consent]
    enrolments: list[Enrolment]
    infusions: list[Infusion]
    adverse_events: list[AdverseEvent]
    dlt_assessments: list[DltAssessment]
    decisions: list[EscalationDecision]
    measurements: list[Measurement]
    medications: list[ConcomitantMedication]
    audit: list[AuditEntry]
    users: dict[str, User]
    _by_id: dict[int, Participant] = field(default_factory=dict, repr=False)
    _ae_by_id: dict[int, AdverseEvent] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._by_id.update({p.id: p for p in self.participants})
        self._ae_by_id.update({ae.id: ae for ae in self.adverse_events})

    @property
    def study_id(self) -> str:
        """The protocol's id, e.g. ``NCT06021067`` (SDTM's STUDYID)."""
        return self.protocol_version.protocol_id

    def participant(self, participant_id: int) -> Participant:
        return self._by_id[participant_id]

    def subject(self, participant_id: int) -> str:
        """The pseudonymous key of a participant: the study id (``RLI-001``) once enrolled,
        else the screening number (``S-001``). Never a name."""
        person = self._by_id[participant_id]
        return person.study_id or person.screening_number

    def adverse_event(self, adverse_event_id: int) -> AdverseEvent:
        return self._ae_by_id[adverse_event_id]

    def enrolment_of(self, participant_id: int) -> Enrolment | None:
        return next((e for e in self.enrolments if e.participant_id == participant_id), None)

    def screening_participant(self, screening_id: int) -> Participant | None:
        link = next(
            (s for s in self.participant_screenings if s.screening_id == screening_id), None
        )
        return None if link is None else self._by_id[link.participant_id]


def load_trial(session: Session, *, as_of: datetime, software_version: str) -> TrialData:
    """Read the trial; refused when the database holds no protocol (nothing was ever run)."""
    version = session.scalars(
        select(ProtocolVersion).order_by(ProtocolVersion.id.desc()).limit(1)
    ).one_or_none()
    participants = _all(session, Participant)
    if participants:
        used = max(p.protocol_version_id for p in participants)
        version = session.get(ProtocolVersion, used)
    if version is None:
        raise TrialdeskError(
            "the database holds no trial yet (no protocol was ever loaded); run the trial "
            "first, or give the --database-url of the trial to export",
            field="--database-url",
        )
    audit = [
        entry
        for entry in session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        if entry.entity in AUDITED_ENTITIES
    ]
    decisions = _all(session, EscalationDecision)
    actors = {entry.actor for entry in audit} | {d.signed_by for d in decisions if d.signed_by}
    users = {
        user.username: user
        for user in session.scalars(select(User).where(User.username.in_(sorted(actors))))
    }
    return TrialData(
        as_of=as_of,
        software_version=software_version,
        protocol_version=version,
        loaded=load_protocol_text(version.yaml_text, source=f"stored protocol #{version.id}"),
        participants=participants,
        participant_screenings=_all(session, ParticipantScreening),
        screenings=_all(session, Screening),
        consents=_all(session, Consent),
        enrolments=_all(session, Enrolment),
        infusions=_all(session, Infusion),
        adverse_events=_all(session, AdverseEvent),
        dlt_assessments=_all(session, DltAssessment),
        decisions=decisions,
        measurements=_all(session, Measurement),
        medications=_all(session, ConcomitantMedication),
        audit=audit,
        users=users,
    )


def _all(session: Session, model: type[RowT]) -> list[RowT]:
    return list(session.scalars(select(model).order_by(*inspect(model).primary_key)))


def age_on(birth: date | None, day: date | None) -> int | None:
    """Completed years on ``day``; None when either date is unknown."""
    if birth is None or day is None:
        return None
    return age_in_completed_years(birth, day)


def first(values: Sequence[date]) -> date | None:
    return min(values) if values else None


def last(values: Sequence[date]) -> date | None:
    return max(values) if values else None
