"""The way in: pre-screen contact -> screening verdict -> consent -> enrolment, and the rules
enrolment checks (eligible and recent screening, consent first)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session
from trial_desk import (
    COORDINATOR,
    INVESTIGATOR,
    Desk,
    candidate,
    enrol_candidate,
    open_desk,
    screened,
)

from trialdesk.errors import TrialdeskError
from trialdesk.store.audit import audit_trail
from trialdesk.trial.enrolment import enrol
from trialdesk.trial.participants import (
    get_participant,
    participant_by_number,
    record_consent,
    register_contact,
)


@pytest.fixture
def desk(session: Session) -> Desk:
    return open_desk(session)


def _consent(desk: Desk, participant_id: int, **overrides: object) -> None:
    options: dict[str, object] = {
        "consent_date": desk.today,
        "form_version": "1.0",
        "obtained_by": INVESTIGATOR,
        "actor": COORDINATOR,
        **overrides,
    }
    record_consent(desk.session, desk.ctx, participant_id, **options)  # type: ignore[arg-type]


def _enrol(desk: Desk, participant_id: int, **overrides: object) -> None:
    options: dict[str, object] = {
        "enrolled_on": desk.today,
        "baseline_weight_kg": 60.0,
        "actor": COORDINATOR,
        **overrides,
    }
    enrol(desk.session, desk.ctx, participant_id, **options)  # type: ignore[arg-type]


def test_contacts_get_screening_numbers_in_the_protocol_format(desk: Desk) -> None:
    first = register_contact(desk.session, desk.ctx, actor=COORDINATOR, sex="female")
    second = register_contact(desk.session, desk.ctx, actor=COORDINATOR)
    assert (first.screening_number, second.screening_number) == ("S-001", "S-002")
    assert first.status == "prescreened"
    with pytest.raises(TrialdeskError, match=r"^sex: 'f' is not one of female, male"):
        register_contact(desk.session, desk.ctx, actor=COORDINATOR, sex="f")


def test_an_ineligible_screening_makes_a_screen_failure_that_keeps_its_reason(desk: Desk) -> None:
    person = get_participant(desk.session, screened(desk, eligible=False))
    assert person.status == "screen_failed"
    # docs/examples/screening-ineligible.json fails I4b (ALT), I8 (age 76) and E8 (ALT).
    assert person.screen_fail_reason is not None
    for failing in ("I4b not met", "I8 not met", "E8 met"):
        assert failing in person.screen_fail_reason
    changed = {e.field: e for e in audit_trail(desk.session, "participant", str(person.id))}
    assert "I8 not met" in changed["screen_fail_reason"].new_value
    assert changed["status"].new_value == '"screen_failed"'
    _consent(desk, person.id)
    with pytest.raises(TrialdeskError, match="is ineligible, not eligible"):
        _enrol(desk, person.id)


def test_an_eligible_screening_then_consent(desk: Desk) -> None:
    participant_id = screened(desk)
    assert get_participant(desk.session, participant_id).status == "screening"
    _consent(desk, participant_id)
    assert get_participant(desk.session, participant_id).status == "consented"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"form_version": "0.9"}, "^form_version: '0.9' is not the consent form in use"),
        ({"consent_date": "tomorrow"}, "^consent_date: .* is in the future"),
    ],
)
def test_consent_on_an_old_form_or_in_the_future_is_refused(
    desk: Desk, overrides: dict[str, object], message: str
) -> None:
    participant_id = screened(desk)
    if overrides.get("consent_date") == "tomorrow":
        overrides = {"consent_date": desk.today + timedelta(days=1)}
    with pytest.raises(TrialdeskError, match=message):
        _consent(desk, participant_id, **overrides)


def test_enrolment_gives_the_study_id_and_the_first_level(desk: Desk) -> None:
    enrolment = enrol_candidate(desk)
    person = get_participant(desk.session, enrolment.participant_id)
    assert (person.study_id, person.status) == ("RLI-001", "enrolled")
    assert (enrolment.dose_level, enrolment.cohort_number, enrolment.override) == (1, 1, False)
    assert participant_by_number(desk.session, "RLI-001").id == person.id
    why = audit_trail(desk.session, "enrolment", str(enrolment.id))[0].reason
    assert why.startswith("enrolled; level 1 assigned by the design")


def test_enrolment_needs_a_screening(desk: Desk) -> None:
    person = register_contact(desk.session, desk.ctx, actor=COORDINATOR)
    with pytest.raises(TrialdeskError, match="has no screening"):
        _enrol(desk, person.id)


def test_enrolment_needs_consent(desk: Desk) -> None:
    participant_id = screened(desk)
    with pytest.raises(TrialdeskError, match="has no informed consent"):
        _enrol(desk, participant_id)


def test_consent_must_come_on_or_before_the_enrolment_date(desk: Desk) -> None:
    participant_id = screened(desk, on=desk.today - timedelta(days=2))
    _consent(desk, participant_id)
    with pytest.raises(TrialdeskError, match=r"^enrolled_on: consent was signed on .* after"):
        _enrol(desk, participant_id, enrolled_on=desk.today - timedelta(days=1))


def test_a_screening_older_than_the_protocol_allows_is_refused(desk: Desk) -> None:
    # conduct.screening_valid_days is 28 in the built-in protocol: day 28 passes, day 29 not.
    fresh = screened(desk, on=desk.today - timedelta(days=28))
    stale = screened(desk, on=desk.today - timedelta(days=29))
    for participant_id in (fresh, stale):
        _consent(desk, participant_id)
    _enrol(desk, fresh)
    with pytest.raises(TrialdeskError, match="29 days before enrolment; the protocol allows 28"):
        _enrol(desk, stale)


def test_a_participant_is_enrolled_once(desk: Desk) -> None:
    enrolment = enrol_candidate(desk)
    with pytest.raises(TrialdeskError, match="is enrolled and cannot be enrolled"):
        _enrol(desk, enrolment.participant_id)


def test_enrolment_on_a_future_date_or_an_impossible_weight_is_refused(desk: Desk) -> None:
    participant_id = candidate(desk)
    with pytest.raises(TrialdeskError, match=r"^enrolled_on: .* is in the future"):
        _enrol(desk, participant_id, enrolled_on=desk.today + timedelta(days=1))
    with pytest.raises(TrialdeskError, match=r"^baseline_weight_kg: 0.0 kg is not"):
        _enrol(desk, participant_id, baseline_weight_kg=0.0)
