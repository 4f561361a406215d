"""Adverse events by CTCAE v5.0, SAE reporting clocks, candidate DLTs and their adjudication."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy.orm import Session
from trial_people import add_user, enrolled

from trialdesk.errors import TrialdeskError
from trialdesk.protocol import LoadedProtocol
from trialdesk.store.audit import audit_trail
from trialdesk.store.models import AdverseEvent, Participant, ProtocolVersion
from trialdesk.trial.adverse_events import (
    AdverseEventRecorded,
    correct_adverse_event,
    mark_sae_reported,
    open_sae_reports,
    record_adverse_event,
    void_adverse_event,
)
from trialdesk.trial.clock import ManualClock
from trialdesk.trial.dlt import Evaluability, evaluable_patients_by_level
from trialdesk.trial.dlt_review import (
    adjudicate_dlt,
    enrolled_dlt_facts,
    pending_adjudications,
)
from trialdesk.trial.infusions import record_infusion
from trialdesk.trial.sae import ReportState

MON = date(2026, 1, 5)


@pytest.fixture
def person(
    session: Session, protocol_version: ProtocolVersion, loaded: LoadedProtocol, clock: ManualClock
) -> Participant:
    """Enrolled at level 1 and given infusion 1 on Monday 5 Jan 2026 (day 0)."""
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
    clock.advance(days=7)
    return person


def _record(
    session: Session,
    person: Participant,
    loaded: LoadedProtocol,
    clock: ManualClock,
    *,
    term: str | int = "Pneumonitis",
    grade: int = 3,
    attribution: str = "possible",
    serious: bool = False,
    criteria: tuple[str, ...] = (),
) -> AdverseEventRecorded:
    return record_adverse_event(
        session,
        person.id,
        term=term,
        grade=grade,
        onset_date=MON + timedelta(days=6),
        attribution_hdmsc=attribution,
        attribution_standard="unlikely",
        serious=serious,
        serious_criteria=criteria,
        action_taken="dose_not_changed",
        outcome="recovering",
        protocol=loaded.protocol,
        actor="coordinator",
        clock=clock,
    )


def test_recording_returns_the_grade_text_and_flags_a_candidate_dlt(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    recorded = _record(session, person, loaded, clock)
    # CTCAE v5.0, Pneumonitis grade 3.
    assert recorded.grade_text.startswith(
        "Severe symptoms; limiting self care ADL; oxygen indicated"
    )
    assert (recorded.event.meddra_code, recorded.event.term) == (10035742, "Pneumonitis")
    assert recorded.dlt is not None and recorded.dlt.status == "candidate"
    assert recorded.dlt.rule_matched.startswith("rule 1: grade ≥ 3")
    assert recorded.report is None
    assert pending_adjudications(session) == [recorded.dlt]
    assert audit_trail(session, "dlt_assessment", str(recorded.dlt.id))[0].reason.startswith(
        "candidate DLT, rule 1"
    )


def test_a_grade_the_term_does_not_have_is_refused_and_nothing_is_stored(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    before = len(audit_trail(session))
    # CTCAE v5.0: Febrile neutropenia has no grade 1 or 2 ("-").
    with pytest.raises(TrialdeskError, match="Febrile neutropenia has no grade 1"):
        _record(session, person, loaded, clock, term="Febrile neutropenia", grade=1)
    with pytest.raises(TrialdeskError, match=r"no CTCAE v5\.0 term named 'Pneumonia itis'"):
        _record(session, person, loaded, clock, term="Pneumonia itis")
    with pytest.raises(TrialdeskError, match="'maybe' is not an attribution"):
        _record(session, person, loaded, clock, attribution="maybe")
    assert len(audit_trail(session)) == before
    assert session.query(AdverseEvent).count() == 0


def test_an_sae_starts_the_24_hour_clock(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    known = clock.now()
    recorded = _record(
        session, person, loaded, clock, grade=2, serious=True, criteria=("hospitalisation",)
    )
    assert recorded.report is not None and recorded.report.state is ReportState.DUE
    assert recorded.report.due_at == known + timedelta(hours=24)
    clock.advance(hours=25)
    [(event, report)] = open_sae_reports(session, loaded.protocol, clock)
    assert event.id == recorded.event.id and report.state is ReportState.OVERDUE
    done = mark_sae_reported(
        session,
        event.id,
        reported_at=clock.now(),
        protocol=loaded.protocol,
        actor="coordinator",
        clock=clock,
    )
    assert done.state is ReportState.REPORTED_LATE
    assert open_sae_reports(session, loaded.protocol, clock) == []
    with pytest.raises(TrialdeskError, match="already reported"):
        mark_sae_reported(
            session,
            event.id,
            reported_at=clock.now(),
            protocol=loaded.protocol,
            actor="coordinator",
            clock=clock,
        )


def test_the_clock_starts_when_a_correction_makes_the_event_serious(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    recorded = _record(session, person, loaded, clock, grade=2)
    with pytest.raises(TrialdeskError, match="not serious"):
        mark_sae_reported(
            session,
            recorded.event.id,
            reported_at=clock.now(),
            protocol=loaded.protocol,
            actor="coordinator",
            clock=clock,
        )
    clock.advance(days=2)
    learned = clock.now()
    corrected = correct_adverse_event(
        session,
        recorded.event.id,
        {"serious": True, "serious_criteria": ["hospitalisation"]},
        reason="patient admitted overnight",
        protocol=loaded.protocol,
        actor="coordinator",
        clock=clock,
    )
    assert corrected.report is not None and corrected.report.started_at == learned
    with pytest.raises(TrialdeskError, match="needs at least one seriousness criterion"):
        correct_adverse_event(
            session,
            recorded.event.id,
            {"serious_criteria": []},
            reason="criteria cleared",
            protocol=loaded.protocol,
            actor="coordinator",
            clock=clock,
        )


def test_corrections_keep_the_dlt_assessment_in_step(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    recorded = _record(session, person, loaded, clock)
    assessment = recorded.dlt
    assert assessment is not None
    correct_adverse_event(
        session,
        recorded.event.id,
        {"grade": 2},
        reason="regraded from the source notes",
        protocol=loaded.protocol,
        actor="coordinator",
        clock=clock,
    )
    assert assessment.status == "rejected"
    assert (
        assessment.reason == "no longer meets the DLT definition (regraded from the source notes)"
    )
    assert pending_adjudications(session) == []
    correct_adverse_event(
        session,
        recorded.event.id,
        {"grade": 3},
        reason="grade 3 after all: oxygen started",
        protocol=loaded.protocol,
        actor="coordinator",
        clock=clock,
    )
    assert assessment.status == "candidate"
    void_adverse_event(
        session,
        recorded.event.id,
        reason="entered for the wrong patient",
        protocol=loaded.protocol,
        actor="coordinator",
        clock=clock,
    )
    assert assessment.status == "rejected" and assessment.reason is not None
    assert assessment.reason.startswith("adverse event voided")


def test_only_an_investigator_adjudicates_and_always_with_a_reason(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    add_user(session, "coordinator", "coordinator")
    add_user(session, "dr.li", "investigator")
    recorded = _record(session, person, loaded, clock, attribution="probable")
    assert recorded.dlt is not None
    assessment_id = recorded.dlt.id
    with pytest.raises(TrialdeskError, match="only the role 'investigator' may confirm"):
        adjudicate_dlt(
            session,
            assessment_id,
            confirm=True,
            reason="clear DLT",
            actor="coordinator",
            clock=clock,
        )
    with pytest.raises(TrialdeskError, match="reason: is required"):
        adjudicate_dlt(session, assessment_id, confirm=True, reason=" ", actor="dr.li", clock=clock)
    confirmed = adjudicate_dlt(
        session,
        assessment_id,
        confirm=True,
        reason="grade 3 pneumonitis on day 6, probably related",
        actor="dr.li",
        clock=clock,
    )
    assert (confirmed.status, confirmed.adjudicated_by, confirmed.adjudicated_at) == (
        "confirmed",
        "dr.li",
        clock.now(),
    )
    with pytest.raises(TrialdeskError, match=r"already confirmed by dr\.li"):
        adjudicate_dlt(
            session, assessment_id, confirm=True, reason="again", actor="dr.li", clock=clock
        )
    facts = enrolled_dlt_facts(session, loaded.protocol, clock)
    dlt = loaded.protocol.dlt
    assert dlt is not None
    tally = evaluable_patients_by_level(facts, dlt, clock.today())[1]
    assert (tally.with_dlt, tally.n_evaluable) == (("RLI-001",), 1)
    # A correction of what the adjudication rested on sends it back to the investigator.
    correct_adverse_event(
        session,
        recorded.event.id,
        {"attribution_hdmsc": "definite"},
        reason="re-assessed causality",
        protocol=loaded.protocol,
        actor="coordinator",
        clock=clock,
    )
    assert confirmed.status == "candidate"
    standing = evaluable_patients_by_level(
        enrolled_dlt_facts(session, loaded.protocol, clock), dlt, clock.today()
    )[1].patients[0]
    assert standing.state is Evaluability.AWAITING_ADJUDICATION


def test_an_ae_before_the_first_infusion_is_not_a_candidate(
    session: Session, protocol_version: ProtocolVersion, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    person = enrolled(session, protocol_version, clock, number=2)
    recorded = record_adverse_event(
        session,
        person.id,
        term=10035742,
        grade=4,
        onset_date=clock.today(),
        attribution_hdmsc="definite",
        attribution_standard="unrelated",
        protocol=loaded.protocol,
        actor="coordinator",
        clock=clock,
        outcome="not_recovered",
    )
    assert recorded.dlt is None


def test_grade_5_goes_with_death_and_a_fatal_outcome(
    session: Session, person: Participant, loaded: LoadedProtocol, clock: ManualClock
) -> None:
    with pytest.raises(TrialdeskError, match="grade 5 means death"):
        _record(
            session, person, loaded, clock, grade=5, serious=True, criteria=("hospitalisation",)
        )
    with pytest.raises(TrialdeskError, match="'fatal' go together"):
        _record(session, person, loaded, clock, grade=5, serious=True, criteria=("death",))
