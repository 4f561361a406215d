"""A small NCT06021067 trial for the export tests, run through the use-cases on a manual clock:
two cohorts (one DLT in the first, none in the second) with two signed decisions, a screen
failure, a corrected and a voided adverse event, follow-up values (SpO2, ALT, pneumonitis grade),
a corticosteroid course and a withdrawal."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy.orm import Session
from trial_desk import COORDINATOR, INVESTIGATOR, Desk, open_desk, run_cohort, screened

from trialdesk.store.models import Participant
from trialdesk.trial.adverse_events import (
    correct_adverse_event,
    record_adverse_event,
    void_adverse_event,
)
from trialdesk.trial.follow_up import record_concomitant_medication, record_measurement
from trialdesk.trial.records import update
from trialdesk.trial.withdrawal import withdraw

VOID_REASON = "entered for the wrong patient"
BIRTH_DATE = date(1960, 5, 20)
"""Of the first patient: 65 on the first enrolment day (2026-03-10); never exported itself."""
WITHDRAWAL_REASON = "moved away"


@dataclass(frozen=True)
class Seeded:
    desk: Desk
    cohort_one: list[int]
    cohort_two: list[int]
    screen_failure: int
    voided_ae: int
    corrected_ae: int


def seed_trial(session: Session) -> Seeded:
    desk = open_desk(session)
    first = run_cohort(desk, "TNN")
    second = run_cohort(desk, "NNN")
    failure = screened(desk, eligible=False)
    update(
        session,
        session.get_one(Participant, first[0]),
        {"sex": "female", "birth_date": BIRTH_DATE},
        actor=COORDINATOR,
        reason="from the hospital record",
        clock=desk.clock,
    )
    protocol = desk.ctx.protocol
    today = desk.today
    corrected = record_adverse_event(
        session,
        second[0],
        term="Cough",
        grade=1,
        onset_date=today - timedelta(days=20),
        attribution_hdmsc="unlikely",
        attribution_standard="unrelated",
        protocol=protocol,
        actor=COORDINATOR,
        clock=desk.clock,
    ).event
    correct_adverse_event(
        session,
        corrected.id,
        {"grade": 2, "resolution_date": today - timedelta(days=10)},
        reason="grade from the source document",
        protocol=protocol,
        actor=COORDINATOR,
        clock=desk.clock,
    )
    voided = record_adverse_event(
        session,
        second[1],
        term="Nausea",
        grade=1,
        onset_date=today - timedelta(days=15),
        attribution_hdmsc="unrelated",
        attribution_standard="possible",
        protocol=protocol,
        actor=COORDINATOR,
        clock=desk.clock,
    ).event
    void_adverse_event(
        session,
        voided.id,
        reason=VOID_REASON,
        protocol=protocol,
        actor=COORDINATOR,
        clock=desk.clock,
    )
    for code, value, unit in (
        ("spo2", 94.0, "%"),
        ("lab:alt", 30.0, "U/L"),
        ("pneumonitis_grade", 2.0, None),
    ):
        record_measurement(
            session,
            second[0],
            code=code,
            value=value,
            unit=unit,
            measured_on=today - timedelta(days=2),
            protocol=protocol,
            actor=COORDINATOR,
            clock=desk.clock,
        )
    record_concomitant_medication(
        session,
        first[0],
        drug="prednisone",
        dose=0.5,
        dose_unit="mg/kg",
        route="oral",
        start_date=today - timedelta(days=40),
        indication="radiation pneumonitis",
        actor=COORDINATOR,
        clock=desk.clock,
    )
    withdraw(session, desk.ctx, second[2], reason=WITHDRAWAL_REASON, actor=INVESTIGATOR)
    session.flush()
    return Seeded(desk, first, second, failure, voided.id, corrected.id)
