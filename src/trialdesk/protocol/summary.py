"""A readable summary of a protocol: `trialdesk protocol show`, the home page and the API."""

from __future__ import annotations

from dataclasses import dataclass, field

from trialdesk.protocol.dosing import dose_unit, format_scientific, patient_dose
from trialdesk.protocol.models import Criterion, DoseLevel, Protocol


@dataclass(frozen=True)
class DoseRow:
    level: int
    per_unit: str
    for_weight: str
    assumption: bool
    note: str


@dataclass(frozen=True)
class CriterionRow:
    id: str
    text: str
    computable: bool


@dataclass(frozen=True)
class ProtocolSummary:
    id: str
    version: str
    title: str
    summary: str
    facts: list[tuple[str, str]]
    weight_kg: float
    doses: list[DoseRow]
    schedule: list[str]
    design: list[str]
    dlt: list[str]
    inclusion: list[CriterionRow]
    exclusion: list[CriterionRow]
    assumptions: list[tuple[str, str]] = field(default_factory=list)


def per_unit_text(dose: DoseLevel) -> str:
    """A dose level's amount and what it is per, e.g. "3.3×10^5 cells/kg per infusion"."""
    return f"{format_scientific(dose.amount)} {dose.unit} per {dose.per}"


def summarise(
    protocol: Protocol, *, weight_kg: float | None = None, lang: str = "en"
) -> ProtocolSummary:
    """Everything a newcomer needs to read about the protocol, in one structure."""
    weight = weight_kg if weight_kg is not None else protocol.reference_weight_kg
    reg = protocol.registry
    facts = [
        ("Trial ID", reg.nct_id or protocol.id),
        ("Protocol version", protocol.version),
        ("Phase", ", ".join(p.replace("PHASE", "Phase ") for p in reg.phases)),
        ("Sponsor", reg.sponsor),
        (
            "Enrolment",
            f"{reg.enrollment} ({reg.enrollment_type.lower()})" if reg.enrollment else "not stated",
        ),
        (
            "Ages",
            f"{protocol.population.min_age_years} to {protocol.population.max_age_years} years",
        ),
        ("Sex", protocol.population.sex.lower()),
        ("Sites", "; ".join(", ".join(filter(None, (s.name, s.city))) for s in reg.sites) or "—"),
    ]
    if reg.status:
        facts.append(("Status", reg.status.replace("_", " ").lower()))
    doses = [
        DoseRow(
            level=d.level,
            per_unit=per_unit_text(d),
            for_weight=_dose_text(patient_dose(d, weight, protocol.dose_rounding), dose_unit(d)),
            assumption=d.assumption,
            note=d.note or "",
        )
        for d in protocol.doses
    ]
    schedule: list[str] = []
    if protocol.schedule is not None:
        adm = protocol.schedule.administrations
        period = protocol.schedule.treatment_period
        window = (
            f" (window ±{adm.window_days} day{'s' if adm.window_days != 1 else ''})"
            if adm.window_days
            else ""
        )
        route = f"{adm.route} " if adm.route else ""
        schedule.append(
            f"{adm.count} {route}administrations, one every {adm.interval_days} days{window}"
        )
        schedule.append(f"Treatment period {period.min_weeks} to {period.max_weeks} weeks")
        schedule.extend(
            f"{v.label.get(lang)}: day {v.day}" + (f" ±{v.window_days}" if v.window_days else "")
            for v in protocol.schedule.visits
        )
    design: list[str] = []
    if protocol.design is not None:
        d = protocol.design
        design.append(f"{d.name}, cohorts of {d.cohort_size}, starting at level {d.start_level}")
        if d.max_per_level:
            design.append(f"At most {d.max_per_level} patients per level")
        if protocol.max_sample_size:
            design.append(f"Maximum sample size {protocol.max_sample_size}")
        if d.rules is not None:
            design.append(d.rules.get(lang))
    dlt: list[str] = []
    if protocol.dlt is not None:
        start = protocol.dlt.window_starts.replace("_", " ")
        dlt.append(f"DLT window {protocol.dlt.window_days} days from the {start}")
        dlt.append(protocol.dlt.definition.text.get(lang))
        dlt.append(protocol.dlt.evaluability.text.get(lang))
    return ProtocolSummary(
        id=protocol.id,
        version=protocol.version,
        title=reg.title.get(lang),
        summary=reg.summary.get(lang) if reg.summary else "",
        facts=facts,
        weight_kg=weight,
        doses=doses,
        schedule=schedule,
        design=design,
        dlt=dlt,
        inclusion=[_row(c, lang) for c in protocol.inclusion],
        exclusion=[_row(c, lang) for c in protocol.exclusion],
        assumptions=protocol.assumptions(),
    )


def _row(criterion: Criterion, lang: str) -> CriterionRow:
    return CriterionRow(
        id=criterion.id, text=criterion.text.get(lang), computable=criterion.computable
    )


def _dose_text(amount: float, unit: str) -> str:
    return f"{format_scientific(amount)} {unit}"
