"""The safety report as typed data: what the query layer reads from the database and the
renderer turns into HTML. Plain frozen dataclasses, no database objects, so a test can compare
every number with the store and the template cannot run a query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

GRADES = (1, 2, 3, 4, 5)
"""CTCAE v5.0 grades, the columns of the AE table."""


@dataclass(frozen=True, slots=True)
class Cover:
    """What the cover states: which trial, which protocol text, which software, which data."""

    protocol_id: str
    nct_id: str | None
    title: str
    sponsor: str
    protocol_version: str
    protocol_sha256: str
    software_version: str
    cutoff: date
    generated_at: datetime
    """In the site's zone."""


@dataclass(frozen=True, slots=True)
class EnrolmentSummary:
    """Enrolment as of the cut-off; ``planned``: the protocol's maximum sample size."""

    prescreened: int
    enrolled: int
    planned: int | None
    first_enrolled: date | None
    last_enrolled: date | None
    withdrawn: int
    current_level: int | None
    current_cohort: int | None
    stopped: bool
    mtd_level: int | None


@dataclass(frozen=True, slots=True)
class Reason:
    """Why ``count`` people went no further: ``key`` is a fixed phrase (translated when shown),
    ``detail`` recorded text such as a screen-failure or withdrawal reason."""

    key: str
    detail: str | None
    count: int


@dataclass(frozen=True, slots=True)
class FlowStep:
    """One box of the CONSORT-style flow; ``left`` are those who went no further, by reason."""

    key: str
    """prescreened, screened, eligible, consented, enrolled, treated, evaluable."""
    count: int
    left: tuple[Reason, ...]

    @property
    def left_count(self) -> int:
        return sum(reason.count for reason in self.left)


@dataclass(frozen=True, slots=True)
class LevelRow:
    """One dose level: patients enrolled, treated (at least one infusion), DLT-evaluable,
    infusions given, confirmed DLTs (patients with one) and candidates awaiting adjudication."""

    level: int
    dose: str
    enrolled: int
    treated: int
    evaluable: int
    infusions_given: int
    patients_with_dlt: int
    candidate_dlts: int


@dataclass(frozen=True, slots=True)
class AeRow:
    """One CTCAE term: per dose level, the number of patients whose worst grade of the term is
    1..5 (``by_level[level - 1][grade - 1]``), and the patients with the term in all."""

    term: str
    by_level: tuple[tuple[int, ...], ...]
    patients: int


@dataclass(frozen=True, slots=True)
class SaeLine:
    study_id: str
    level: int
    term: str
    grade: int
    onset: date
    resolved: date | None
    criteria: tuple[str, ...]
    attribution_hdmsc: str
    attribution_standard: str
    outcome: str | None
    reported_at: datetime | None


@dataclass(frozen=True, slots=True)
class DltLine:
    """A candidate DLT (an AE matching the protocol's DLT rules) and its adjudication."""

    study_id: str
    level: int
    term: str
    grade: int
    onset: date
    rule: str
    status: str
    """candidate, confirmed or rejected (as of the cut-off)."""
    reason: str | None
    adjudicated_by: str | None
    adjudicated_at: datetime | None


@dataclass(frozen=True, slots=True)
class DecisionLine:
    """A signed escalation decision with the signature's manifestation."""

    cohort: int
    level: int
    action: str
    next_level: int | None
    mtd_level: int | None
    reason: str
    computed_at: datetime
    signature: str
    """The signature as trialdesk.trial.signatures.manifest shows it."""


@dataclass(frozen=True, slots=True)
class AeMark:
    """An AE on a patient's course: days from the first infusion (day 0)."""

    day: int
    end_day: int | None
    term: str
    grade: int
    serious: bool
    dlt: bool


@dataclass(frozen=True, slots=True)
class PatientCourse:
    """One patient for the swimmer plot; days count from the first infusion (day 0)."""

    study_id: str
    level: int
    cohort: int
    first_infusion: date | None
    infusion_days: tuple[int, ...]
    last_day: int
    """Days followed up to the cut-off (or leaving the study)."""
    window: tuple[int, int] | None
    """The DLT window, first and last day."""
    aes: tuple[AeMark, ...]
    standing: str


@dataclass(frozen=True, slots=True)
class GradePoint:
    """A pneumonitis grade on a day after the first infusion."""

    day: int
    grade: float


@dataclass(frozen=True, slots=True)
class PneumonitisSeries:
    study_id: str
    level: int
    points: tuple[GradePoint, ...]


@dataclass(frozen=True, slots=True)
class SafetyReport:
    """Everything the DSMB safety report shows, as of ``cover.cutoff``."""

    cover: Cover
    enrolment: EnrolmentSummary
    flow: tuple[FlowStep, ...]
    levels: tuple[LevelRow, ...]
    ae_table: tuple[AeRow, ...]
    saes: tuple[SaeLine, ...]
    dlts: tuple[DltLine, ...]
    decisions: tuple[DecisionLine, ...]
    courses: tuple[PatientCourse, ...]
    pneumonitis: tuple[PneumonitisSeries, ...]
