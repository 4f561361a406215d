"""A trial to report on, run through the use-cases on a manual clock (tests/trial/trial_desk):
the whole 15-patient NCT06021067 escalation of tests/trial/test_trial_whole.py, plus what a
safety report must show beside it: a contact never screened, a screen failure, an eligible
person who withdrew before consent, non-serious AEs of several grades, an SAE, a candidate DLT
rejected and one still waiting, and pneumonitis grades over time.

The known answers below follow from the script, by hand (3+3 rules of the protocol file)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session
from trial_desk import COORDINATOR, INVESTIGATOR, Desk, open_desk, run_cohort, screened

from trialdesk.trial.adverse_events import record_adverse_event
from trialdesk.trial.dlt_review import adjudicate_dlt
from trialdesk.trial.follow_up import record_measurement
from trialdesk.trial.participants import register_contact
from trialdesk.trial.withdrawal import withdraw

COHORTS = ("TNN", "NNN", "NNN", "TTN", "NNN")
"""Cohort outcomes: levels 1, 1, 2, 3, 2 (escalate, expand, escalate, exceed, MTD at 2)."""


@dataclass
class SeededTrial:
    desk: Desk
    cohorts: list[list[int]] = field(default_factory=list)
    """Participant ids per cohort, in order of enrolment."""
    cohort_starts: list[date] = field(default_factory=list)
    """The day each cohort was enrolled (its first infusion the same day)."""

    @property
    def session(self) -> Session:
        return self.desk.session


def seed_trial(
    session: Session, cohorts: tuple[str, ...] = COHORTS, *, extras: bool = True
) -> SeededTrial:
    """The trial; ``extras`` adds the AEs, SAE, adjudications and pneumonitis grades (these
    need all five cohorts)."""
    desk = open_desk(session)
    trial = SeededTrial(desk)
    register_contact(session, desk.ctx, actor=COORDINATOR, contact_note="phone, never screened")
    screened(desk, eligible=False)
    gone = screened(desk)
    withdraw(session, desk.ctx, gone, reason="moved to another city", actor=COORDINATOR)
    for outcomes in cohorts:
        trial.cohort_starts.append(desk.today)
        trial.cohorts.append(run_cohort(desk, outcomes))
    if extras:
        _adverse_events(trial)
    return trial


def _ae(
    trial: SeededTrial, participant_id: int, term: str, grade: int, day: int, **kw: object
) -> int:
    """Record an AE ``day`` days after the participant's cohort started; the id of its DLT
    assessment (0 when it is no candidate DLT)."""
    desk = trial.desk
    start = next(
        s for s, c in zip(trial.cohort_starts, trial.cohorts, strict=True) if participant_id in c
    )
    recorded = record_adverse_event(
        desk.session,
        participant_id,
        term=term,
        grade=grade,
        onset_date=start + timedelta(days=day),
        attribution_hdmsc=str(kw.pop("attribution_hdmsc", "unlikely")),
        attribution_standard=str(kw.pop("attribution_standard", "unlikely")),
        protocol=desk.ctx.protocol,
        actor=COORDINATOR,
        clock=desk.clock,
        **kw,  # type: ignore[arg-type]
    )
    return recorded.dlt.id if recorded.dlt is not None else 0


def _adverse_events(trial: SeededTrial) -> None:
    first, second, third, fourth = (trial.cohorts[i] for i in range(4))
    # Level 1: fatigue grade 1 then 2 in one patient (counted once, at 2), grade 1 in another.
    _ae(trial, first[1], "Fatigue", 1, 2)
    _ae(trial, first[1], "Fatigue", 2, 9)
    _ae(trial, second[0], "Fatigue", 1, 4)
    # Level 2: cough grade 1 twice in two patients; an SAE unrelated to hDMSC (no DLT).
    _ae(trial, third[0], "Cough", 1, 3)
    _ae(trial, third[1], "Cough", 1, 6)
    _ae(
        trial,
        third[2],
        "Lung infection",
        3,
        12,
        attribution_hdmsc="unrelated",
        serious=True,
        serious_criteria=["hospitalisation"],
        outcome="recovered",
        resolution_date=trial.cohort_starts[2] + timedelta(days=20),
    )
    # Level 3: a grade 3 dyspnea possibly related: candidate DLT, rejected by the investigator.
    rejected = _ae(trial, fourth[2], "Dyspnea", 3, 8, attribution_hdmsc="possible")
    adjudicate_dlt(
        trial.session,
        rejected,
        confirm=False,
        reason="explained by the radiation pneumonitis already known at baseline",
        actor=INVESTIGATOR,
        clock=trial.desk.clock,
    )
    # Level 2 (second cohort there): a grade 3 fever, probable: a candidate still waiting.
    _ae(trial, trial.cohorts[4][0], "Fever", 3, 2, attribution_hdmsc="probable")
    for cohort, grades in ((0, (1, 3, 2, 1)), (3, (2, 3, 3, 2))):
        participant_id, start = trial.cohorts[cohort][0], trial.cohort_starts[cohort]
        for week, grade in enumerate(grades):
            record_measurement(
                trial.session,
                participant_id,
                code="pneumonitis_grade",
                value=grade,
                measured_on=start + timedelta(days=7 * week),
                protocol=trial.desk.ctx.protocol,
                actor=COORDINATOR,
                clock=trial.desk.clock,
            )
