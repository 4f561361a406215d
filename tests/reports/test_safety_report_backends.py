"""The report's query layer on SQLite and PostgreSQL: two cohorts through the use-cases, and
the report's counts equal the database's."""

from __future__ import annotations

from seeded_safety_trial import seed_trial
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trialdesk.reports.safety_data import gather_safety_report
from trialdesk.store.models import Enrolment, Infusion, Participant


def test_counts_match_the_database_on_both_backends(session: Session) -> None:
    trial = seed_trial(session, ("TNN", "NNN"), extras=False)
    desk = trial.desk
    report = gather_safety_report(session, desk.ctx.loaded, desk.today, desk.clock)
    participants = session.scalar(select(func.count()).select_from(Participant))
    enrolled = session.scalar(select(func.count()).select_from(Enrolment))
    given = session.scalar(
        select(func.count()).select_from(Infusion).where(Infusion.status == "given")
    )
    assert [s.count for s in report.flow][:5] == [participants, 8, 7, enrolled, enrolled]
    # Known answer: two cohorts of three at level 1 (1 of 3, then 1 of 6: escalate).
    assert (participants, enrolled, given) == (9, 6, 24)
    level_1 = report.levels[0]
    assert (level_1.enrolled, level_1.infusions_given, level_1.patients_with_dlt) == (6, 24, 1)
    assert [(d.cohort, d.action) for d in report.decisions] == [(1, "stay"), (2, "escalate")]
    assert report.ae_table[0].term == "Pneumonitis"
    assert report.ae_table[0].by_level[0] == (0, 0, 1, 0, 0)
