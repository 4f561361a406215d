"""Adverse events of a running trial: record, correct and void them, and the SAE reports.

An AE is coded by a CTCAE v5.0 term from the packaged table (by name or MedDRA code) and a grade
that term has; the grade's text comes back for display. Seriousness follows ICH E2A
(:mod:`trialdesk.trial.sae`); a serious AE starts the protocol's reporting clock when the desk
learns of it (recorded serious, or corrected to serious). Every record and correction
re-checks the protocol's DLT definition (:func:`trialdesk.trial.dlt_review.flag_candidate`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from trialdesk.clinical.ctcae import CtcaeTerm, term, validate_grade
from trialdesk.errors import TrialdeskError
from trialdesk.protocol.models import Protocol
from trialdesk.store.audit import audit_trail, from_json_text
from trialdesk.store.models import AdverseEvent, DltAssessment, Participant
from trialdesk.store.session import Claim, ClaimKind
from trialdesk.trial import records
from trialdesk.trial.clock import Clock
from trialdesk.trial.dlt import parse_attribution
from trialdesk.trial.dlt_review import flag_candidate, window_of
from trialdesk.trial.lookup import enrolment_of, get_row, not_in_future
from trialdesk.trial.sae import ReportClock, check_seriousness, report_status

ACTIONS: Final = {
    "dose_not_changed": ("treatment not changed", "治疗未改变"),
    "drug_interrupted": ("infusion interrupted or delayed", "输注中断或推迟"),
    "drug_withdrawn": ("hDMSC treatment stopped", "停止 hDMSC 治疗"),
    "not_applicable": ("not applicable", "不适用"),
    "unknown": ("unknown", "未知"),
}
"""Action taken with the study treatment (after CDISC AEACN), with English and Chinese text."""

OUTCOMES: Final = {
    "recovered": ("recovered/resolved", "痊愈/消失"),
    "recovering": ("recovering/resolving", "好转/缓解中"),
    "not_recovered": ("not recovered/not resolved", "未好转/未缓解"),
    "recovered_with_sequelae": ("recovered/resolved with sequelae", "痊愈但有后遗症"),
    "fatal": ("fatal", "死亡"),
    "unknown": ("unknown", "未知"),
}
"""Outcome of the AE (after CDISC AEOUT), with English and Chinese text."""

CORRECTABLE: Final = frozenset(
    {
        "term",
        "grade",
        "onset_date",
        "resolution_date",
        "serious",
        "serious_criteria",
        "attribution_hdmsc",
        "attribution_standard",
        "action_taken",
        "outcome",
    }
)


@dataclass(frozen=True, slots=True)
class AdverseEventRecorded:
    """A stored AE with its grade text, its DLT assessment (if it is or was a candidate) and,
    for a serious AE, its reporting clock."""

    event: AdverseEvent
    grade_text: str
    dlt: DltAssessment | None
    report: ReportClock | None


@dataclass(frozen=True, slots=True)
class _Checked:
    ctcae: CtcaeTerm
    grade_text: str
    columns: dict[str, object]


def _vocabulary(value: str | None, allowed: Mapping[str, object], field: str) -> str | None:
    if value is None or not value.strip():
        return None
    key = value.strip().lower()
    if key not in allowed:
        raise TrialdeskError(f"{value!r} is not one of {', '.join(allowed)}", field=field)
    return key


def _check(values: Mapping[str, object], clock: Clock) -> _Checked:
    """Every AE field checked together; the columns to store."""
    ctcae = term(_as_term(values["term"]))
    grade = _as_int(values["grade"], "grade")
    grade_text = validate_grade(ctcae, grade)
    onset = not_in_future(_as_date(values["onset_date"], "onset_date"), clock, "onset_date")
    resolution = values.get("resolution_date")
    if resolution is not None:
        resolved = not_in_future(_as_date(resolution, "resolution_date"), clock, "resolution_date")
        if resolved < onset:
            raise TrialdeskError(
                f"{resolved} is before the onset {onset}; check both dates",
                field="resolution_date",
            )
    serious = _as_bool(values.get("serious", False), "serious")
    criteria_value = values.get("serious_criteria") or ()
    if isinstance(criteria_value, str):
        criteria_value = json.loads(criteria_value)
    criteria = check_seriousness(serious, _as_strings(criteria_value), grade)
    outcome = _vocabulary(_opt_str(values.get("outcome"), "outcome"), OUTCOMES, "outcome")
    if (grade == 5) != (outcome == "fatal"):
        raise TrialdeskError(
            "grade 5 (death related to the AE) and the outcome 'fatal' go together; correct "
            "the grade or the outcome",
            field="outcome",
        )
    return _Checked(
        ctcae,
        grade_text,
        {
            "meddra_code": ctcae.meddra_code,
            "term": ctcae.term,
            "grade": grade,
            "onset_date": onset,
            "resolution_date": resolution,
            "serious": serious,
            "serious_criteria": json.dumps([c.value for c in criteria]),
            "attribution_hdmsc": parse_attribution(
                _as_str(values["attribution_hdmsc"], "attribution_hdmsc"), "attribution_hdmsc"
            ).value,
            "attribution_standard": parse_attribution(
                _as_str(values["attribution_standard"], "attribution_standard"),
                "attribution_standard",
            ).value,
            "action_taken": _vocabulary(
                _opt_str(values.get("action_taken"), "action_taken"), ACTIONS, "action_taken"
            ),
            "outcome": outcome,
        },
    )


def _bad(value: object, field: str, expected: str) -> TrialdeskError:
    return TrialdeskError(f"{value!r} is not {expected}", field=field)


def _as_int(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad(value, field, "a whole number")
    return value


def _as_bool(value: object, field: str) -> bool:
    if not isinstance(value, bool):
        raise _bad(value, field, "yes or no (true/false)")
    return value


def _as_date(value: object, field: str) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise _bad(value, field, "a date (YYYY-MM-DD)")
    return value


def _as_str(value: object, field: str) -> str:
    if not isinstance(value, str):
        raise _bad(value, field, "text")
    return value


def _as_term(value: object) -> str | int:
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise _bad(value, "term", "a CTCAE term name or MedDRA code")
    return value


def _opt_str(value: object, field: str) -> str | None:
    return None if value is None else _as_str(value, field)


def _as_strings(values: object) -> list[str]:
    if not isinstance(values, Iterable) or isinstance(values, str):
        raise TrialdeskError("give a list of criteria", field="serious_criteria")
    return [_as_str(v, "serious_criteria") for v in values]


def new_event_claims(participant_id: int) -> tuple[Claim, ...]:
    """What :func:`record_adverse_event` changes alone: that participant's records (the new
    event and perhaps its DLT assessment, both decided from the participant's infusions and
    enrolment). An id no participant can have claims nothing: the event is refused anyway."""
    if not Claim.fits(participant_id):
        return ()
    return (Claim(ClaimKind.PARTICIPANT, participant_id),)


def record_adverse_event(
    session: Session,
    participant_id: int,
    *,
    term: str | int,
    grade: int,
    onset_date: date,
    attribution_hdmsc: str,
    attribution_standard: str,
    resolution_date: date | None = None,
    serious: bool = False,
    serious_criteria: Iterable[str] = (),
    action_taken: str | None = None,
    outcome: str | None = None,
    protocol: Protocol,
    actor: str,
    clock: Clock,
) -> AdverseEventRecorded:
    """Record an AE of an enrolled participant; flags a candidate DLT and starts the SAE clock."""
    # Held until the DLT check below reads it again: the session keeps rows only while they
    # are referenced, and would otherwise ask the database a second time.
    person = get_row(session, Participant, participant_id, "participant")
    enrolment_of(session, person.id)
    checked = _check(
        {
            "term": term,
            "grade": grade,
            "onset_date": onset_date,
            "resolution_date": resolution_date,
            "serious": serious,
            "serious_criteria": list(serious_criteria),
            "attribution_hdmsc": attribution_hdmsc,
            "attribution_standard": attribution_standard,
            "action_taken": action_taken,
            "outcome": outcome,
        },
        clock,
    )
    # Read before the event is stored: on PostgreSQL storing it takes the audit chain's lock,
    # held until the commit, so the other writers wait less when this read is done first.
    window = window_of(session, person.id, protocol, clock)
    event = records.create(
        session,
        AdverseEvent(participant_id=participant_id, **checked.columns),
        actor=actor,
        clock=clock,
    )
    dlt = flag_candidate(
        session,
        event,
        protocol,
        actor=actor,
        clock=clock,
        reason="AE recorded",
        new=True,
        window=window,
    )
    return AdverseEventRecorded(
        event, checked.grade_text, dlt, sae_report(session, event, protocol, clock)
    )


def correct_adverse_event(
    session: Session,
    adverse_event_id: int,
    changes: Mapping[str, object],
    *,
    reason: str,
    protocol: Protocol,
    actor: str,
    clock: Clock,
) -> AdverseEventRecorded:
    """Correct fields of an AE with a reason; the whole record is re-checked and the DLT
    assessment kept in step. ``term`` may be a name or a MedDRA code."""
    event = get_row(session, AdverseEvent, adverse_event_id, "adverse event")
    unknown = sorted(set(changes) - CORRECTABLE)
    if unknown:
        raise TrialdeskError(
            f"cannot be corrected; correctable: {', '.join(sorted(CORRECTABLE))}", field=unknown[0]
        )
    current: dict[str, object] = {
        name: getattr(event, name) for name in CORRECTABLE if name != "term"
    }
    current["term"] = event.meddra_code
    current["serious_criteria"] = json.loads(event.serious_criteria)
    merged = {**current, **changes}
    checked = _check(merged, clock)
    entries = records.update(
        session, event, checked.columns, actor=actor, reason=reason, clock=clock
    )
    changed = frozenset(entry.field for entry in entries if entry.field)
    dlt = flag_candidate(
        session,
        event,
        protocol,
        actor=actor,
        clock=clock,
        reason=records.check_reason(reason),
        changed_fields=changed,
    )
    return AdverseEventRecorded(
        event, checked.grade_text, dlt, sae_report(session, event, protocol, clock)
    )


def void_adverse_event(
    session: Session,
    adverse_event_id: int,
    *,
    reason: str,
    protocol: Protocol,
    actor: str,
    clock: Clock,
) -> AdverseEvent:
    """Withdraw an AE entered by mistake; a DLT assessment of it is rejected with the reason."""
    event = get_row(session, AdverseEvent, adverse_event_id, "adverse event")
    records.void(session, event, actor=actor, reason=reason, clock=clock)
    flag_candidate(session, event, protocol, actor=actor, clock=clock, reason=reason.strip())
    return event


def sae_clock_started(session: Session, event: AdverseEvent) -> datetime | None:
    """When the desk learned the AE was serious (recorded serious, or the correction that
    made it serious); None when it is not serious."""
    if not event.serious:
        return None
    started: datetime | None = None
    for entry in audit_trail(session, "adverse_event", str(event.id)):
        if entry.field is None:
            created = from_json_text(entry.new_value)
            if isinstance(created, dict) and created.get("serious"):
                started = entry.at
        elif entry.field == "serious":
            started = entry.at if from_json_text(entry.new_value) is True else None
    return started if started is not None else event.recorded_at


def _report_hours(protocol: Protocol) -> int:
    if protocol.safety is None:
        raise TrialdeskError(
            "the protocol does not say within how many hours an SAE is reported; add "
            "safety.sae_report_hours to the protocol file",
            field="safety",
        )
    return protocol.safety.sae_report_hours


def sae_report(
    session: Session, event: AdverseEvent, protocol: Protocol, clock: Clock
) -> ReportClock | None:
    """The reporting clock of a serious AE as of the clock's now (None if not serious)."""
    started = sae_clock_started(session, event)
    if started is None or event.voided:
        return None
    return report_status(started, _report_hours(protocol), clock.now(), event.sae_reported_at)


def mark_sae_reported(
    session: Session,
    adverse_event_id: int,
    *,
    reported_at: datetime,
    protocol: Protocol,
    actor: str,
    clock: Clock,
) -> ReportClock:
    """Record when a serious AE was reported; refused for a non-serious or already reported AE,
    or a time in the future or before the SAE was known."""
    event = get_row(session, AdverseEvent, adverse_event_id, "adverse event")
    started = sae_clock_started(session, event)
    if started is None:
        raise TrialdeskError(
            f"adverse event #{event.id} is not serious; only an SAE is reported", field="id"
        )
    if event.sae_reported_at is not None:
        raise TrialdeskError(
            f"adverse event #{event.id} was already reported at "
            f"{event.sae_reported_at.isoformat()}; correct that time instead",
            field="id",
        )
    report_status(started, _report_hours(protocol), clock.now(), reported_at)
    if reported_at > clock.now():
        raise TrialdeskError(
            f"{reported_at.isoformat()} is in the future; record a report once it is made",
            field="reported_at",
        )
    records.update(
        session,
        event,
        {"sae_reported_at": reported_at},
        actor=actor,
        reason="SAE reported",
        clock=clock,
    )
    report = sae_report(session, event, protocol, clock)
    assert report is not None
    return report


_UNREPORTED_SAES: Final = select(AdverseEvent).where(
    AdverseEvent.serious.is_(True),
    AdverseEvent.sae_reported_at.is_(None),
    AdverseEvent.voided_at.is_(None),
)


def open_sae_reports(
    session: Session, protocol: Protocol, clock: Clock
) -> list[tuple[AdverseEvent, ReportClock]]:
    """Serious AEs not reported yet, with their clocks, most urgent first."""
    events = session.scalars(_UNREPORTED_SAES)
    clocks = [(event, sae_report(session, event, protocol, clock)) for event in events]
    found = [(event, report) for event, report in clocks if report is not None]
    return sorted(found, key=lambda pair: pair[1].due_at)
