"""The trial as the design sees it, read from the store: who is enrolled in which cohort at
which level, how far each is through the DLT window, and the :class:`TrialState` for the design.

One reading serves enrolment (which level next, or why not), decisions (can the design decide
now) and the status summary, so they can never disagree.

How stored records become the design's counts (3+3 "in order of inclusion"):
- a patient counts at their enrolled level unless not evaluable (replaced; the replacement
  joins the same cohort);
- confirmed DLTs count; candidates wait for adjudication and keep the patient pending;
- a patient still in the window, awaiting adjudication or not yet infused is *pending* with
  the fraction of the window followed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from trialdesk.design.base import Design, LevelState, TrialState
from trialdesk.design.interval import IntervalDesign
from trialdesk.design.registry import design_from_protocol
from trialdesk.design.three_plus_three import ThreePlusThree
from trialdesk.store.models import Enrolment, Infusion, Participant
from trialdesk.trial.context import TrialContext
from trialdesk.trial.dlt import (
    Evaluability,
    PatientEvaluability,
    patient_evaluability,
)
from trialdesk.trial.dlt_review import enrolled_records

PENDING_STATES = (
    Evaluability.NOT_STARTED,
    Evaluability.FOLLOWING,
    Evaluability.AWAITING_ADJUDICATION,
)


@dataclass(frozen=True)
class EnrolledPatient:
    """One enrolled participant with their standing for the dose decision as of a date."""

    participant: Participant
    enrolment: Enrolment
    standing: PatientEvaluability

    @property
    def label(self) -> str:
        return self.participant.study_id or self.participant.screening_number

    @property
    def pending(self) -> bool:
        return self.standing.state in PENDING_STATES

    @property
    def replaced(self) -> bool:
        return self.standing.state == Evaluability.NOT_EVALUABLE

    @property
    def had_dlt(self) -> bool:
        return self.standing.state == Evaluability.EVALUABLE_DLT


@dataclass(frozen=True)
class CohortView:
    """A cohort: its number, its level (from 1) and its patients in order of inclusion."""

    number: int
    level: int
    patients: tuple[EnrolledPatient, ...]

    @property
    def counted(self) -> tuple[EnrolledPatient, ...]:
        """Patients who count for the cohort (the not-evaluable are replaced)."""
        return tuple(p for p in self.patients if not p.replaced)

    @property
    def pending(self) -> tuple[EnrolledPatient, ...]:
        return tuple(p for p in self.patients if p.pending)


@dataclass(frozen=True)
class TrialReading:
    """Everything enrolment, decisions and status need, read once, as of ``as_of``."""

    as_of: date
    cohort_size: int
    n_levels: int
    start_level: int
    patients: tuple[EnrolledPatient, ...]
    cohorts: tuple[CohortView, ...]
    state: TrialState
    infusions: Mapping[int, Sequence[Infusion]] = field(default_factory=dict)
    """Each enrolled participant's active infusions as read for the DLT facts (by id)."""

    @property
    def last_cohort(self) -> CohortView | None:
        return self.cohorts[-1] if self.cohorts else None


_ENROLLED_IN_ORDER: Final = (
    select(Enrolment, Participant)
    .join(Participant, Participant.id == Enrolment.participant_id)
    .order_by(Enrolment.cohort_number, Enrolment.enrolled_on, Enrolment.id)
)
"""Built once, as the other statements every page view sends (``read_trial`` runs for each):
building one and its cache key each time cost as much as running it."""


def read_trial(session: Session, ctx: TrialContext, as_of: date | None = None) -> TrialReading:
    """Read every enrolment with its infusions and DLTs and build the design's state."""
    day = as_of or ctx.clock.today()
    design_section = ctx.protocol.design
    cohort_size = design_section.cohort_size if design_section else 3
    start_level = design_section.start_level if design_section else 1
    enrolled = session.execute(_ENROLLED_IN_ORDER).all()
    records = enrolled_records(session)
    patients = tuple(
        EnrolledPatient(
            participant,
            enrolment,
            patient_evaluability(
                records.facts(session, participant, enrolment, ctx.protocol, ctx.clock),
                ctx.dlt,
                day,
            ),
        )
        for enrolment, participant in enrolled
    )
    cohorts = _cohorts(patients)
    n_levels = len(ctx.protocol.doses)
    return TrialReading(
        as_of=day,
        cohort_size=cohort_size,
        n_levels=n_levels,
        start_level=start_level,
        patients=patients,
        cohorts=cohorts,
        state=design_state(patients, cohorts, n_levels, as_of=day),
        infusions=records.infusions,
    )


def design_state(
    patients: Sequence[EnrolledPatient],
    cohorts: Sequence[CohortView],
    n_levels: int,
    *,
    as_of: date,
) -> TrialState:
    """The design's input: per level the counted patients, confirmed DLTs and the fraction of
    the window each pending patient has been followed; the current level is the last cohort's."""
    levels: list[LevelState] = []
    for level in range(1, n_levels + 1):
        here = [p for p in patients if p.enrolment.dose_level == level and not p.replaced]
        pending = tuple(
            round(p.standing.window.fraction_followed(as_of), 4) if p.standing.window else 0.0
            for p in here
            if p.pending
        )
        levels.append(
            LevelState(treated=len(here), dlts=sum(p.had_dlt for p in here), pending=pending)
        )
    last = cohorts[-1] if cohorts else None
    return TrialState(
        levels=tuple(levels),
        current=(last.level - 1) if last else 0,
        last_cohort_had_dlt=bool(last and any(p.had_dlt for p in last.patients)),
    )


def the_design(ctx: TrialContext) -> Design:
    return design_from_protocol(ctx.protocol)


def highest_open_level(design: Design, state: TrialState) -> tuple[int | None, str]:
    """The highest level (from 1) the design still allows, None if none, and why lower.

    Designs that exclude levels for toxicity (3+3, the interval designs) say which; for others
    every level stays open."""
    if isinstance(design, ThreePlusThree | IntervalDesign):
        admissible = design.admissibility(state)
        highest = admissible.highest
        return (highest + 1 if highest is not None else None), admissible.reason
    return design.n_levels, ""


def state_to_json(state: TrialState) -> str:
    """The canonical text a design input is stored as (levels from 0, as the design reads)."""
    data: dict[str, Any] = {
        "levels": [
            {"treated": level.treated, "dlts": level.dlts, "pending": list(level.pending)}
            for level in state.levels
        ],
        "current": state.current,
        "last_cohort_had_dlt": state.last_cohort_had_dlt,
    }
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def state_from_json(text: str) -> TrialState:
    """A stored design input back as the design's :class:`TrialState`."""
    data = json.loads(text)
    levels = tuple(
        LevelState(
            treated=int(level["treated"]),
            dlts=int(level["dlts"]),
            pending=tuple(float(f) for f in level["pending"]),
        )
        for level in data["levels"]
    )
    return TrialState(
        levels=levels,
        current=int(data["current"]),
        last_cohort_had_dlt=bool(data["last_cohort_had_dlt"]),
    )


def _cohorts(patients: Sequence[EnrolledPatient]) -> tuple[CohortView, ...]:
    by_number: dict[int, list[EnrolledPatient]] = {}
    for patient in patients:
        by_number.setdefault(patient.enrolment.cohort_number, []).append(patient)
    return tuple(
        CohortView(number, members[0].enrolment.dose_level, tuple(members))
        for number, members in sorted(by_number.items())
    )
