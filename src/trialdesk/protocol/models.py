"""Pydantic models of a dose-escalation protocol: WHAT the trial is.

Every trial-specific number lives in a protocol file validated by these models, never in code.
A value that the public registry record does not state is marked with ``assumption: true`` and a
``note`` saying what was assumed and why, so that nobody mistakes it for a registered fact.
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Identifier = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
]


class Strict(BaseModel):
    """Base: unknown keys are errors (a typo in a protocol file must never be silently ignored)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Text(Strict):
    """A text shown to people, in English and Simplified Chinese."""

    en: str = Field(min_length=1)
    zh: str = Field(min_length=1, description="Simplified Chinese")

    def get(self, lang: str) -> str:
        return self.zh if lang.lower().startswith("zh") else self.en


class Sourced(Strict):
    """Mixin for a value that may be an assumption rather than a registered fact."""

    assumption: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _assumption_needs_note(self) -> Sourced:
        if self.assumption and not (self.note and self.note.strip()):
            raise ValueError("an assumption needs a note saying what was assumed and why")
        return self


Phase = Literal["EARLY_PHASE1", "PHASE1", "PHASE2", "PHASE3", "PHASE4", "NA"]


class Site(Strict):
    name: str
    city: str | None = None
    region: str | None = None
    country: str | None = None


class Registry(Strict):
    """What the public registry record says about the study."""

    nct_id: str | None = Field(default=None, pattern=r"^NCT\d{8}$")
    title: Text
    brief_title: Text | None = None
    summary: Text | None = None
    sponsor: str
    phases: list[Phase] = Field(min_length=1)
    study_type: Literal["INTERVENTIONAL", "OBSERVATIONAL", "EXPANDED_ACCESS"] = "INTERVENTIONAL"
    allocation: str | None = None
    masking: str | None = None
    enrollment: int | None = Field(default=None, gt=0)
    enrollment_type: Literal["ESTIMATED", "ACTUAL"] = "ESTIMATED"
    status: str | None = None
    first_posted: dt.date | None = None
    conditions: list[str] = Field(default_factory=list)
    sites: list[Site] = Field(default_factory=list)
    url: str | None = None


class Population(Strict):
    min_age_years: int = Field(ge=0, le=120)
    max_age_years: int = Field(ge=0, le=120)
    sex: Literal["ALL", "FEMALE", "MALE"] = "ALL"
    healthy_volunteers: bool = False
    description: Text | None = None

    @model_validator(mode="after")
    def _age_range(self) -> Population:
        if self.min_age_years > self.max_age_years:
            raise ValueError(
                f"min_age_years ({self.min_age_years}) is above max_age_years "
                f"({self.max_age_years}); swap them"
            )
        return self


class Intervention(Sourced):
    name: str
    type: Literal["BIOLOGICAL", "DRUG", "DEVICE", "PROCEDURE", "RADIATION", "OTHER"]
    route: str | None = None
    description: Text | None = None


class Arm(Strict):
    id: Identifier
    label: Text
    type: Literal["EXPERIMENTAL", "ACTIVE_COMPARATOR", "PLACEBO_COMPARATOR", "OTHER"] = (
        "EXPERIMENTAL"
    )
    interventions: list[Intervention] = Field(min_length=1)


class DoseLevel(Sourced):
    """One dose level. ``per_kg`` doses are multiplied by the patient's baseline weight."""

    level: int = Field(ge=1)
    amount: float = Field(gt=0)
    unit: str = Field(min_length=1, description="unit of the amount, e.g. cells/kg or mg")
    basis: Literal["per_kg", "flat"] = "per_kg"
    per: Literal["infusion", "course"] = "infusion"
    label: str | None = None


class DoseRounding(Sourced):
    """How a computed per-patient dose is rounded before it is prepared."""

    significant_figures: int = Field(default=3, ge=1, le=6)


class Administrations(Sourced):
    count: int = Field(ge=1, le=100)
    interval_days: int = Field(ge=0, le=365)
    window_days: int = Field(default=0, ge=0, le=30, description="allowed +/- days around each")
    route: str | None = None


class Period(Sourced):
    min_weeks: int = Field(ge=0)
    max_weeks: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Period:
        if self.min_weeks > self.max_weeks:
            raise ValueError(f"min_weeks ({self.min_weeks}) is above max_weeks ({self.max_weeks})")
        return self


class Visit(Sourced):
    id: Identifier
    label: Text
    day: int = Field(description="days after the first infusion (day 0)")
    window_days: int = Field(default=0, ge=0)
    assessments: list[str] = Field(default_factory=list)


class Schedule(Strict):
    administrations: Administrations
    treatment_period: Period
    visits: list[Visit] = Field(default_factory=list)

    @field_validator("visits")
    @classmethod
    def _unique_visits(cls, visits: list[Visit]) -> list[Visit]:
        _require_unique([v.id for v in visits], "visit id")
        return visits


class DltRule(Strict):
    """One clause of the DLT definition: an AE matching every given condition is a candidate DLT."""

    min_grade: int = Field(ge=1, le=5)
    terms: list[str] = Field(default_factory=list, description="CTCAE terms; empty = any term")
    exclude_socs: list[str] = Field(default_factory=list, description="MedDRA SOCs not counted")
    exclude_terms: list[str] = Field(default_factory=list, description="CTCAE terms not counted")
    min_attribution: Literal["unrelated", "unlikely", "possible", "probable", "definite"] = (
        "possible"
    )


class DltDefinition(Sourced):
    text: Text
    rules: list[DltRule] = Field(min_length=1)


class Evaluability(Sourced):
    text: Text
    min_administrations: int = Field(default=1, ge=0)


class Dlt(Strict):
    window_days: int = Field(gt=0, le=365)
    window_starts: Literal["first_administration", "last_administration"] = "first_administration"
    definition: DltDefinition
    evaluability: Evaluability


class Design(Sourced):
    """The dose-finding design, by registry name, with its parameters (read by ``design``)."""

    name: str = Field(min_length=1)
    cohort_size: int = Field(default=3, ge=1, le=12)
    start_level: int = Field(default=1, ge=1)
    max_per_level: int | None = Field(default=None, ge=1)
    target_dlt_rate: float | None = Field(default=None, gt=0, lt=1)
    parameters: dict[str, Any] = Field(default_factory=dict)
    rules: Text | None = None


class Criterion(Strict):
    """One eligibility criterion. ``computable`` is False until it has a machine-readable form."""

    id: Identifier
    kind: Literal["inclusion", "exclusion"]
    text: Text
    registry_text: str | None = Field(default=None, description="the record's own wording")
    computable: bool = False
    note: str | None = None


class Endpoint(Sourced):
    id: Identifier
    kind: Literal["primary", "secondary", "exploratory"]
    measure: Text
    time_frame: str


class ConcomitantTreatment(Sourced):
    name: str
    text: Text


class Protocol(Strict):
    """A whole dose-escalation protocol."""

    schema_version: Literal[1] = 1
    id: Identifier
    version: str = Field(min_length=1)
    status: Literal["draft", "active"] = "active"
    registry: Registry
    population: Population
    arms: list[Arm] = Field(default_factory=list)
    standard_treatment: list[ConcomitantTreatment] = Field(default_factory=list)
    doses: list[DoseLevel] = Field(default_factory=list)
    dose_rounding: DoseRounding = DoseRounding()
    reference_weight_kg: float = Field(default=60.0, gt=0, le=300)
    schedule: Schedule | None = None
    dlt: Dlt | None = None
    design: Design | None = None
    max_sample_size: int | None = Field(default=None, gt=0)
    criteria: list[Criterion] = Field(default_factory=list)
    endpoints: list[Endpoint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Protocol:
        levels = [d.level for d in self.doses]
        if levels != list(range(1, len(levels) + 1)):
            raise ValueError(
                f"doses: levels must be numbered 1, 2, 3, ... in order; found {levels}"
            )
        amounts = [d.amount for d in self.doses]
        if any(b <= a for a, b in pairwise(amounts)):
            raise ValueError("doses: each level's amount must be larger than the level below it")
        _require_unique([c.id for c in self.criteria], "criteria id")
        _require_unique([e.id for e in self.endpoints], "endpoint id")
        if self.design is not None and self.design.start_level > max(len(self.doses), 1):
            raise ValueError(
                f"design.start_level is {self.design.start_level} but there are only "
                f"{len(self.doses)} dose levels"
            )
        if self.status == "active":
            missing = [
                name
                for name, value in (
                    ("doses", self.doses),
                    ("schedule", self.schedule),
                    ("dlt", self.dlt),
                    ("design", self.design),
                    ("max_sample_size", self.max_sample_size),
                    ("criteria", self.criteria),
                )
                if not value
            ]
            if missing:
                raise ValueError(
                    "an active protocol needs "
                    + ", ".join(missing)
                    + "; fill them in, or set status: draft while it is being written"
                )
        return self

    @property
    def inclusion(self) -> list[Criterion]:
        return [c for c in self.criteria if c.kind == "inclusion"]

    @property
    def exclusion(self) -> list[Criterion]:
        return [c for c in self.criteria if c.kind == "exclusion"]

    def assumptions(self) -> list[tuple[str, str]]:
        """Every value marked as an assumption, as (location, note) pairs, in file order."""
        found: list[tuple[str, str]] = []
        _collect_assumptions(self, "", found)
        return found


def _require_unique(values: list[str], what: str) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{what} {value!r} appears more than once; ids must be unique")
        seen.add(value)


def _collect_assumptions(node: object, path: str, found: list[tuple[str, str]]) -> None:
    if isinstance(node, Sourced) and node.assumption:
        found.append((path or "(protocol)", node.note or ""))
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            child = getattr(node, name)
            _collect_assumptions(child, f"{path}.{name}" if path else name, found)
    elif isinstance(node, list):
        for index, item in enumerate(node):
            _collect_assumptions(item, f"{path}[{index}]", found)
