"""Candidate DLTs from stored adverse events, the investigator's adjudication, and each
enrolled patient's DLT facts for the escalation decisions.

A candidate is flagged automatically whenever an adverse event is recorded or corrected
(:func:`flag_candidate`); only an investigator confirms or rejects it, always with a reason.
If a correction makes an AE stop matching the DLT definition, its assessment is rejected
automatically with that reason; if a correction changes what an adjudication was based on, the
assessment goes back to the investigator as a candidate. Every change is audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.protocol.models import Dlt, Protocol
from trialdesk.store.audit import audit_trail
from trialdesk.store.models import AdverseEvent, DltAssessment, Enrolment, Infusion, Participant
from trialdesk.store.session import read_once
from trialdesk.trial import records
from trialdesk.trial.clock import Clock
from trialdesk.trial.dlt import (
    AdverseEventFacts,
    DltWindow,
    PatientDltFacts,
    dlt_window,
    match_dlt,
    parse_attribution,
)
from trialdesk.trial.infusions import active_infusions, given_dates_of
from trialdesk.trial.lookup import get_row, require_role, site_date
from trialdesk.trial.roles import Action

DLT_FIELDS: Final = frozenset({"meddra_code", "grade", "onset_date", "attribution_hdmsc"})
"""The AE fields a DLT adjudication rests on; correcting one sends it back to the investigator."""


def protocol_dlt(protocol: Protocol) -> Dlt:
    if protocol.dlt is None:
        raise TrialdeskError(
            "the protocol has no DLT definition; add the dlt section to the protocol file",
            field="dlt",
        )
    return protocol.dlt


def _infusions_complete(
    session: Session, participant_id: int, protocol: Protocol, rows: Sequence[Infusion]
) -> bool:
    """Whether every planned infusion is given or missed (or the participant stopped);
    ``rows`` are the participant's :func:`active_infusions`."""
    return _complete(session.get(Participant, participant_id), protocol, rows)


def _complete(
    participant: Participant | None, protocol: Protocol, rows: Sequence[Infusion]
) -> bool:
    done = {row.number for row in rows if row.status in ("given", "missed")}
    count = protocol.schedule.administrations.count if protocol.schedule else len(done)
    stopped = participant is not None and participant.status in ("withdrawn", "completed")
    return stopped or len(done) >= count


class Unread(Enum):
    """A value not read yet (``None`` is a DLT window too: before the first infusion)."""

    UNREAD = "unread"


def window_of(
    session: Session, participant_id: int, protocol: Protocol, clock: Clock
) -> DltWindow | None:
    """The participant's DLT window from the infusions given (None before the first)."""
    rows = active_infusions(session, participant_id)
    return dlt_window(
        protocol_dlt(protocol),
        given_dates_of(rows, clock).values(),
        infusions_complete=_infusions_complete(session, participant_id, protocol, rows),
    )


def assessment_of(session: Session, adverse_event_id: int) -> DltAssessment | None:
    return session.scalars(
        select(DltAssessment).where(DltAssessment.adverse_event_id == adverse_event_id)
    ).one_or_none()


def flag_candidate(
    session: Session,
    event: AdverseEvent,
    protocol: Protocol,
    *,
    actor: str,
    clock: Clock,
    reason: str,
    changed_fields: frozenset[str] = frozenset(),
    new: bool = False,
    window: DltWindow | Unread | None = Unread.UNREAD,
) -> DltAssessment | None:
    """Match ``event`` against the protocol's DLT rules and keep its assessment in step.
    ``new``: the event was recorded in this unit of work, so it has no assessment yet.
    ``window``: the participant's DLT window (:func:`window_of`) when the caller has read it
    already; otherwise it is read here.

    Returns the event's assessment (new, updated or unchanged), or None if it has none.
    """
    existing = None if new else assessment_of(session, event.id)
    match = None
    if not event.voided:
        facts = AdverseEventFacts(
            meddra_code=event.meddra_code,
            grade=event.grade,
            onset=event.onset_date,
            attribution=parse_attribution(event.attribution_hdmsc),
        )
        if window is Unread.UNREAD:
            window = window_of(session, event.participant_id, protocol, clock)
        match = match_dlt(facts, protocol_dlt(protocol).definition.rules, window)
    if match is None:
        if existing is not None and existing.status != "rejected":
            why = "adverse event voided" if event.voided else "no longer meets the DLT definition"
            records.update(
                session,
                existing,
                {
                    "status": "rejected",
                    "reason": f"{why} ({reason})",
                    "adjudicated_by": None,
                    "adjudicated_at": clock.now(),
                },
                actor=actor,
                reason=f"{why}: {reason}",
                clock=clock,
            )
        return existing
    if existing is None:
        return records.create(
            session,
            DltAssessment(
                adverse_event_id=event.id, rule_matched=match.description, status="candidate"
            ),
            actor=actor,
            clock=clock,
            reason=f"candidate DLT, {match.description}",
        )
    changes: dict[str, object] = {"rule_matched": match.description}
    if existing.status == "rejected" and not existing.adjudicated_by:
        changes.update(status="candidate", reason=None, adjudicated_at=None)
    elif existing.status != "candidate" and changed_fields & DLT_FIELDS:
        changes.update(status="candidate", reason=None, adjudicated_by=None, adjudicated_at=None)
    records.update(
        session, existing, changes, actor=actor, reason=f"re-assessed: {reason}", clock=clock
    )
    return existing


def adjudicate_dlt(
    session: Session,
    assessment_id: int,
    *,
    confirm: bool,
    reason: str,
    actor: str,
    clock: Clock,
) -> DltAssessment:
    """The investigator confirms (``confirm=True``) or rejects a candidate DLT, with a reason.

    A decided assessment can be changed the same way (the reason says why); deciding the same
    again is refused, as is any adjudication by someone who is not an investigator.
    """
    require_role(session, actor, Action.ADJUDICATE_DLT)
    why = records.check_reason(reason)
    assessment = get_row(session, DltAssessment, assessment_id, "DLT assessment")
    event = get_row(session, AdverseEvent, assessment.adverse_event_id, "adverse event")
    if event.voided:
        raise TrialdeskError(
            f"adverse event #{event.id} was voided ({event.void_reason}); there is nothing "
            "to adjudicate",
            field="id",
        )
    status = "confirmed" if confirm else "rejected"
    if assessment.status == status:
        raise TrialdeskError(
            f"DLT assessment #{assessment.id} is already {status} by {assessment.adjudicated_by}",
            field="id",
        )
    records.update(
        session,
        assessment,
        {
            "status": status,
            "reason": why,
            "adjudicated_by": actor.strip(),
            "adjudicated_at": clock.now(),
        },
        actor=actor,
        reason=f"DLT {status}: {why}",
        clock=clock,
    )
    return assessment


_PENDING: Final = (
    select(DltAssessment)
    .join(AdverseEvent, AdverseEvent.id == DltAssessment.adverse_event_id)
    .where(DltAssessment.status == "candidate", AdverseEvent.voided_at.is_(None))
    .order_by(DltAssessment.id)
)


def pending_adjudications(session: Session) -> list[DltAssessment]:
    """Candidate DLTs waiting for the investigator, oldest first (voided AEs left out); read
    once per page view (the dashboard counts them and lists them), afresh when writing."""
    return read_once(
        session,
        "pending adjudications",
        lambda: list(session.scalars(_PENDING)),
    )


def _left_study_on(session: Session, participant: Participant, clock: Clock) -> date | None:
    if participant.status != "withdrawn":
        return None
    for entry in reversed(audit_trail(session, "participant", str(participant.id))):
        if entry.field == "status" and '"withdrawn"' in entry.new_value:
            return site_date(entry.at, clock)
    return None


def patient_dlt_facts(
    session: Session, participant_id: int, protocol: Protocol, clock: Clock
) -> PatientDltFacts:
    """What the evaluability rule needs of one enrolled participant, from the store."""
    participant = get_row(session, Participant, participant_id, "participant")
    enrolment = session.scalars(
        select(Enrolment).where(Enrolment.participant_id == participant_id)
    ).one()
    statuses = list(
        session.scalars(
            select(DltAssessment.status)
            .join(AdverseEvent, AdverseEvent.id == DltAssessment.adverse_event_id)
            .where(AdverseEvent.participant_id == participant_id, AdverseEvent.voided_at.is_(None))
        )
    )
    rows = active_infusions(session, participant_id)
    return _facts(session, participant, enrolment, statuses, rows, protocol, clock)


@dataclass(frozen=True, slots=True)
class EnrolledRecords:
    """The records the DLT facts rest on, for every enrolled participant at once: one query per
    kind of record instead of one per participant and kind (the status screens read them on
    every view). ``infusions``: as :func:`active_infusions` gives them; ``dlt_statuses``: the
    DLT assessment statuses of the participant's adverse events that are not voided."""

    infusions: Mapping[int, Sequence[Infusion]]
    dlt_statuses: Mapping[int, Sequence[str]]

    @classmethod
    def of_participant(
        cls,
        participant_id: int,
        infusions: Iterable[Infusion],
        events: Iterable[AdverseEvent],
        assessments: Mapping[int, DltAssessment],
    ) -> EnrolledRecords:
        """One participant's records from rows the caller has read already (every infusion and
        adverse event, voided or not; assessments by adverse event id), kept as
        :func:`enrolled_records` keeps them."""
        active = sorted((i for i in infusions if i.voided_at is None), key=_infusion_order)
        statuses = [a.status for e in events if not e.voided and (a := assessments.get(e.id))]
        return cls({participant_id: active}, {participant_id: statuses})

    def facts(
        self,
        session: Session,
        participant: Participant,
        enrolment: Enrolment,
        protocol: Protocol,
        clock: Clock,
    ) -> PatientDltFacts:
        """:func:`patient_dlt_facts` from these records (the same answer, fewer queries)."""
        rows = self.infusions.get(participant.id, ())
        statuses = self.dlt_statuses.get(participant.id, ())
        return _facts(session, participant, enrolment, statuses, rows, protocol, clock)


def _infusion_order(row: Infusion) -> tuple[int, int]:
    """The order of :func:`active_infusions`: by number, then as stored."""
    return row.number, row.id


_ENROLLED_INFUSIONS: Final = (
    select(Infusion)
    .join(Enrolment, Enrolment.participant_id == Infusion.participant_id)
    .where(Infusion.voided_at.is_(None))
    .order_by(Infusion.participant_id, Infusion.number, Infusion.id)
)
_ENROLLED_DLT_STATUSES: Final = (
    select(AdverseEvent.participant_id, DltAssessment.status)
    .join(AdverseEvent, AdverseEvent.id == DltAssessment.adverse_event_id)
    .join(Enrolment, Enrolment.participant_id == AdverseEvent.participant_id)
    .where(AdverseEvent.voided_at.is_(None))
)
"""Built once (every page view reads them; see ``trialdesk.trial.cohorts``)."""


def enrolled_records(session: Session) -> EnrolledRecords:
    """Every enrolled participant's active infusions and DLT statuses, two queries in all."""
    infusions: dict[int, list[Infusion]] = {}
    for row in session.scalars(_ENROLLED_INFUSIONS):
        infusions.setdefault(row.participant_id, []).append(row)
    statuses: dict[int, list[str]] = {}
    for participant_id, status in session.execute(_ENROLLED_DLT_STATUSES):
        statuses.setdefault(participant_id, []).append(status)
    return EnrolledRecords(infusions, statuses)


def _facts(
    session: Session,
    participant: Participant,
    enrolment: Enrolment,
    statuses: Sequence[str],
    rows: Sequence[Infusion],
    protocol: Protocol,
    clock: Clock,
) -> PatientDltFacts:
    return PatientDltFacts(
        participant_id=participant.study_id or participant.screening_number,
        dose_level=enrolment.dose_level,
        infusion_dates=tuple(sorted(given_dates_of(rows, clock).values())),
        confirmed_dlts=list(statuses).count("confirmed"),
        candidate_dlts=list(statuses).count("candidate"),
        left_study_on=_left_study_on(session, participant, clock),
        infusions_complete=_complete(participant, protocol, rows),
    )


def enrolled_dlt_facts(session: Session, protocol: Protocol, clock: Clock) -> list[PatientDltFacts]:
    """:func:`patient_dlt_facts` of every enrolled participant, in order of enrolment; feed it
    to :func:`trialdesk.trial.dlt.evaluable_patients_by_level`."""
    ids = session.scalars(select(Enrolment.participant_id).order_by(Enrolment.id))
    return [patient_dlt_facts(session, pid, protocol, clock) for pid in ids]
