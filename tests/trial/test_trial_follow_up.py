"""Follow-up measurements per protocol visit and the corticosteroid course as a medication."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session
from trial_people import enrolled

from trialdesk.errors import TrialdeskError
from trialdesk.protocol import LoadedProtocol
from trialdesk.store.audit import audit_trail, from_json_text
from trialdesk.store.models import Participant, ProtocolVersion
from trialdesk.trial.clock import ManualClock
from trialdesk.trial.follow_up import (
    correct_concomitant_medication,
    correct_measurement,
    known_codes,
    measurements_of,
    record_concomitant_medication,
    record_measurement,
    void_measurement,
)
from trialdesk.trial.infusions import record_infusion
from trialdesk.trial.schedule import Status

MON = date(2026, 1, 5)


@pytest.fixture
def person(
    session: Session, protocol_version: ProtocolVersion, loaded: LoadedProtocol, clock: ManualClock
) -> Participant:
    """Enrolled, first infusion on Monday 5 Jan 2026 (day 0); the clock then moves to day 16."""
    person = enrolled(session, protocol_version, clock)
    record_infusion(
        session,
        person.id,
        1,
        given_at=clock.now() - timedelta(minutes=30),
        cells_given=2.0e7,
        product_lot="LOT-1",
        protocol=loaded.protocol,
        actor="coordinator",
        clock=clock,
    )
    clock.advance(days=16)
    return person


def _measure(
    session: Session,
    person: Participant,
    loaded: LoadedProtocol,
    clock: ManualClock,
    code: str,
    value: float,
    unit: str | None = None,
    day: int = 14,
    visit: str | None = "day14",
) -> Status | None:
    recorded = record_measurement(
        session,
        person.id,
        code=code,
        value=value,
        unit=unit,
        measured_on=MON + timedelta(days=day),
        visit_id=visit,
        protocol=loaded.protocol,
        actor="coordinator",
        clock=clock,
    )
    return recorded.visit.status if recorded.visit else None


def test_visit_measures_are_stored_with_the_visit_window(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    # Built-in protocol (assumption): the day-14 visit has a ±2-day window.
    assert _measure(session, person, loaded, clock, "pneumonitis_grade", 2) is Status.DONE
    assert _measure(session, person, loaded, clock, "spo2", 94, "%") is Status.DONE
    assert _measure(session, person, loaded, clock, "mmrc", 2, day=11) is Status.DONE_EARLY
    assert _measure(session, person, loaded, clock, "oxygen_l_min", 2, "L/min", visit=None) is None
    assert [m.code for m in measurements_of(session, person.id)] == [
        "mmrc",
        "pneumonitis_grade",
        "spo2",
        "oxygen_l_min",
    ]


def test_lab_values_are_converted_to_the_canonical_unit(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    _measure(session, person, loaded, clock, "lab:creatinine", 88.4, "umol/L")
    [row] = measurements_of(session, person.id, "lab:creatinine")
    # 88.4 µmol/L ÷ 88.4 ≈ 1.0 mg/dL (NCT06021067.md, Cockcroft-Gault note; the units layer
    # uses the molar mass 113.12 g/mol, hence 0.99998).
    assert row.value == pytest.approx(1.0, rel=1e-4) and row.unit == "mg/dL"


def test_impossible_values_and_unknown_codes_or_visits_are_refused(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    with pytest.raises(TrialdeskError, match="SpO2 of 140 is not possible"):
        _measure(session, person, loaded, clock, "spo2", 140, "%")
    with pytest.raises(TrialdeskError, match="mMRC dyspnoea grade is a whole number"):
        _measure(session, person, loaded, clock, "mmrc", 1.5)
    with pytest.raises(TrialdeskError, match="'fev1' is not a follow-up measure"):
        _measure(session, person, loaded, clock, "fev1", 80)
    with pytest.raises(TrialdeskError, match="visit 'day7' is not in the protocol"):
        _measure(session, person, loaded, clock, "spo2", 95, "%", visit="day7")
    with pytest.raises(TrialdeskError, match="is in the future"):
        _measure(session, person, loaded, clock, "spo2", 95, "%", day=30)
    assert measurements_of(session, person.id) == []


def test_measurement_corrections_and_voids_are_audited(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    _measure(session, person, loaded, clock, "fvc_pct", 65, "%")
    [row] = measurements_of(session, person.id)
    correct_measurement(
        session,
        row.id,
        {"value": 56},
        reason="digits transposed",
        protocol=loaded.protocol,
        actor="coordinator",
        clock=clock,
    )
    entry = [e for e in audit_trail(session, "measurement", str(row.id)) if e.field != "version"][
        -1
    ]
    assert (from_json_text(entry.old_value), from_json_text(entry.new_value)) == (65.0, 56.0)
    void_measurement(session, row.id, reason="wrong patient", actor="coordinator", clock=clock)
    assert measurements_of(session, person.id) == []


def test_the_steroid_course_is_a_concomitant_medication_in_mg_or_mg_per_kg(
    session: Session, person: Participant, clock: ManualClock
) -> None:
    course = record_concomitant_medication(
        session,
        person.id,
        drug="prednisone",
        dose=0.5,
        dose_unit="mg/kg",
        route="oral",
        start_date=MON - timedelta(days=3),
        indication="radiation pneumonitis grade 2 (standard treatment)",
        actor="coordinator",
        clock=clock,
    )
    assert (course.dose, course.dose_unit, course.end_date) == (0.5, "mg/kg", None)
    correct_concomitant_medication(
        session,
        course.id,
        {"end_date": MON + timedelta(days=14)},
        reason="steroids stopped at the day-14 visit",
        actor="coordinator",
        clock=clock,
    )
    assert course.end_date == date(2026, 1, 19)
    with pytest.raises(TrialdeskError, match="'g' is not a dose unit here"):
        record_concomitant_medication(
            session,
            person.id,
            drug="prednisone",
            dose=30,
            dose_unit="g",
            start_date=MON,
            actor="coordinator",
            clock=clock,
        )
    with pytest.raises(TrialdeskError, match="before the start"):
        correct_concomitant_medication(
            session,
            course.id,
            {"end_date": MON - timedelta(days=10)},
            reason="typo",
            actor="coordinator",
            clock=clock,
        )


def test_every_endpoint_measurement_of_the_builtin_protocol_can_be_recorded(
    loaded: LoadedProtocol,
) -> None:
    declared = [code for e in loaded.protocol.endpoints for code in e.measurements]
    assert "pneumonitis_grade" in declared and "dlco_pct" in declared
    assert set(declared) <= set(known_codes())
