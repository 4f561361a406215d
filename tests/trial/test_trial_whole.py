"""A whole 15-patient NCT06021067 trial through the use-cases on a manual clock: a clean
escalation, a cohort expanded after one DLT, a level exceeded with de-escalation, an MTD.

Expected decisions follow the 3+3 rules of the protocol file (design.rules): 1 of 3 -> 3 more;
1 of 6 -> escalate; 0 of 3 -> escalate; 2 of 3 -> the level exceeds, go down and expand the
level below to 6; 0 of 6 there with the level above excluded -> stop, that level is the MTD.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from trial_desk import open_desk, run_cohort

from trialdesk.store.models import EscalationDecision
from trialdesk.trial.enrolment import EnrolmentRefused, Interlock, next_assignment
from trialdesk.trial.replay import replay_all
from trialdesk.trial.state import trial_summary


def test_a_whole_trial_escalates_expands_de_escalates_and_declares_the_mtd(
    session: Session,
) -> None:
    desk = open_desk(session)
    for outcomes in ("TNN", "NNN", "NNN", "TTN", "NNN"):
        run_cohort(desk, outcomes)
    decisions = session.scalars(select(EscalationDecision).order_by(EscalationDecision.id)).all()
    made = [json.loads(d.decision_json) for d in decisions]
    assert [(d.cohort_number, d.dose_level) for d in decisions] == [
        (1, 1),
        (2, 1),
        (3, 2),
        (4, 3),
        (5, 2),
    ]
    assert [(m["action"], m["next_level"]) for m in made] == [
        ("stay", 1),  # 1 of 3: three more at level 1
        ("escalate", 2),  # 1 of 6
        ("escalate", 3),  # 0 of 3
        ("de-escalate", 2),  # 2 of 3 at level 3: expand level 2 to 6
        ("stop", None),  # 0 of 6 at level 2, level 3 excluded
    ]
    assert made[-1]["mtd_level"] == 2
    assert all(d.signer_name == "LI Ming, MD" for d in decisions)
    with pytest.raises(EnrolmentRefused) as refused:
        next_assignment(session, desk.ctx)
    assert refused.value.interlock is Interlock.TRIAL_STOPPED
    summary = trial_summary(session, desk.ctx)
    assert (summary.enrolled, summary.stopped, summary.mtd_level) == (15, True, 2)
    assert [(line.level, line.treated, line.dlts) for line in summary.levels] == [
        (1, 6, 1),
        (2, 6, 0),
        (3, 3, 2),
    ]
    report = replay_all(session)
    assert report.identical, report.differences
    assert (report.screenings, report.decisions) == (15, 5)
