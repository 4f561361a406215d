"""A trial desk for tests: the built-in NCT06021067 on a manual clock, users, and helpers that
walk a candidate through screening, consent and enrolment, and a cohort through its infusions,
its DLTs and its 30-day window, using the use-cases only."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from trialdesk.protocol import builtin_protocol
from trialdesk.store.models import Enrolment, Infusion, User
from trialdesk.trial.adverse_events import record_adverse_event
from trialdesk.trial.clock import ManualClock
from trialdesk.trial.context import TrialContext
from trialdesk.trial.decisions import compute_decision, sign_decision
from trialdesk.trial.dlt_review import adjudicate_dlt
from trialdesk.trial.enrolment import enrol
from trialdesk.trial.infusions import record_infusion, schedule_infusions
from trialdesk.trial.participants import link_screening, record_consent, register_contact
from trialdesk.trial.passwords import hash_password
from trialdesk.trial.screening import screen_and_record

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
EXAMPLE_DATE = date(2026, 3, 10)
"""The screening date of docs/examples/screening-eligible.yaml."""
START = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
COORDINATOR = "coord"
INVESTIGATOR = "dr.li"
PASSWORD = "correct horse battery"


@dataclass
class Desk:
    session: Session
    ctx: TrialContext
    clock: ManualClock

    @property
    def today(self) -> date:
        return self.clock.today()


def open_desk(session: Session) -> Desk:
    """The built-in protocol stored, a coordinator and an investigator (with a password)."""
    clock = ManualClock(START)
    session.add_all(
        [
            User(username=COORDINATOR, display_name="Coordinator Wang", role="coordinator"),
            User(
                username=INVESTIGATOR,
                display_name="Dr Li",
                printed_name="LI Ming, MD",
                role="investigator",
                password_hash=hash_password(PASSWORD),
            ),
        ]
    )
    session.flush()
    return Desk(session, TrialContext.open(session, builtin_protocol(), clock), clock)


def example_record(name: str, on: date) -> str:
    """An example screening record with every date moved so that it is screened on ``on``."""
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    shift = on - EXAMPLE_DATE

    def moved(match: re.Match[str]) -> str:
        return (date.fromisoformat(match.group(0)) + shift).isoformat()

    return re.sub(r"\d{4}-\d{2}-\d{2}", moved, text)


def screened(desk: Desk, *, eligible: bool = True, on: date | None = None) -> int:
    """A registered participant with a stored screening (eligible or not); their id."""
    day = on or desk.today
    person = register_contact(desk.session, desk.ctx, actor=COORDINATOR, contact_note="phone")
    name = "screening-eligible.yaml" if eligible else "screening-ineligible.json"
    screening = screen_and_record(
        desk.session,
        loaded=desk.ctx.loaded,
        protocol_version_id=desk.ctx.protocol_version_id,
        input_text=example_record(name, day),
        on=None,
        screened_by=COORDINATOR,
        clock=desk.clock,
    )
    link_screening(desk.session, desk.ctx, person.id, screening.id, actor=COORDINATOR)
    return person.id


def candidate(desk: Desk) -> int:
    """An eligible, consented participant ready to enrol today."""
    participant_id = screened(desk)
    record_consent(
        desk.session,
        desk.ctx,
        participant_id,
        consent_date=desk.today,
        form_version="1.0",
        obtained_by=INVESTIGATOR,
        actor=COORDINATOR,
    )
    return participant_id


def enrol_candidate(desk: Desk, **overrides: object) -> Enrolment:
    options: dict[str, object] = {
        "enrolled_on": desk.today,
        "baseline_weight_kg": 60.0,
        "actor": COORDINATOR,
        **overrides,
    }
    return enrol(desk.session, desk.ctx, candidate(desk), **options)  # type: ignore[arg-type]


def treat_cohort(desk: Desk, patients: list[int], dlts: list[bool]) -> None:
    """Four infusions 3 days apart for each patient, a confirmed DLT (grade 3 pneumonitis on
    day 5, possibly related) for those marked, then the clock past the 30-day windows."""
    protocol = desk.ctx.protocol
    first_day = desk.today
    for participant_id in patients:
        schedule_infusions(
            desk.session,
            participant_id,
            first_on=first_day,
            protocol=protocol,
            actor=COORDINATOR,
            clock=desk.clock,
        )
    for number in range(1, 5):
        for participant_id in patients:
            give_infusion(desk, participant_id, number)
        if number < 4:
            desk.clock.advance(days=3)
    for participant_id, dlt in zip(patients, dlts, strict=True):
        if dlt:
            confirm_dlt(desk, participant_id, onset=first_day + timedelta(days=5))
    close_windows(desk, first_day)


def give_infusion(desk: Desk, participant_id: int, number: int) -> None:
    planned = (
        desk.session.query(Infusion).filter_by(participant_id=participant_id, number=number).one()
    )
    record_infusion(
        desk.session,
        participant_id,
        number,
        given_at=desk.clock.now(),
        cells_given=planned.planned_cells,
        product_lot="LOT-1",
        protocol=desk.ctx.protocol,
        actor=COORDINATOR,
        clock=desk.clock,
    )


def close_windows(desk: Desk, first_day: date) -> None:
    """The clock on the day after the 30-day windows that started on ``first_day`` ended."""
    desk.clock.set(datetime.combine(first_day + timedelta(days=31), START.timetz()))


def confirm_dlt(desk: Desk, participant_id: int, *, onset: date) -> None:
    recorded = record_adverse_event(
        desk.session,
        participant_id,
        term="Pneumonitis",
        grade=3,
        onset_date=onset,
        attribution_hdmsc="possible",
        attribution_standard="unlikely",
        protocol=desk.ctx.protocol,
        actor=COORDINATOR,
        clock=desk.clock,
    )
    assert recorded.dlt is not None, "grade 3 pneumonitis, possibly related, is a candidate DLT"
    adjudicate_dlt(
        desk.session,
        recorded.dlt.id,
        confirm=True,
        reason="grade 3 pneumonitis within the window, possibly related",
        actor=INVESTIGATOR,
        clock=desk.clock,
    )


def run_cohort(desk: Desk, outcomes: str) -> list[int]:
    """Enrol a cohort, treat it with ``outcomes`` ("NTN": the second has a DLT), and sign the
    design's decision. Returns the participant ids."""
    enrolments = [enrol_candidate(desk) for _ in outcomes]
    patients = [e.participant_id for e in enrolments]
    treat_cohort(desk, patients, [letter == "T" for letter in outcomes])
    decide_and_sign(desk)
    return patients


def decide_and_sign(desk: Desk) -> None:
    decision = compute_decision(desk.session, desk.ctx, actor=COORDINATOR)
    sign_decision(desk.session, desk.ctx, decision.id, username=INVESTIGATOR, password=PASSWORD)
