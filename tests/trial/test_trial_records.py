"""Audited create / correct / void: who, when (the trial clock), old -> new, and why."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.audit import audit_trail, from_json_text, verify_audit_chain
from trialdesk.store.models import Measurement, Participant, ProtocolVersion
from trialdesk.trial.clock import ManualClock
from trialdesk.trial.records import create, update, void


def _spo2(session: Session, version: ProtocolVersion, clock: ManualClock) -> Measurement:
    person = create(
        session,
        Participant(screening_number="S-001", status="prescreened", protocol_version_id=version.id),
        actor="coordinator",
        clock=clock,
    )
    return create(
        session,
        Measurement(
            participant_id=person.id,
            visit_id="day14",
            measured_on=date(2026, 1, 19),
            code="spo2",
            value=59.0,
            unit="%",
        ),
        actor="coordinator",
        clock=clock,
    )


def test_create_fills_provenance_from_the_clock_and_audits_the_new_record(
    session: Session, protocol_version: ProtocolVersion, clock: ManualClock
) -> None:
    row = _spo2(session, protocol_version, clock)
    assert (row.recorded_at, row.recorded_by) == (clock.now(), "coordinator")
    [entry] = audit_trail(session, "measurement", str(row.id))
    assert entry.at == clock.now() and entry.actor == "coordinator"
    assert entry.field is None and from_json_text(entry.old_value) is None
    stored = from_json_text(entry.new_value)
    assert stored["value"] == 59.0 and stored["measured_on"] == "2026-01-19"


def test_a_correction_records_old_new_who_when_and_why(
    session: Session, protocol_version: ProtocolVersion, clock: ManualClock
) -> None:
    row = _spo2(session, protocol_version, clock)
    clock.advance(days=2, hours=3)
    entries = update(
        session,
        row,
        {"value": 95.0, "unit": "%", "visit_id": "day14"},  # only value really changes
        actor="monitor-fixed-by-coordinator",
        reason="transcription error: source document says 95",
        clock=clock,
    )
    assert [e.field for e in entries] == ["value"]
    assert row.value == 95.0
    entry = [e for e in audit_trail(session, "measurement", str(row.id)) if e.field != "version"][
        -1
    ]
    assert (from_json_text(entry.old_value), from_json_text(entry.new_value)) == (59.0, 95.0)
    assert entry.reason == "transcription error: source document says 95"
    assert entry.at == clock.now()
    assert verify_audit_chain(session) == []


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_correction_without_a_reason_is_refused_and_changes_nothing(
    session: Session, protocol_version: ProtocolVersion, clock: ManualClock, reason: str
) -> None:
    row = _spo2(session, protocol_version, clock)
    before = len(audit_trail(session))
    with pytest.raises(TrialdeskError, match="reason: is required"):
        update(session, row, {"value": 95.0}, actor="coordinator", reason=reason, clock=clock)
    assert row.value == 59.0
    assert len(audit_trail(session)) == before


@pytest.mark.parametrize("field", ["recorded_by", "voided_at", "participant_id"])
def test_provenance_and_voiding_cannot_be_corrected(
    session: Session, protocol_version: ProtocolVersion, clock: ManualClock, field: str
) -> None:
    row = _spo2(session, protocol_version, clock)
    with pytest.raises(TrialdeskError, match=f"^{field}: cannot be corrected"):
        update(session, row, {field: None}, actor="coordinator", reason="x", clock=clock)


def test_an_unknown_field_is_named(
    session: Session, protocol_version: ProtocolVersion, clock: ManualClock
) -> None:
    row = _spo2(session, protocol_version, clock)
    with pytest.raises(TrialdeskError, match="has no field 'valeu'"):
        update(session, row, {"valeu": 1.0}, actor="coordinator", reason="x", clock=clock)


def test_void_keeps_the_record_with_its_reason_and_freezes_it(
    session: Session, protocol_version: ProtocolVersion, clock: ManualClock
) -> None:
    row = _spo2(session, protocol_version, clock)
    clock.advance(hours=1)
    with pytest.raises(TrialdeskError, match="reason: is required"):
        void(session, row, actor="coordinator", reason="", clock=clock)
    entry = void(
        session, row, actor="coordinator", reason="entered for the wrong patient", clock=clock
    )
    session.commit()
    session.expire_all()
    stored = session.get(Measurement, row.id)
    assert stored is not None and stored.voided
    assert stored.voided_at == clock.now() and stored.void_reason == "entered for the wrong patient"
    assert entry.field == "voided_at" and entry.reason == "entered for the wrong patient"
    with pytest.raises(TrialdeskError, match="already voided"):
        void(session, stored, actor="coordinator", reason="again", clock=clock)
    with pytest.raises(TrialdeskError, match="voided record cannot be corrected"):
        update(session, stored, {"value": 1.0}, actor="coordinator", reason="x", clock=clock)
