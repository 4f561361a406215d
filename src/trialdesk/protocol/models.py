"""Pydantic models of a dose-escalation protocol: WHAT the trial is.

Every trial-specific number lives in a protocol file validated by these models, never in code.
A value that the public registry record does not state is marked with ``assumption: true`` and a
``note`` saying what was assumed and why, so that nobody mistakes it for a registered fact.
"""

from __future__ import annotations

import datetime as dt
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, field_validator, model_validator

from trialdesk.protocol.base import Sourced, Strict, Text
from trialdesk.protocol.criteria import (
    CODE_SYSTEMS,
    LAB_ANALYTES,
    CodeSystem,
    Expr,
    History,
    Judgement,
    MedicationCategory,
    facts_of,
    walk,
)
from trialdesk.protocol.prescreen import Prescreen

Identifier = Annotated[
    str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
]


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


class DoseTolerance(Sourced):
    """How far above the planned per-patient amount a recorded dose still is the assigned dose
    (cells are counted, not weighed); a larger amount is refused as a dose above the level."""

    above_fraction: float = Field(default=0.0, ge=0, lt=1)


class Safety(Sourced):
    """Safety reporting duties of the site."""

    sae_report_hours: int = Field(
        gt=0, le=720, description="hours from learning of an SAE to reporting it"
    )


class Conduct(Sourced):
    """How the site runs the trial day to day: identifiers it gives, how old a screening may be
    at enrolment, which consent form is in use."""

    screening_number_format: str = Field(
        default="S-{n:03d}", description="format of the number a pre-screen contact gets"
    )
    study_id_format: str = Field(
        default="P-{n:03d}", description="format of the study id given at enrolment (n from 1)"
    )
    screening_valid_days: int = Field(
        default=28, ge=0, le=365, description="days an eligible screening stays valid"
    )
    consent_form_version: str | None = Field(
        default=None, description="the consent form version in use; None accepts any"
    )

    @field_validator("screening_number_format", "study_id_format")
    @classmethod
    def _numbered(cls, value: str) -> str:
        try:
            first, second = value.format(n=1), value.format(n=2)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"{value!r} is not a usable format ({exc}); write e.g. 'RLI-{{n:03d}}'"
            ) from None
        if first == second or not 1 <= len(first) <= 20:
            raise ValueError(
                f"{value!r} must contain {{n}} (e.g. 'RLI-{{n:03d}}') and give at most 20 "
                "characters"
            )
        return value


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


class SubCriterion(Strict):
    """A part of a criterion evaluated on its own, with an id under its parent (``I4a.anc``)."""

    id: Identifier
    text: Text
    rule: Expr

    @property
    def facts(self) -> list[str]:
        """The patient facts this sub-criterion reads (see :func:`facts_of`)."""
        return facts_of(self.rule)


class Criterion(Strict):
    """One eligibility criterion, with its computable form when it has one.

    The computable form is either one ``rule`` or a list of ``sub`` criteria combined by
    ``combine`` (``all`` for inclusions such as I4a, ``any`` for exclusions such as E8). For an
    exclusion, a rule states the excluding condition: met means the patient is excluded.
    Whatever data cannot decide is a ``judgement`` node: the question goes to the investigator.
    """

    id: Identifier
    kind: Literal["inclusion", "exclusion"]
    text: Text
    registry_text: str | None = Field(default=None, description="the record's own wording")
    computable: bool = False
    note: str | None = None
    rule: Expr | None = None
    sub: list[SubCriterion] = Field(default_factory=list)
    combine: Literal["all", "any"] = "all"

    @model_validator(mode="before")
    @classmethod
    def _computable_by_default(cls, data: Any) -> Any:
        if isinstance(data, dict) and "computable" not in data:
            return {**data, "computable": bool(data.get("rule") or data.get("sub"))}
        return data

    @model_validator(mode="after")
    def _one_form(self) -> Criterion:
        if self.rule is not None and self.sub:
            raise ValueError(f"criterion {self.id}: give either a rule or sub-criteria, not both")
        has_form = self.rule is not None or bool(self.sub)
        if self.computable and not has_form:
            raise ValueError(
                f"criterion {self.id}: computable is true but there is no rule or sub-criteria; "
                "add one, or set computable: false"
            )
        if has_form and not self.computable:
            raise ValueError(f"criterion {self.id}: has a rule, so computable must be true")
        for item in self.sub:
            if not item.id.startswith(f"{self.id}."):
                raise ValueError(
                    f"sub-criterion {item.id} of {self.id}: its id must start with '{self.id}.'"
                )
        _require_unique([item.id for item in self.sub], "sub-criterion id")
        return self

    @property
    def rules(self) -> list[Expr]:
        """Every rule of the criterion (its own, or its sub-criteria's)."""
        return [self.rule] if self.rule is not None else [item.rule for item in self.sub]

    @property
    def facts(self) -> list[str]:
        """The patient facts the criterion needs, in first-use order."""
        found: dict[str, None] = {}
        for rule in self.rules:
            found.update(dict.fromkeys(facts_of(rule)))
        return list(found)

    @property
    def ids(self) -> list[str]:
        """This criterion's id followed by its sub-criteria's ids."""
        return [self.id, *(item.id for item in self.sub)]


class CodeSet(Sourced):
    """Codes that stand for one clinical concept, per code system.

    ICD-10 and ATC codes match by prefix (``I21`` covers ``I21.4``); other systems exactly.
    ``category`` makes the set classify medications (e.g. ATC B01AA as ``anticoagulant``).
    """

    id: Identifier
    text: Text
    codes: dict[CodeSystem, list[str]] = Field(min_length=1)
    category: MedicationCategory | None = None

    @field_validator("codes")
    @classmethod
    def _non_empty(cls, codes: dict[CodeSystem, list[str]]) -> dict[CodeSystem, list[str]]:
        for system, values in codes.items():
            if not values or not all(str(v).strip() for v in values):
                raise ValueError(
                    f"code system {system} lists no codes; add codes or remove it "
                    f"(systems: {', '.join(CODE_SYSTEMS)})"
                )
        return codes


class SampleRule(Strict):
    """A laboratory sample only counts when none of ``categories`` was given in the
    ``days_before`` days before it (the day of the sample included, as the order is unknown)."""

    analytes: list[str] = Field(min_length=1)
    categories: list[MedicationCategory] = Field(min_length=1)
    days_before: int = Field(ge=1, le=365)
    text: Text

    @field_validator("analytes")
    @classmethod
    def _labs(cls, analytes: list[str]) -> list[str]:
        unknown = [a for a in analytes if a not in LAB_ANALYTES]
        if unknown:
            raise ValueError(
                f"unknown laboratory analytes {unknown}; use some of: {', '.join(LAB_ANALYTES)}"
            )
        return analytes


class ScreeningRules(Sourced):
    """Protocol-wide screening rules: how old a laboratory result may be, which treatments
    invalidate a sample, and which body weight the Cockcroft-Gault equation uses."""

    labs_within_days: int = Field(default=7, ge=0, le=365)
    sample_rules: list[SampleRule] = Field(default_factory=list)
    crcl_weight: Literal["actual", "ideal", "adjusted"] = "actual"


class Tension(Strict):
    """Criteria that contradict each other for some patients (I4c admits patients on
    anticoagulants, E10 excludes them). When ``when`` holds, a failing result of a ``hold``
    (sub-)criterion is not counted as failing: the verdict is ``needs_review`` instead."""

    id: Identifier
    between: list[Identifier] = Field(min_length=2)
    when: Expr
    hold: list[Identifier] = Field(min_length=1)
    text: Text


class Endpoint(Sourced):
    """An outcome measure. ``measurements`` names the stored follow-up codes it is computed
    from (e.g. ``spo2``, ``lab:crp``); empty when it comes from other records (AEs, DLTs,
    decisions, medications)."""

    id: Identifier
    kind: Literal["primary", "secondary", "exploratory"]
    measure: Text
    time_frame: str
    measurements: list[str] = Field(default_factory=list)


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
    dose_tolerance: DoseTolerance = DoseTolerance()
    reference_weight_kg: float = Field(default=60.0, gt=0, le=300)
    schedule: Schedule | None = None
    dlt: Dlt | None = None
    safety: Safety | None = None
    conduct: Conduct = Conduct()
    design: Design | None = None
    max_sample_size: int | None = Field(default=None, gt=0)
    criteria: list[Criterion] = Field(default_factory=list)
    code_sets: list[CodeSet] = Field(default_factory=list)
    screening: ScreeningRules = ScreeningRules()
    tensions: list[Tension] = Field(default_factory=list)
    endpoints: list[Endpoint] = Field(default_factory=list)
    prescreen: Prescreen | None = None

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
        _require_unique([i for c in self.criteria for i in c.ids], "criteria id")
        _check_references(self)
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


def _check_references(protocol: Protocol) -> None:
    """Every code set a rule names exists, judgement ids are unique, tensions name criteria."""
    code_sets = {c.id for c in protocol.code_sets}
    _require_unique([c.id for c in protocol.code_sets], "code set id")
    rules = [rule for c in protocol.criteria for rule in c.rules]
    rules += [t.when for t in protocol.tensions]
    judgements: list[str] = []
    for rule in rules:
        for node in walk(rule):
            if isinstance(node, History) and node.code_set not in code_sets:
                raise ValueError(
                    f"a rule uses code set {node.code_set!r}, which code_sets does not declare; "
                    f"declared: {', '.join(sorted(code_sets)) or 'none'}"
                )
            if isinstance(node, Judgement):
                judgements.append(node.id)
    _require_unique(judgements, "judgement id")
    ids = {i for c in protocol.criteria for i in c.ids}
    _require_unique([t.id for t in protocol.tensions], "tension id")
    for tension in protocol.tensions:
        unknown = [i for i in (*tension.between, *tension.hold) if i not in ids]
        if unknown:
            raise ValueError(f"tension {tension.id} names unknown criteria {unknown}")
    if protocol.prescreen is not None:
        unknown = [i for i in protocol.prescreen.criteria_ids() if i not in ids]
        if unknown:
            raise ValueError(f"prescreen names unknown criteria {unknown}")


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
