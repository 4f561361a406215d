"""A participant leaves the study: withdrawal is a status with its reason, never a deletion.

The evaluability rule reads the day of leaving from the audit entry this writes (see
:func:`trialdesk.trial.dlt_review.patient_dlt_facts`), so a withdrawn patient's DLT window
closes that day.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.models import Participant
from trialdesk.trial.context import TrialContext
from trialdesk.trial.participants import get_participant
from trialdesk.trial.records import check_reason, update


def withdraw(
    session: Session, ctx: TrialContext, participant_id: int, *, reason: str, actor: str
) -> Participant:
    """Mark the participant withdrawn with ``reason`` (refused when already withdrawn or
    completed). Their records stay; nothing more is planned for them."""
    why = check_reason(reason)
    person = get_participant(session, participant_id)
    if person.status in ("withdrawn", "completed"):
        raise TrialdeskError(
            f"{person.study_id or person.screening_number} is already {person.status}",
            field="participant_id",
        )
    update(
        session,
        person,
        {"status": "withdrawn"},
        actor=actor,
        reason=f"withdrawn: {why}",
        clock=ctx.clock,
    )
    return person
