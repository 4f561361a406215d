"""Scheduling and recording infusions: per-kg amounts, the window flags, the dose ceiling."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy.orm import Session
from trial_people import enrolled

from trialdesk.errors import TrialdeskError
from trialdesk.protocol import LoadedProtocol
from trialdesk.store.audit import audit_trail, from_json_text
from trialdesk.store.models import Participant, ProtocolVersion
from trialdesk.trial.clock import ManualClock
from trialdesk.trial.infusions import (
    correct_infusion,
    infusion_checks,
    record_infusion,
    record_missed_infusion,
    schedule_infusions,
    void_infusion,
)
from trialdesk.trial.records import create
from trialdesk.trial.schedule import Status

MON = date(2026, 1, 5)


def _at(day: date, hour: int = 3) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def person(session: Session, protocol_version: ProtocolVersion, clock: ManualClock) -> Participant:
    return enrolled(session, protocol_version, clock, weight_kg=60)


def _give(
    session: Session,
    person: Participant,
    loaded: LoadedProtocol,
    clock: ManualClock,
    number: int,
    day: date,
    cells: float = 2.0e7,
) -> Status:
    clock.set(max(clock.now(), _at(day, 6)))
    recorded = record_infusion(
        session,
        person.id,
        number,
        given_at=_at(day),
        cells_given=cells,
        product_lot="LOT-2026-01",
        protocol=loaded.protocol,
        actor="coordinator",
        clock=clock,
    )
    return recorded.check.status


def test_schedule_has_four_infusions_of_the_per_kg_dose(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    rows = schedule_infusions(
        session, person.id, first_on=MON, protocol=loaded.protocol, actor="coordinator", clock=clock
    )
    # Registry: every 3 days, 4 infusions; 3.3×10^5 cells/kg = 2.0×10^7 cells for 60 kg.
    assert [r.scheduled_on for r in rows] == [MON + timedelta(days=d) for d in (0, 3, 6, 9)]
    assert {r.planned_cells for r in rows} == {2.0e7}
    assert {r.status for r in rows} == {"scheduled"}
    assert len(audit_trail(session, "infusion")) == 4
    with pytest.raises(TrialdeskError, match="already scheduled"):
        schedule_infusions(
            session,
            person.id,
            first_on=MON,
            protocol=loaded.protocol,
            actor="coordinator",
            clock=clock,
        )


def test_a_late_first_infusion_moves_the_rest_and_a_late_one_is_flagged(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    rows = schedule_infusions(
        session, person.id, first_on=MON, protocol=loaded.protocol, actor="coordinator", clock=clock
    )
    assert _give(session, person, loaded, clock, 1, date(2026, 1, 6)) is Status.DONE
    assert [r.scheduled_on for r in rows[1:]] == [
        date(2026, 1, 9),
        date(2026, 1, 12),
        date(2026, 1, 15),
    ]
    moved = [e for e in audit_trail(session, "infusion", str(rows[1].id)) if e.field != "version"][
        -1
    ]
    assert moved.reason == "rescheduled from the first infusion, given on 2026-01-06"
    # Infusion 2 is due 9 Jan ± 1 day (built-in protocol); 11 Jan is one day late.
    assert _give(session, person, loaded, clock, 2, date(2026, 1, 11)) is Status.DONE_LATE
    checks = infusion_checks(session, person.id, loaded.protocol, clock)
    assert [c.status for c in checks] == [
        Status.DONE,
        Status.DONE_LATE,
        Status.DUE,
        Status.UPCOMING,
    ]
    clock.set(_at(date(2026, 1, 14)))
    statuses = [c.status for c in infusion_checks(session, person.id, loaded.protocol, clock)]
    assert statuses[2] is Status.MISSED  # window 11-13 Jan passed without infusion 3


def test_a_dose_above_the_assigned_level_is_refused_and_nothing_is_written(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    schedule_infusions(
        session, person.id, first_on=MON, protocol=loaded.protocol, actor="coordinator", clock=clock
    )
    before = len(audit_trail(session))
    with pytest.raises(TrialdeskError, match="above the assigned dose") as refused:
        _give(session, person, loaded, clock, 1, MON, cells=6.0e7)  # level 2's amount
    assert refused.value.field == "cells_given"
    assert len(audit_trail(session)) == before


def test_corrections_are_checked_and_audited(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    _give(session, person, loaded, clock, 1, MON)
    clock.set(_at(date(2026, 1, 8), 8))
    recorded = record_infusion(
        session,
        person.id,
        2,
        given_at=_at(date(2026, 1, 8)),
        cells_given=1.9e7,
        product_lot="LOT-A",
        interrupted=True,
        interruption_note="paused 10 min for chills",
        reaction_note="chills, grade 1",
        protocol=loaded.protocol,
        actor="coordinator",
        clock=clock,
    )
    infusion = recorded.infusion
    assert (infusion.interrupted, infusion.reaction_note) == (True, "chills, grade 1")
    correct_infusion(
        session,
        infusion.id,
        {"product_lot": "LOT-B"},
        reason="lot number misread",
        protocol=loaded.protocol,
        actor="coordinator",
        clock=clock,
    )
    entry = [e for e in audit_trail(session, "infusion", str(infusion.id)) if e.field != "version"][
        -1
    ]
    assert (entry.field, from_json_text(entry.old_value), from_json_text(entry.new_value)) == (
        "product_lot",
        "LOT-A",
        "LOT-B",
    )
    with pytest.raises(TrialdeskError, match="above the assigned dose"):
        correct_infusion(
            session,
            infusion.id,
            {"cells_given": 3.0e7},
            reason="recount",
            protocol=loaded.protocol,
            actor="coordinator",
            clock=clock,
        )
    with pytest.raises(TrialdeskError, match="interruption_note: is required"):
        correct_infusion(
            session,
            infusion.id,
            {"interruption_note": ""},
            reason="note removed",
            protocol=loaded.protocol,
            actor="coordinator",
            clock=clock,
        )
    void_infusion(
        session,
        infusion.id,
        reason="entered for the wrong patient",
        actor="coordinator",
        clock=clock,
    )
    assert infusion.voided
    assert _give(session, person, loaded, clock, 2, date(2026, 1, 8)) is Status.DONE


def test_missed_infusion_and_bad_input(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    schedule_infusions(
        session, person.id, first_on=MON, protocol=loaded.protocol, actor="coordinator", clock=clock
    )
    _give(session, person, loaded, clock, 1, MON)
    missed = record_missed_infusion(
        session,
        person.id,
        2,
        reason="patient febrile, infusion withheld",
        protocol=loaded.protocol,
        actor="coordinator",
        clock=clock,
    )
    assert missed.status == "missed"
    statuses = [c.status for c in infusion_checks(session, person.id, loaded.protocol, clock)]
    assert statuses[1] is Status.MISSED
    with pytest.raises(TrialdeskError, match="already recorded as missed"):
        _give(session, person, loaded, clock, 2, date(2026, 1, 8))
    with pytest.raises(TrialdeskError, match="infusion 5 is not in the schedule"):
        _give(session, person, loaded, clock, 5, date(2026, 1, 8))
    with pytest.raises(TrialdeskError, match="is in the future"):
        record_infusion(
            session,
            person.id,
            3,
            given_at=clock.now() + timedelta(hours=1),
            cells_given=2.0e7,
            product_lot="LOT",
            protocol=loaded.protocol,
            actor="coordinator",
            clock=clock,
        )
    with pytest.raises(TrialdeskError, match="out of order with infusion 1"):
        _give(session, person, loaded, clock, 3, MON)


def test_only_enrolled_participants_get_infusions(
    session: Session, protocol_version: ProtocolVersion, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    candidate = create(
        session,
        Participant(
            screening_number="S-009", status="screening", protocol_version_id=protocol_version.id
        ),
        actor="coordinator",
        clock=clock,
    )
    with pytest.raises(TrialdeskError, match="S-009 is not enrolled"):
        schedule_infusions(
            session,
            candidate.id,
            first_on=MON,
            protocol=loaded.protocol,
            actor="coordinator",
            clock=clock,
        )
