"""Enrolled participants for the use-case tests, made directly in the store.

(The enrolment use-case with its interlocks is tested on its own; here a participant only needs
to be enrolled at a dose level with a baseline weight.)
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from trialdesk.store.models import Enrolment, Participant, ProtocolVersion, User
from trialdesk.trial.clock import ManualClock
from trialdesk.trial.records import create


def enrolled(
    session: Session,
    version: ProtocolVersion,
    clock: ManualClock,
    *,
    number: int = 1,
    level: int = 1,
    weight_kg: float = 60.0,
    enrolled_on: date | None = None,
) -> Participant:
    """Participant RLI-00n enrolled at ``level`` with ``weight_kg``."""
    person = create(
        session,
        Participant(
            screening_number=f"S-{number:03d}",
            study_id=f"RLI-{number:03d}",
            status="enrolled",
            protocol_version_id=version.id,
        ),
        actor="coordinator",
        clock=clock,
    )
    create(
        session,
        Enrolment(
            participant_id=person.id,
            enrolled_on=enrolled_on or clock.today(),
            dose_level=level,
            cohort_number=1,
            baseline_weight_kg=weight_kg,
            assigned_by="coordinator",
            override=False,
        ),
        actor="coordinator",
        clock=clock,
    )
    return person


def add_user(session: Session, username: str, role: str) -> User:
    user = User(username=username, display_name=username.title(), role=role, active=True)
    session.add(user)
    session.flush()
    return user
