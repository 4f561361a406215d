"""The safety report's numbers against the database of a seeded trial (seeded_safety_trial.py):
each number is counted again here with its own query, and the scripted trial gives the known
answer (3+3 per the protocol file's design.rules, worked by hand in seeded_safety_trial.py)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from report_fixtures import SeededDatabase, seeded_database
from sqlalchemy import distinct, func, select

from trialdesk.errors import TrialdeskError
from trialdesk.reports.safety_data import gather_safety_report
from trialdesk.reports.safety_model import SafetyReport
from trialdesk.reports.safety_render import render_safety_html
from trialdesk.store.models import (
    AdverseEvent,
    DltAssessment,
    Enrolment,
    Infusion,
    Participant,
)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SeededDatabase]:
    yield from seeded_database(tmp_path_factory.mktemp("seeded"))


@pytest.fixture(scope="module")
def report(seeded: SeededDatabase) -> SafetyReport:
    desk = seeded.trial.desk
    return gather_safety_report(seeded.session, desk.ctx.loaded, seeded.today, desk.clock)


def test_levels_count_patients_infusions_and_dlts_as_the_database_does(
    seeded: SeededDatabase, report: SafetyReport
) -> None:
    s = seeded.session
    enrolled = dict(
        s.execute(select(Enrolment.dose_level, func.count()).group_by(Enrolment.dose_level)).all()
    )
    given = dict(
        s.execute(
            select(Enrolment.dose_level, func.count())
            .join(Infusion, Infusion.participant_id == Enrolment.participant_id)
            .where(Infusion.status == "given", Infusion.voided_at.is_(None))
            .group_by(Enrolment.dose_level)
        ).all()
    )
    with_dlt = dict(
        s.execute(
            select(Enrolment.dose_level, func.count(distinct(AdverseEvent.participant_id)))
            .join(AdverseEvent, AdverseEvent.participant_id == Enrolment.participant_id)
            .join(DltAssessment, DltAssessment.adverse_event_id == AdverseEvent.id)
            .where(DltAssessment.status == "confirmed")
            .group_by(Enrolment.dose_level)
        ).all()
    )
    rows = {row.level: row for row in report.levels}
    for level in (1, 2, 3):
        assert rows[level].enrolled == enrolled[level]
        assert rows[level].infusions_given == given[level]
        assert rows[level].patients_with_dlt == with_dlt.get(level, 0)
    # Known answer: cohorts TNN NNN at 1, NNN at 2, TTN at 3, NNN at 2; 4 infusions each;
    # RLI-013's grade 3 fever waits for adjudication, so level 2 has 5 evaluable, 1 candidate.
    assert [
        (r.enrolled, r.treated, r.evaluable, r.infusions_given, r.patients_with_dlt)
        for r in report.levels
    ] == [(6, 6, 6, 24, 1), (6, 6, 5, 24, 0), (3, 3, 3, 12, 2)]
    assert [r.candidate_dlts for r in report.levels] == [0, 1, 0]


def test_ae_table_counts_each_patient_once_per_term_at_the_worst_grade(
    seeded: SeededDatabase, report: SafetyReport
) -> None:
    worst = seeded.session.execute(
        select(AdverseEvent.term, Enrolment.dose_level, func.max(AdverseEvent.grade))
        .join(Enrolment, Enrolment.participant_id == AdverseEvent.participant_id)
        .where(AdverseEvent.voided_at.is_(None))
        .group_by(AdverseEvent.term, AdverseEvent.participant_id, Enrolment.dose_level)
    ).all()
    expected: dict[tuple[str, int, int], int] = defaultdict(int)
    for term, level, grade in worst:
        expected[(term, level, grade)] += 1
    shown = {
        (row.term, level, grade): n
        for row in report.ae_table
        for level, counts in enumerate(row.by_level, start=1)
        for grade, n in enumerate(counts, start=1)
        if n
    }
    assert shown == dict(expected)
    by_term = {row.term: row for row in report.ae_table}
    # Fatigue grade 1 then 2 in one level-1 patient, grade 1 in another: one patient per cell.
    assert by_term["Fatigue"].by_level[0] == (1, 1, 0, 0, 0)
    assert by_term["Fatigue"].patients == 2
    assert by_term["Pneumonitis"].by_level == ((0, 0, 1, 0, 0), (0,) * 5, (0, 0, 2, 0, 0))
    assert by_term["Cough"].by_level[1] == (2, 0, 0, 0, 0)
    assert report.ae_table[0].term == "Pneumonitis", "the most frequent term comes first"


def test_consort_flow_counts_and_reasons(seeded: SeededDatabase, report: SafetyReport) -> None:
    participants = seeded.session.scalar(select(func.count()).select_from(Participant))
    steps = {step.key: step for step in report.flow}
    assert steps["prescreened"].count == participants
    assert [step.count for step in report.flow] == [18, 17, 16, 15, 15, 15, 14]
    assert [(r.key, r.count) for r in steps["prescreened"].left] == [("not screened yet", 1)]
    (ineligible,) = steps["screened"].left
    assert ineligible.key == "ineligible"
    assert ineligible.detail is not None and "I8 not met" in ineligible.detail
    assert [(r.key, r.detail) for r in steps["eligible"].left] == [
        ("withdrawn", "moved to another city")
    ]
    assert [(r.key, r.count) for r in steps["treated"].left] == [
        ("candidate DLT awaiting adjudication", 1)
    ]
    assert report.enrolment.prescreened == participants
    assert (report.enrolment.enrolled, report.enrolment.stopped) == (15, True)
    assert report.enrolment.mtd_level == 2


def test_listings_of_saes_dlts_and_signed_decisions(report: SafetyReport) -> None:
    (sae,) = report.saes
    assert (sae.term, sae.grade, sae.level, sae.criteria) == (
        "Lung infection",
        3,
        2,
        ("hospitalisation",),
    )
    assert [(d.study_id, d.term, d.status) for d in report.dlts] == [
        ("RLI-001", "Pneumonitis", "confirmed"),
        ("RLI-010", "Pneumonitis", "confirmed"),
        ("RLI-011", "Pneumonitis", "confirmed"),
        ("RLI-012", "Dyspnea", "rejected"),
        ("RLI-013", "Fever", "candidate"),
    ]
    rejected = report.dlts[3]
    assert rejected.adjudicated_by == "dr.li" and rejected.reason and "baseline" in rejected.reason
    assert [(d.cohort, d.action, d.next_level) for d in report.decisions] == [
        (1, "stay", 1),
        (2, "escalate", 2),
        (3, "escalate", 3),
        (4, "de-escalate", 2),
        (5, "stop", None),
    ]
    first = report.decisions[0].signature
    # tests/trial/trial_desk.py: LI Ming signs at the manual clock's time, 2026-04-10 01:00 UTC.
    assert first == (
        "Signed by LI Ming, MD on 2026-04-10 01:00:00 UTC: I approve this dose-escalation decision"
    )


def test_a_cutoff_leaves_out_what_happened_after_it(seeded: SeededDatabase) -> None:
    trial = seeded.trial
    before_level_3 = trial.cohort_starts[3] - timedelta(days=1)
    early = gather_safety_report(
        seeded.session, trial.desk.ctx.loaded, before_level_3, trial.desk.clock
    )
    assert early.cover.cutoff == before_level_3
    assert early.enrolment.enrolled == 9
    assert [(r.enrolled, r.patients_with_dlt) for r in early.levels] == [(6, 1), (3, 0), (0, 0)]
    # Cohort 3's decision is signed the day cohort 4 is enrolled (trial_desk.run_cohort), so
    # on the day before only two signed decisions exist.
    assert [d.cohort for d in early.decisions] == [1, 2]
    assert "Dyspnea" not in {row.term for row in early.ae_table}
    assert not early.enrolment.stopped
    ids = {course.study_id for course in early.courses}
    assert ids == {f"RLI-{n:03d}" for n in range(1, 10)}


def test_a_cutoff_in_the_future_is_refused(seeded: SeededDatabase, tmp_path: Path) -> None:
    desk = seeded.trial.desk
    with pytest.raises(TrialdeskError, match="after today"):
        render_safety_html(
            seeded.session, desk.ctx.loaded, seeded.today + timedelta(days=1), clock=desk.clock
        )
    with pytest.raises(TrialdeskError, match="use en or zh"):
        render_safety_html(seeded.session, desk.ctx.loaded, None, "fr", clock=desk.clock)


def test_before_anyone_is_treated_the_plots_say_so(seeded: SeededDatabase) -> None:
    desk = seeded.trial.desk
    html = render_safety_html(seeded.session, desk.ctx.loaded, date(2026, 3, 9), clock=desk.clock)
    assert "No patient treated by the cut-off." in html
    assert "data:image/svg+xml" not in html
