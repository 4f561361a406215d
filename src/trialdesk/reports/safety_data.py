"""The query layer of the safety report: read the trial from the database as of a data cut-off
and return a :class:`SafetyReport`. Reads only; never writes.

Cut-off rule: a record counts when its clinical date is on or before the cut-off (site dates:
screening, consent, enrolment, infusion given, AE onset, measurement; instants such as an
adjudication or a signature by their date at the site). Voided records never count. DLT
evaluability is the protocol's rule applied to the facts known at the cut-off.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from trialdesk import __version__
from trialdesk.protocol import LoadedProtocol, Protocol
from trialdesk.reports.safety_flow import FlowFacts, consort_flow
from trialdesk.reports.safety_model import (
    AeMark,
    AeRow,
    Cover,
    DecisionLine,
    DltLine,
    EnrolmentSummary,
    GradePoint,
    LevelRow,
    PatientCourse,
    PneumonitisSeries,
    SaeLine,
    SafetyReport,
)
from trialdesk.store.audit import audit_trail
from trialdesk.store.models import (
    AdverseEvent,
    Consent,
    DltAssessment,
    Enrolment,
    EscalationDecision,
    Infusion,
    Measurement,
    Participant,
    ParticipantScreening,
    Screening,
)
from trialdesk.trial.clock import Clock
from trialdesk.trial.dlt import Evaluability, PatientEvaluability, patient_evaluability
from trialdesk.trial.dlt_review import patient_dlt_facts, protocol_dlt
from trialdesk.trial.lookup import site_date, site_zone
from trialdesk.trial.signatures import manifest

PNEUMONITIS_CODE = "pneumonitis_grade"


@dataclass(frozen=True)
class _Patient:
    """An enrolled participant as of the cut-off."""

    person: Participant
    enrolment: Enrolment
    given: tuple[date, ...]
    left_on: date | None
    standing: PatientEvaluability

    @property
    def label(self) -> str:
        return self.person.study_id or self.person.screening_number

    @property
    def day0(self) -> date:
        return self.given[0] if self.given else self.enrolment.enrolled_on


def gather_safety_report(
    session: Session, loaded: LoadedProtocol, cutoff: date, clock: Clock, lang: str = "en"
) -> SafetyReport:
    """Everything the report shows, read from ``session`` as of ``cutoff``."""
    protocol = loaded.protocol
    reader = _Reader(session, protocol, cutoff, clock, lang)
    patients = reader.patients()
    dlts = reader.dlt_lines(patients)
    patients = reader.with_standing(patients, dlts)
    decisions = reader.decisions()
    stop = next((d for d in decisions if d.action == "stop"), None)
    return SafetyReport(
        cover=Cover(
            protocol_id=protocol.id,
            nct_id=protocol.registry.nct_id,
            title=protocol.registry.title.get(lang),
            sponsor=protocol.registry.sponsor,
            protocol_version=protocol.version,
            protocol_sha256=loaded.sha256,
            software_version=__version__,
            cutoff=cutoff,
            generated_at=clock.now().astimezone(site_zone(clock)),
        ),
        enrolment=reader.enrolment_summary(patients, stop),
        flow=consort_flow(reader.flow_facts(patients)),
        levels=reader.level_rows(patients, dlts),
        ae_table=reader.ae_table(patients),
        saes=reader.sae_lines(patients),
        dlts=tuple(line for line, _ in dlts),
        decisions=decisions,
        courses=tuple(reader.course(p) for p in patients.values()),
        pneumonitis=reader.pneumonitis(patients),
    )


class _Reader:
    """The queries, all trimmed to the cut-off."""

    def __init__(
        self, session: Session, protocol: Protocol, cutoff: date, clock: Clock, lang: str
    ) -> None:
        self.session = session
        self.lang = lang
        self.protocol = protocol
        self.cutoff = cutoff
        self.clock = clock

    def _by(self, moment: datetime | None) -> bool:
        """Whether an instant falls on or before the cut-off day at the site."""
        return moment is not None and site_date(moment, self.clock) <= self.cutoff

    def participants(self) -> list[Participant]:
        rows = self.session.scalars(select(Participant).order_by(Participant.id))
        return [p for p in rows if self._by(p.created_at)]

    def left_on(self, person: Participant) -> date | None:
        """The day the participant withdrew, if on or before the cut-off."""
        if person.status != "withdrawn":
            return None
        for entry in reversed(audit_trail(self.session, "participant", str(person.id))):
            if entry.field == "status" and '"withdrawn"' in entry.new_value:
                day = site_date(entry.at, self.clock)
                return day if day <= self.cutoff else None
        return None

    def withdrawal_reason(self, person: Participant) -> str | None:
        for entry in reversed(audit_trail(self.session, "participant", str(person.id))):
            if entry.field == "status" and '"withdrawn"' in entry.new_value:
                return entry.reason.removeprefix("withdrawn: ")
        return None

    def given_dates(self, participant_id: int) -> tuple[date, ...]:
        rows = self.session.scalars(
            select(Infusion).where(
                Infusion.participant_id == participant_id,
                Infusion.voided_at.is_(None),
                Infusion.status == "given",
            )
        )
        days = (site_date(r.given_at, self.clock) for r in rows if r.given_at is not None)
        return tuple(sorted(d for d in days if d <= self.cutoff))

    def patients(self) -> dict[int, _Patient]:
        """Enrolled on or before the cut-off, in order of enrolment (standing filled later)."""
        found: dict[int, _Patient] = {}
        rows = self.session.execute(
            select(Enrolment, Participant)
            .join(Participant, Participant.id == Enrolment.participant_id)
            .where(Enrolment.enrolled_on <= self.cutoff)
            .order_by(Enrolment.cohort_number, Enrolment.enrolled_on, Enrolment.id)
        )
        for enrolment, person in rows:
            placeholder = PatientEvaluability(
                person.id, enrolment.dose_level, Evaluability.NOT_STARTED, None, ""
            )
            found[person.id] = _Patient(
                person, enrolment, self.given_dates(person.id), self.left_on(person), placeholder
            )
        return found

    def with_standing(
        self, patients: dict[int, _Patient], dlts: list[tuple[DltLine, int]]
    ) -> dict[int, _Patient]:
        """Each patient's DLT evaluability from the facts known at the cut-off."""
        dlt = protocol_dlt(self.protocol)
        statuses: dict[int, Counter[str]] = defaultdict(Counter)
        for line, participant_id in dlts:
            statuses[participant_id][line.status] += 1
        result: dict[int, _Patient] = {}
        for pid, patient in patients.items():
            stored = patient_dlt_facts(self.session, pid, self.protocol, self.clock)
            complete = stored.infusions_complete and len(patient.given) == len(
                stored.infusion_dates
            )
            facts = replace(
                stored,
                infusion_dates=patient.given,
                confirmed_dlts=statuses[pid]["confirmed"],
                candidate_dlts=statuses[pid]["candidate"],
                left_study_on=patient.left_on,
                infusions_complete=complete,
            )
            result[pid] = replace(patient, standing=patient_evaluability(facts, dlt, self.cutoff))
        return result

    def screenings(self) -> dict[int, list[Screening]]:
        """Screenings on or before the cut-off per participant, latest last."""
        rows = self.session.execute(
            select(ParticipantScreening.participant_id, Screening)
            .join(Screening, Screening.id == ParticipantScreening.screening_id)
            .where(Screening.screening_date <= self.cutoff)
            .order_by(Screening.screening_date, Screening.id)
        )
        found: dict[int, list[Screening]] = defaultdict(list)
        for participant_id, screening in rows:
            found[participant_id].append(screening)
        return found

    def failed_criteria(self, screening: Screening) -> str | None:
        """'I4b, I8 not met; E8 met': the criteria that excluded the person (sub-criteria such
        as I4b.alt left out; the protocol's own kinds say inclusion or exclusion)."""
        kinds = {i: c.kind for c in self.protocol.criteria for i in c.ids}
        result = json.loads(screening.result_json)
        not_met: list[str] = []
        met: list[str] = []
        for item in result.get("criteria", []) if isinstance(result, dict) else []:
            ident = str(item.get("id"))
            if "." in ident:
                continue
            kind, status = kinds.get(ident), item.get("status")
            if (kind, status) == ("inclusion", "not_met"):
                not_met.append(ident)
            elif (kind, status) == ("exclusion", "met"):
                met.append(ident)
        parts = [f"{', '.join(not_met)} not met"] if not_met else []
        parts += [f"{', '.join(met)} met"] if met else []
        return "; ".join(parts) or None

    def consented(self) -> set[int]:
        rows = self.session.scalars(
            select(Consent.participant_id).where(
                Consent.voided_at.is_(None), Consent.consent_date <= self.cutoff
            )
        )
        return set(rows)

    def flow_facts(self, patients: dict[int, _Patient]) -> list[FlowFacts]:
        screenings = self.screenings()
        consented = self.consented()
        facts = []
        for person in self.participants():
            screened = screenings.get(person.id, [])
            patient = patients.get(person.id)
            withdrawn = self.left_on(person) is not None
            facts.append(
                FlowFacts(
                    verdict=screened[-1].verdict if screened else None,
                    screen_fail_reason=self.failed_criteria(screened[-1]) if screened else None,
                    consented=person.id in consented,
                    enrolled=patient is not None,
                    treated=bool(patient and patient.given),
                    standing=patient.standing.state if patient else None,
                    withdrawn_reason=self.withdrawal_reason(person) if withdrawn else None,
                )
            )
        return facts

    def dlt_lines(self, patients: dict[int, _Patient]) -> list[tuple[DltLine, int]]:
        """Candidate DLTs of AEs with onset by the cut-off; an adjudication after it shows as
        a candidate still. Paired with the participant id."""
        rows = self.session.execute(
            select(DltAssessment, AdverseEvent)
            .join(AdverseEvent, AdverseEvent.id == DltAssessment.adverse_event_id)
            .where(AdverseEvent.voided_at.is_(None), AdverseEvent.onset_date <= self.cutoff)
            .order_by(AdverseEvent.onset_date, AdverseEvent.id)
        )
        lines = []
        for assessment, event in rows:
            patient = patients.get(event.participant_id)
            if patient is None:
                continue
            decided = assessment.status != "candidate" and self._by(assessment.adjudicated_at)
            lines.append(
                (
                    DltLine(
                        study_id=patient.label,
                        level=patient.enrolment.dose_level,
                        term=event.term,
                        grade=event.grade,
                        onset=event.onset_date,
                        rule=assessment.rule_matched,
                        status=assessment.status if decided else "candidate",
                        reason=assessment.reason if decided else None,
                        adjudicated_by=assessment.adjudicated_by if decided else None,
                        adjudicated_at=_local(assessment.adjudicated_at, self.clock)
                        if decided
                        else None,
                    ),
                    event.participant_id,
                )
            )
        return lines

    def adverse_events(self, patients: dict[int, _Patient]) -> list[AdverseEvent]:
        rows = self.session.scalars(
            select(AdverseEvent)
            .where(AdverseEvent.voided_at.is_(None), AdverseEvent.onset_date <= self.cutoff)
            .order_by(AdverseEvent.onset_date, AdverseEvent.id)
        )
        return [event for event in rows if event.participant_id in patients]

    def ae_table(self, patients: dict[int, _Patient]) -> tuple[AeRow, ...]:
        """Per term and level, patients counted once at their worst grade of the term."""
        worst: dict[tuple[str, int], int] = {}
        for event in self.adverse_events(patients):
            key = (event.term, event.participant_id)
            worst[key] = max(worst.get(key, 0), event.grade)
        n_levels = len(self.protocol.doses)
        cells: dict[str, list[list[int]]] = {}
        for (term, pid), grade in worst.items():
            table = cells.setdefault(term, [[0] * 5 for _ in range(n_levels)])
            table[patients[pid].enrolment.dose_level - 1][grade - 1] += 1
        rows = [
            AeRow(term, tuple(tuple(level) for level in table), sum(map(sum, table)))
            for term, table in cells.items()
        ]
        return tuple(sorted(rows, key=lambda row: (-row.patients, row.term)))

    def sae_lines(self, patients: dict[int, _Patient]) -> tuple[SaeLine, ...]:
        return tuple(
            SaeLine(
                study_id=patients[e.participant_id].label,
                level=patients[e.participant_id].enrolment.dose_level,
                term=e.term,
                grade=e.grade,
                onset=e.onset_date,
                resolved=e.resolution_date
                if e.resolution_date and e.resolution_date <= self.cutoff
                else None,
                criteria=tuple(json.loads(e.serious_criteria or "[]")),
                attribution_hdmsc=e.attribution_hdmsc,
                attribution_standard=e.attribution_standard,
                outcome=e.outcome,
                reported_at=_local(e.sae_reported_at, self.clock)
                if self._by(e.sae_reported_at)
                else None,
            )
            for e in self.adverse_events(patients)
            if e.serious
        )

    def level_rows(
        self, patients: dict[int, _Patient], dlts: list[tuple[DltLine, int]]
    ) -> tuple[LevelRow, ...]:
        rows = []
        for dose in self.protocol.doses:
            here = [p for p in patients.values() if p.enrolment.dose_level == dose.level]
            lines = [line for line, _ in dlts if line.level == dose.level]
            rows.append(
                LevelRow(
                    level=dose.level,
                    dose=dose.label or f"{dose.amount:g} {dose.unit}",
                    enrolled=len(here),
                    treated=sum(1 for p in here if p.given),
                    evaluable=sum(1 for p in here if p.standing.state.counts),
                    infusions_given=sum(len(p.given) for p in here),
                    patients_with_dlt=sum(
                        1 for p in here if p.standing.state == Evaluability.EVALUABLE_DLT
                    ),
                    candidate_dlts=sum(1 for line in lines if line.status == "candidate"),
                )
            )
        return tuple(rows)

    def decisions(self) -> tuple[DecisionLine, ...]:
        rows = self.session.scalars(
            select(EscalationDecision)
            .where(EscalationDecision.superseded.is_(False))
            .order_by(EscalationDecision.id)
        )
        zone = site_zone(self.clock)
        lines = []
        for row in rows:
            if not self._by(row.signed_at) or row.signed_at is None:
                continue
            made = json.loads(row.decision_json)
            lines.append(
                DecisionLine(
                    cohort=row.cohort_number,
                    level=row.dose_level,
                    action=str(made.get("action")),
                    next_level=made.get("next_level"),
                    mtd_level=made.get("mtd_level"),
                    reason=str(made.get("reason") or ""),
                    computed_at=row.computed_at.astimezone(zone),
                    signature=manifest(row, "zh" if self.lang == "zh" else "en"),
                )
            )
        return tuple(lines)

    def enrolment_summary(
        self, patients: dict[int, _Patient], stop: DecisionLine | None
    ) -> EnrolmentSummary:
        days = [p.enrolment.enrolled_on for p in patients.values()]
        last = max(patients.values(), key=lambda p: p.enrolment.cohort_number, default=None)
        return EnrolmentSummary(
            prescreened=len(self.participants()),
            enrolled=len(patients),
            planned=self.protocol.max_sample_size,
            first_enrolled=min(days, default=None),
            last_enrolled=max(days, default=None),
            withdrawn=sum(1 for p in patients.values() if p.left_on is not None),
            current_level=last.enrolment.dose_level if last else None,
            current_cohort=last.enrolment.cohort_number if last else None,
            stopped=stop is not None,
            mtd_level=stop.mtd_level if stop else None,
        )

    def course(self, patient: _Patient) -> PatientCourse:
        day0 = patient.day0
        end = min(self.cutoff, patient.left_on or self.cutoff)
        window = patient.standing.window
        dlt_events = {
            assessment.adverse_event_id
            for assessment in self.session.scalars(
                select(DltAssessment).where(DltAssessment.status == "confirmed")
            )
            if self._by(assessment.adjudicated_at)
        }
        marks = tuple(
            AeMark(
                day=(e.onset_date - day0).days,
                end_day=(e.resolution_date - day0).days
                if e.resolution_date and e.resolution_date <= self.cutoff
                else None,
                term=e.term,
                grade=e.grade,
                serious=e.serious,
                dlt=e.id in dlt_events,
            )
            for e in self.adverse_events({patient.person.id: patient})
        )
        return PatientCourse(
            study_id=patient.label,
            level=patient.enrolment.dose_level,
            cohort=patient.enrolment.cohort_number,
            first_infusion=patient.given[0] if patient.given else None,
            infusion_days=tuple((d - day0).days for d in patient.given),
            last_day=max(0, (end - day0).days),
            window=((window.start - day0).days, (window.end - day0).days) if window else None,
            aes=marks,
            standing=patient.standing.state.value,
        )

    def pneumonitis(self, patients: dict[int, _Patient]) -> tuple[PneumonitisSeries, ...]:
        rows = self.session.scalars(
            select(Measurement)
            .where(
                Measurement.code == PNEUMONITIS_CODE,
                Measurement.voided_at.is_(None),
                Measurement.measured_on <= self.cutoff,
            )
            .order_by(Measurement.measured_on, Measurement.id)
        )
        points: dict[int, list[GradePoint]] = defaultdict(list)
        for row in rows:
            patient = patients.get(row.participant_id)
            if patient is not None:
                points[row.participant_id].append(
                    GradePoint((row.measured_on - patient.day0).days, row.value)
                )
        return tuple(
            PneumonitisSeries(p.label, p.enrolment.dose_level, tuple(points[pid]))
            for pid, p in patients.items()
            if points.get(pid)
        )


def _local(moment: datetime | None, clock: Clock) -> datetime | None:
    return moment.astimezone(site_zone(clock)) if moment is not None else None
