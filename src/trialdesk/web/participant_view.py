"""Everything the participant page shows, read in one go: the records, a dated timeline of
them, the DLT window, the pneumonitis grades and steroid course, and the audit trail of every
field of every record of theirs. Plain data; nothing is written."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select, tuple_
from sqlalchemy.orm import Session

from trialdesk.clinical.ctcae import CtcaeError, CtcaeTerm, term, term_by_code
from trialdesk.store.audit import from_json_text
from trialdesk.store.models import (
    AdverseEvent,
    AuditEntry,
    ConcomitantMedication,
    Consent,
    DltAssessment,
    Enrolment,
    Infusion,
    Measurement,
    Participant,
    ParticipantScreening,
    Screening,
)
from trialdesk.store.participant_rows import dlt_assessments_of, first_of, rows_of
from trialdesk.trial.adverse_events import sae_report
from trialdesk.trial.context import TrialContext
from trialdesk.trial.dlt_review import EnrolledRecords
from trialdesk.trial.infusions import infusion_checks_of
from trialdesk.trial.lookup import site_date
from trialdesk.trial.participants import get_participant
from trialdesk.trial.records import audit_entity
from trialdesk.trial.sae import ReportClock
from trialdesk.trial.schedule import Check
from trialdesk.trial.state import PatientLine, TrialSummary, patient_line, trial_summary


@dataclass(frozen=True, slots=True)
class TimelineItem:
    day: date
    kind: str
    title: str
    detail: str = ""
    voided: bool = False
    anchor: str = ""


@dataclass(frozen=True, slots=True)
class AeView:
    event: AdverseEvent
    grade_text: str
    dlt: DltAssessment | None
    report: ReportClock | None


@dataclass(frozen=True, slots=True)
class AuditLine:
    at: datetime
    actor: str
    entity: str
    entity_id: str
    field: str | None
    old: str
    new: str
    reason: str


@dataclass
class ParticipantView:
    person: Participant
    summary: TrialSummary | None
    """The whole trial's summary, read only for a participant not enrolled yet (the enrolment
    form says where the design would put them)."""
    line: PatientLine | None
    """An enrolled participant's DLT window and standing (None before enrolment)."""
    screenings: list[Screening]
    consents: list[Consent]
    enrolment: Enrolment | None
    infusions: list[Infusion]
    infusion_checks: Sequence[Check]
    measurements: list[Measurement]
    medications: list[ConcomitantMedication]
    adverse_events: list[AeView]
    pneumonitis: list[Measurement]
    timeline: list[TimelineItem] = field(default_factory=list)
    audit: list[AuditLine] = field(default_factory=list)
    """Newest first; at most the ``audit_limit`` given to :func:`read_participant`."""
    audit_cut: bool = False
    """Whether older audit entries exist beyond those in ``audit``."""

    @property
    def open_infusion_numbers(self) -> list[int]:
        """Infusions scheduled and not yet given or missed."""
        return [row.number for row in self.infusions if row.status == "scheduled"]


def read_participant(
    session: Session, ctx: TrialContext, participant_id: int, *, audit_limit: int | None = None
) -> ParticipantView:
    """Everything the participant page shows; the audit trail cut to its ``audit_limit`` newest
    entries (None: all of them)."""
    person = get_participant(session, participant_id)
    links = rows_of(session, ParticipantScreening, person.id)
    screenings = [s for link in links if (s := session.get(Screening, link.screening_id))]
    enrolment = first_of(session, Enrolment, person.id)
    infusions = rows_of(session, Infusion, person.id)
    measurements = rows_of(session, Measurement, person.id)
    events = rows_of(session, AdverseEvent, person.id)
    assessments = {a.adverse_event_id: a for a in dlt_assessments_of(session, person.id)}
    # The active infusions and DLT statuses, without reading them again.
    dlt_records = EnrolledRecords.of_participant(person.id, infusions, events, assessments)
    checks = (
        infusion_checks_of(dlt_records.infusions[person.id], ctx.protocol, ctx.clock)
        if enrolment is not None and infusions
        else []
    )
    # Enrolled: the page shows this patient's DLT window; not yet: where the design would put
    # them, which takes the whole trial.
    line, summary = None, None
    if enrolment is not None:
        line = patient_line(session, ctx, person, enrolment, dlt_records)
    else:
        summary = trial_summary(session, ctx)
    ae_views = [
        AeView(
            event,
            term_by_code(event.meddra_code).grade_text(event.grade) or "",
            assessments.get(event.id),
            sae_report(session, event, ctx.protocol, ctx.clock),
        )
        for event in events
    ]
    view = ParticipantView(
        person=person,
        summary=summary,
        line=line,
        screenings=screenings,
        consents=rows_of(session, Consent, person.id),
        enrolment=enrolment,
        infusions=infusions,
        infusion_checks=checks,
        measurements=measurements,
        medications=rows_of(session, ConcomitantMedication, person.id),
        adverse_events=ae_views,
        pneumonitis=sorted(
            (m for m in measurements if m.code == "pneumonitis_grade" and not m.voided),
            key=lambda m: m.measured_on,
        ),
    )
    view.timeline = _timeline(view, ctx)
    records: list[Any] = [
        person,
        *links,
        *view.consents,
        *([enrolment] if enrolment else []),
        *infusions,
        *events,
        *assessments.values(),
        *measurements,
        *view.medications,
    ]
    view.audit, view.audit_cut = _audit(session, records, audit_limit)
    return view


def _timeline(view: ParticipantView, ctx: TrialContext) -> list[TimelineItem]:
    clock = ctx.clock
    items = [
        TimelineItem(
            site_date(view.person.created_at, clock),
            "contact",
            "Pre-screen contact registered",
            view.person.contact_note or "",
        )
    ]
    items += [
        TimelineItem(s.screening_date, "screening", "Screening", f"#{s.id}: {s.verdict}")
        for s in view.screenings
    ]
    items += [
        TimelineItem(
            c.consent_date,
            "consent",
            "Informed consent",
            f"{c.form_version} · {c.obtained_by}",
            c.voided,
        )
        for c in view.consents
    ]
    if view.enrolment is not None:
        e = view.enrolment
        items.append(
            TimelineItem(
                e.enrolled_on,
                "enrolment",
                "Enrolled",
                f"level {e.dose_level}, cohort {e.cohort_number}, {e.baseline_weight_kg:g} kg"
                + (" (override)" if e.override else ""),
            )
        )
    for row in view.infusions:
        day = site_date(row.given_at, clock) if row.given_at else row.scheduled_on
        cells = f"{row.cells_given:.2e} cells" if row.cells_given else f"{row.planned_cells:.2e}"
        items.append(
            TimelineItem(
                day, "infusion", f"Infusion {row.number}", f"{row.status} · {cells}", row.voided
            )
        )
    if view.line is not None and view.line.window_start and view.line.window_end:
        items.append(TimelineItem(view.line.window_start, "dlt", "DLT window opens"))
        items.append(TimelineItem(view.line.window_end, "dlt", "DLT window closes"))
    for m in view.measurements:
        unit = f" {m.unit}" if m.unit else ""
        items.append(
            TimelineItem(
                m.measured_on,
                "visit",
                m.visit_id or "Measurement",
                f"{m.code} = {m.value:g}{unit}",
                m.voided,
            )
        )
    for ae in view.adverse_events:
        event = ae.event
        items.append(
            TimelineItem(
                event.onset_date,
                "ae",
                f"AE: {event.term}",
                f"grade {event.grade}"
                + (" · serious" if event.serious else "")
                + (f" · DLT {ae.dlt.status}" if ae.dlt else ""),
                event.voided,
                f"ae-{event.id}",
            )
        )
    for med in view.medications:
        until = med.end_date.isoformat() if med.end_date else "ongoing"
        items.append(
            TimelineItem(
                med.start_date,
                "medication",
                f"{med.drug} {med.dose:g} {med.dose_unit}",
                f"until {until}",
                med.voided,
            )
        )
    return sorted(items, key=lambda item: item.day)


def _shown(stored: str) -> str:
    value = from_json_text(stored)
    if value is None:
        return "—"
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items() if v not in (None, "", "[]"))
    if isinstance(value, list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _audit(session: Session, records: list[Any], limit: int | None) -> tuple[list[AuditLine], bool]:
    wanted = sorted({(audit_entity(row), str(row.id)) for row in records})
    # Plain rows, not AuditEntry objects: the page only shows them, and loading up to 50
    # entries into the session's identity map was a tenth of the page's time.
    query = (
        select(*_AUDIT_COLUMNS)
        .where(tuple_(AuditEntry.entity, AuditEntry.entity_id).in_(wanted))
        .order_by(AuditEntry.id.desc())
    )
    if limit is not None:
        query = query.limit(limit + 1)
    entries = session.execute(query).all()
    cut = limit is not None and len(entries) > limit
    lines = [
        AuditLine(
            at,
            actor,
            entity,
            entity_id,
            field,
            "" if field is None else _shown(old_value),
            _shown(new_value),
            reason,
        )
        for at, actor, entity, entity_id, field, old_value, new_value, reason in entries[:limit]
    ]
    return lines, cut


_AUDIT_COLUMNS = (
    AuditEntry.at,
    AuditEntry.actor,
    AuditEntry.entity,
    AuditEntry.entity_id,
    AuditEntry.field,
    AuditEntry.old_value,
    AuditEntry.new_value,
    AuditEntry.reason,
)


def known_term(name_or_code: str) -> CtcaeTerm | None:
    """The CTCAE term by name or MedDRA code; None when it is not one (yet)."""
    value = name_or_code.strip()
    if not value:
        return None
    try:
        return term(int(value) if value.isdigit() else value)
    except CtcaeError:
        return None


def ae_form_values(event: AdverseEvent) -> dict[str, str]:
    """A stored AE as its correction form's starting values."""
    return {
        "term": event.term,
        "grade": str(event.grade),
        "onset_date": event.onset_date.isoformat(),
        "resolution_date": event.resolution_date.isoformat() if event.resolution_date else "",
        "serious": "on" if event.serious else "",
        "serious_criteria": ",".join(str(c) for c in json.loads(event.serious_criteria or "[]")),
        "attribution_hdmsc": event.attribution_hdmsc,
        "attribution_standard": event.attribution_standard,
        "action_taken": event.action_taken or "",
        "outcome": event.outcome or "",
    }


def measurement_form_values(row: Measurement) -> dict[str, str]:
    """A stored measurement as its correction form's starting values."""
    return {
        "value": f"{row.value:.12g}",
        "unit": row.unit or "",
        "measured_on": row.measured_on.isoformat(),
        "visit_id": row.visit_id or "",
    }


def medication_form_values(row: ConcomitantMedication) -> dict[str, str]:
    """A stored medication course as its correction form's starting values."""
    return {
        "drug": row.drug,
        "dose": f"{row.dose:.12g}",
        "dose_unit": row.dose_unit,
        "start_date": row.start_date.isoformat(),
        "end_date": row.end_date.isoformat() if row.end_date else "",
        "route": row.route or "",
        "indication": row.indication or "",
    }
