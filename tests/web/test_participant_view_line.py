"""The participant page reads one patient's DLT window and standing without the rest of the
trial (from the records it reads for the page anyway): it must say what the dashboard says,
for each of the demo's six patients (done, with a confirmed DLT, inside the window), and a
voided DLT event must count for neither."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from trialdesk.protocol import builtin_protocol
from trialdesk.store.models import AdverseEvent, DltAssessment, Enrolment, Participant
from trialdesk.trial.clock import FixedClock
from trialdesk.trial.context import TrialContext
from trialdesk.trial.demo_seed import seed_demo
from trialdesk.trial.desk_status import desk_status
from trialdesk.trial.state import patient_line
from trialdesk.web.participant_view import read_participant

NOW = datetime(2026, 5, 20, 6, 0, tzinfo=UTC)


def _lines_agree(session: Session, ctx: TrialContext) -> None:
    summary = desk_status(session, ctx).summary
    enrolments = session.scalars(sa.select(Enrolment)).all()
    assert len(enrolments) == len(summary.patients) == 6
    for enrolment in enrolments:
        participant = session.get_one(Participant, enrolment.participant_id)
        [expected] = [p for p in summary.patients if p.participant_id == participant.id]
        assert read_participant(session, ctx, participant.id).line == expected
        assert patient_line(session, ctx, participant, enrolment) == expected


def test_each_patients_line_on_their_page_is_the_dashboards(session: Session) -> None:
    seed_demo(session, builtin_protocol(), NOW)
    ctx = TrialContext.open(session, builtin_protocol(), FixedClock(NOW))
    assert {p.standing for p in desk_status(session, ctx).summary.patients} >= {
        "evaluable",
        "following",
    }
    _lines_agree(session, ctx)
    # The confirmed DLT's event voided: it no longer counts, on the page as on the dashboard.
    confirmed = session.scalars(
        sa.select(DltAssessment).where(DltAssessment.status == "confirmed")
    ).first()
    assert confirmed is not None
    event = session.get_one(AdverseEvent, confirmed.adverse_event_id)
    event.voided_at, event.void_reason = NOW, "entered for the wrong participant"
    session.flush()
    _lines_agree(session, ctx)
