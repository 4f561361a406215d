"""The desk refuses, with the reason, what the design does not allow; an investigator may
override the waiting interlock or the level with a written reason, audited as an override."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from trial_desk import (
    COORDINATOR,
    INVESTIGATOR,
    Desk,
    candidate,
    close_windows,
    confirm_dlt,
    enrol_candidate,
    give_infusion,
    open_desk,
    run_cohort,
    treat_cohort,
)

from trialdesk.errors import TrialdeskError
from trialdesk.store.audit import audit_trail
from trialdesk.store.models import Enrolment
from trialdesk.trial.decisions import compute_decision, readiness
from trialdesk.trial.enrolment import EnrolmentRefused, Interlock, enrol, next_assignment
from trialdesk.trial.infusions import schedule_infusions
from trialdesk.trial.state import trial_summary


@pytest.fixture
def desk(session: Session) -> Desk:
    return open_desk(session)


def _enrol(desk: Desk, **overrides: object) -> None:
    options: dict[str, object] = {
        "enrolled_on": desk.today,
        "baseline_weight_kg": 60.0,
        "actor": COORDINATOR,
        **overrides,
    }
    enrol(desk.session, desk.ctx, candidate(desk), **options)  # type: ignore[arg-type]


def _refused(desk: Desk, interlock: Interlock, match: str, **overrides: object) -> None:
    with pytest.raises(EnrolmentRefused, match=match) as refused:
        _enrol(desk, **overrides)
    assert refused.value.interlock is interlock


def _cohort_in_window(desk: Desk) -> list[int]:
    patients = [enrol_candidate(desk).participant_id for _ in range(3)]
    for participant_id in patients:
        schedule_infusions(
            desk.session,
            participant_id,
            first_on=desk.today,
            protocol=desk.ctx.protocol,
            actor=COORDINATOR,
            clock=desk.clock,
        )
        give_infusion(desk, participant_id, 1)
    return patients


def test_a_full_cohort_with_open_windows_refuses_the_next_patient(desk: Desk) -> None:
    _cohort_in_window(desk)
    desk.clock.advance(days=10)
    # Windows opened on day 0 end on day 30: 20 days left on day 10.
    _refused(desk, Interlock.COHORT_FULL, "cohort 1 at level 1 is full .*20 day\\(s\\) left")


def test_a_refusal_names_its_field_once_and_the_summary_shows_the_reason_alone(
    desk: Desk,
) -> None:
    _cohort_in_window(desk)
    with pytest.raises(EnrolmentRefused) as refused:
        _enrol(desk)
    assert str(refused.value).startswith("dose_level: cohort 1 at level 1 is full")
    assert str(refused.value).endswith(
        "An investigator may override with a written reason and the dose level to give"
    )
    assert str(refused.value).count("dose_level") == 1
    with pytest.raises(TrialdeskError) as no_reason:
        _enrol(desk, actor=INVESTIGATOR, dose_level=1)
    assert no_reason.value.field == "override_reason"
    assert "is an override (cohort 1 at level 1 is full" in str(no_reason.value)
    summary = trial_summary(desk.session, desk.ctx)
    assert summary.interlock == "cohort_full"
    assert summary.enrolment_blocked is not None
    assert summary.enrolment_blocked.startswith("cohort 1 at level 1 is full")


def test_a_decidable_cohort_refuses_the_next_patient_until_the_decision_is_signed(
    desk: Desk,
) -> None:
    patients = [enrol_candidate(desk).participant_id for _ in range(3)]
    treat_cohort(desk, patients, [False, False, False])
    _refused(desk, Interlock.DECISION_PENDING, "compute the decision and have an investigator")
    decision = compute_decision(desk.session, desk.ctx, actor=COORDINATOR)
    _refused(desk, Interlock.DECISION_PENDING, f"decision #{decision.id} waits for an investigator")


def test_a_stopped_trial_refuses_even_an_investigator(desk: Desk) -> None:
    run_cohort(desk, "TTN")  # 2 of 3 at level 1: no level is safe, the trial stops
    _refused(desk, Interlock.TRIAL_STOPPED, "the design stopped the trial .*Enrolment is closed")
    _refused(
        desk,
        Interlock.TRIAL_STOPPED,
        "stopped the trial",
        actor=INVESTIGATOR,
        dose_level=1,
        override_reason="compassionate use",
    )


def test_a_closed_level_is_refused_even_to_an_investigator(desk: Desk) -> None:
    run_cohort(desk, "NNN")  # escalate to level 2
    run_cohort(desk, "NNN")  # escalate to level 3
    run_cohort(desk, "TTN")  # level 3 exceeds: down to level 2 to expand it
    assert next_assignment(desk.session, desk.ctx).level == 2
    _refused(
        desk,
        Interlock.LEVEL_CLOSED,
        "the design has closed level 3 .*2 of 3 patients had a DLT at level 3.*highest open "
        "level is 2",
        actor=INVESTIGATOR,
        dose_level=3,
        override_reason="the patient asks for the highest dose",
    )


def test_two_dlts_decide_before_the_third_window_closes(desk: Desk) -> None:
    patients = _cohort_in_window(desk)
    desk.clock.advance(days=5)
    for participant_id in patients[:2]:
        confirm_dlt(desk, participant_id, onset=desk.today)
    ready = readiness(desk.session, desk.ctx)
    assert ready.ready and ready.decision is not None
    assert ready.decision.stop and ready.decision.mtd is None
    assert "2 of 2 patients had a DLT at level 1" in ready.reason


def test_one_dlt_decides_only_once_every_window_has_closed(desk: Desk) -> None:
    patients = _cohort_in_window(desk)
    first_day = desk.today
    for number, wait in ((2, 3), (3, 3), (4, 3)):
        desk.clock.advance(days=wait)
        for participant_id in patients:
            give_infusion(desk, participant_id, number)
        if number == 2:
            confirm_dlt(desk, patients[0], onset=desk.today)
            assert not readiness(desk.session, desk.ctx).ready
    with pytest.raises(TrialdeskError, match="the design cannot decide yet: RLI-002: DLT window"):
        compute_decision(desk.session, desk.ctx, actor=COORDINATOR)
    close_windows(desk, first_day)
    ready = readiness(desk.session, desk.ctx)
    assert ready.ready and ready.decision is not None
    assert (ready.decision.action, ready.decision.next_dose) == ("stay", 0)  # 1 of 3: 3 more


def test_only_an_investigator_with_a_written_reason_overrides(desk: Desk) -> None:
    _cohort_in_window(desk)
    with pytest.raises(TrialdeskError, match="only the role 'investigator' may override"):
        _enrol(desk, dose_level=1, override_reason="urgent")
    with pytest.raises(
        TrialdeskError, match=r"^override_reason: enrolling at level 1 is an override"
    ):
        _enrol(desk, actor=INVESTIGATOR, dose_level=1)
    _enrol(desk, actor=INVESTIGATOR, dose_level=1, override_reason="rapidly worsening, no option")
    last = desk.session.scalars(select(Enrolment).order_by(Enrolment.id.desc())).first()
    assert last is not None
    assert (last.override, last.dose_level, last.cohort_number) == (True, 1, 2)
    entry = audit_trail(desk.session, "enrolment", str(last.id))[0]
    assert entry.actor == INVESTIGATOR
    assert entry.reason == (
        f"OVERRIDE of the design by investigator {INVESTIGATOR}: rapidly worsening, no option"
    )


def test_choosing_another_level_than_the_design_is_an_override(desk: Desk) -> None:
    with pytest.raises(TrialdeskError, match="the design assigns level 1"):
        _enrol(desk, actor=INVESTIGATOR, dose_level=2)
    with pytest.raises(TrialdeskError, match="nothing to override"):
        _enrol(desk, override_reason="just because")
