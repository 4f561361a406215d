"""Escalation decisions: computed with their inputs and reasoning, signed by an investigator
re-entering the password (printed name, UTC time, meaning), replayable, tamper-evident."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session
from trial_desk import (
    COORDINATOR,
    INVESTIGATOR,
    PASSWORD,
    Desk,
    enrol_candidate,
    open_desk,
    treat_cohort,
)

from trialdesk.errors import TrialdeskError
from trialdesk.store.models import DltAssessment, EscalationDecision
from trialdesk.trial.cohorts import state_from_json
from trialdesk.trial.decisions import SIGNATURE_MEANING, compute_decision, sign_decision
from trialdesk.trial.dlt_review import adjudicate_dlt
from trialdesk.trial.enrolment import next_assignment
from trialdesk.trial.records import create
from trialdesk.trial.replay import replay_all
from trialdesk.trial.state import trial_summary


@pytest.fixture
def desk(session: Session) -> Desk:
    return open_desk(session)


def _treated_cohort(desk: Desk, outcomes: str) -> None:
    patients = [enrol_candidate(desk).participant_id for _ in outcomes]
    treat_cohort(desk, patients, [letter == "T" for letter in outcomes])


def _sign(
    desk: Desk, decision_id: int, *, username: str = INVESTIGATOR, password: str = PASSWORD
) -> None:
    sign_decision(desk.session, desk.ctx, decision_id, username=username, password=password)


def test_a_decision_is_stored_with_its_inputs_and_reasoning(desk: Desk) -> None:
    _treated_cohort(desk, "NNN")
    row = compute_decision(desk.session, desk.ctx, actor=COORDINATOR)
    state = state_from_json(row.state_json)
    assert [(level.treated, level.dlts) for level in state.levels] == [(3, 0), (0, 0), (0, 0)]
    decided = json.loads(row.decision_json)
    assert (decided["action"], decided["next_level"]) == ("escalate", 2)
    assert decided["reason"] == "0 of 3 patients had a DLT at level 1; escalate to level 2."
    assert (row.cohort_number, row.dose_level, row.computed_by) == (1, 1, COORDINATOR)
    assert row.protocol_version_id == desk.ctx.protocol_version_id
    assert row.signed_at is None
    # Computing again on the same data returns the same, unsigned decision.
    assert compute_decision(desk.session, desk.ctx, actor=COORDINATOR).id == row.id


def test_the_signature_records_printed_name_utc_time_and_meaning(desk: Desk) -> None:
    _treated_cohort(desk, "NNN")
    row = compute_decision(desk.session, desk.ctx, actor=COORDINATOR)
    desk.clock.advance(hours=2)
    _sign(desk, row.id)
    assert row.signed_by == INVESTIGATOR
    assert row.signer_name == "LI Ming, MD"
    assert row.signed_at == desk.clock.now() and row.signed_at.utcoffset() is not None
    assert row.signature_meaning == SIGNATURE_MEANING
    assignment = next_assignment(desk.session, desk.ctx)
    assert (assignment.level, assignment.cohort_number) == (2, 2)
    with pytest.raises(TrialdeskError, match="already signed by LI Ming, MD"):
        _sign(desk, row.id)


def test_a_wrong_password_or_a_coordinator_cannot_sign(desk: Desk) -> None:
    _treated_cohort(desk, "NNN")
    row = compute_decision(desk.session, desk.ctx, actor=COORDINATOR)
    with pytest.raises(TrialdeskError, match=r"^password: does not match"):
        _sign(desk, row.id, password="wrong password!")
    with pytest.raises(TrialdeskError, match="only the role 'investigator' may sign"):
        _sign(desk, row.id, username=COORDINATOR)
    assert row.signed_at is None


def test_a_decision_computed_before_the_data_changed_cannot_be_signed(desk: Desk) -> None:
    _treated_cohort(desk, "TNN")
    old = compute_decision(desk.session, desk.ctx, actor=COORDINATOR)
    assert json.loads(old.decision_json)["action"] == "stay"  # 1 of 3: 3 more
    assessment = desk.session.query(DltAssessment).one()
    adjudicate_dlt(
        desk.session,
        assessment.id,
        confirm=False,
        reason="on review, pneumonitis progression of the underlying injury",
        actor=INVESTIGATOR,
        clock=desk.clock,
    )
    with pytest.raises(TrialdeskError, match="the trial data changed since decision"):
        _sign(desk, old.id)
    new = compute_decision(desk.session, desk.ctx, actor=COORDINATOR)
    assert old.superseded and new.id != old.id
    assert json.loads(new.decision_json)["action"] == "escalate"  # now 0 of 3
    with pytest.raises(TrialdeskError, match="superseded"):
        _sign(desk, old.id)
    _sign(desk, new.id)


def test_summary_shows_the_windows_and_the_decision_waiting(desk: Desk) -> None:
    _treated_cohort(desk, "NNN")
    summary = trial_summary(desk.session, desk.ctx)
    assert (summary.current_level, summary.current_cohort, summary.enrolled) == (1, 1, 3)
    assert summary.decision_ready and summary.interlock == "decision_pending"
    first = summary.patients[0]
    assert first.study_id == "RLI-001" and first.standing == "evaluable"
    assert (first.window_day, first.days_left, first.window_open) == (31, 0, False)


def test_summary_counts_the_days_left_in_an_open_window(desk: Desk) -> None:
    enrol_candidate(desk)
    summary = trial_summary(desk.session, desk.ctx)
    line = summary.patients[0]
    assert (line.standing, line.window_day, line.days_left) == ("not_started", None, None)
    assert (summary.next_level, summary.next_cohort) == (1, 1)


def test_replay_finds_a_decision_changed_in_the_database(desk: Desk, engine: Engine) -> None:
    _treated_cohort(desk, "NNN")
    row = compute_decision(desk.session, desk.ctx, actor=COORDINATOR)
    _sign(desk, row.id)
    desk.session.commit()
    assert replay_all(desk.session).identical
    tampered = row.decision_json.replace('"escalate"', '"stay"')
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE decisions SET decision_json = :tampered WHERE id = :id"),
            {"tampered": tampered, "id": row.id},
        )
    desk.session.expire_all()
    report = replay_all(desk.session)
    assert [(d.entity, d.entity_id) for d in report.differences] == [("decision", row.id)]
    assert "changed outside trialdesk" in report.differences[0].detail


def test_replay_finds_a_design_that_now_decides_differently(desk: Desk) -> None:
    # A stored state whose stored decision the design does not give (as if the design code
    # had changed): replay names the decision and both answers.
    _treated_cohort(desk, "NNN")
    row = compute_decision(desk.session, desk.ctx, actor=COORDINATOR)
    forged = row.decision_json.replace('"escalate"', '"stay"')
    other = EscalationDecision(
        cohort_number=1,
        dose_level=1,
        state_json=row.state_json,
        decision_json=forged,
        protocol_version_id=row.protocol_version_id,
        software_version="0.0.1",
        computed_at=desk.clock.now(),
        computed_by=COORDINATOR,
        superseded=True,
    )
    create(desk.session, other, actor=COORDINATOR, clock=desk.clock, reason="test")
    report = replay_all(desk.session)
    assert [d.entity_id for d in report.differences] == [other.id]
    assert "the design now gives" in report.differences[0].detail
