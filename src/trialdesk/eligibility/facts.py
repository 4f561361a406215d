"""Patient facts read from a screening record under the protocol's screening rules.

A fact is either a value with its evidence, or :class:`Missing` with a sentence saying what to
supply. Laboratory results obey the protocol's time rules: the latest result on or before the
screening date is used; it is missing when older than ``labs_within_days``, or when a sample
rule's treatment (growth factor, transfusion) was given in the days before the sample, because
such a value says nothing about the patient's own marrow.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from trialdesk.clinical import (
    Measurement,
    age_in_completed_years,
    analyte,
    cockcroft_gault,
    to_canonical,
)
from trialdesk.clinical.body_weight import adjusted_body_weight, ideal_body_weight
from trialdesk.eligibility.record import (
    HistoryEntry,
    JudgementAnswer,
    LabResult,
    MedicationEntry,
    ScreeningRecord,
)
from trialdesk.protocol.criteria import HIERARCHICAL_SYSTEMS, LAB_ANALYTES
from trialdesk.protocol.models import CodeSet, Protocol, SampleRule

__all__ = ["Facts", "Missing", "Number", "significant"]


def significant(value: float, digits: int = 12) -> float:
    """Round away floating-point noise so that thresholds compare exactly (60.0, not 59.99...)."""
    return float(f"{value:.{digits}g}")


def _shown(value: float, unit: str) -> str:
    return f"{value:g}" if unit in ("1", "") else f"{value:g} {unit}"


@dataclass(frozen=True)
class Missing:
    """A fact the record does not supply (usably); ``reason`` says what to supply."""

    fact: str
    reason: str
    evidence: dict[str, Any] = field(default_factory=dict)
    parts: tuple[str, ...] = ()
    """The underlying missing facts when a derived fact (``crcl``) cannot be computed."""


@dataclass(frozen=True)
class Number:
    """A numeric fact in its canonical unit, with its evidence and a short description."""

    fact: str
    value: float
    unit: str
    text: str
    evidence: dict[str, Any]
    lab: LabResult | None = None


def _normalise_code(system: str, code: str) -> str:
    text = code.strip().upper()
    return text.replace(".", "") if system in HIERARCHICAL_SYSTEMS else text


def code_matches(code_set: CodeSet, system: str, code: str) -> bool:
    """Whether a record's (system, code) belongs to the code set (prefix for ICD-10 and ATC)."""
    wanted = code_set.codes.get(system)  # type: ignore[call-overload]
    if not wanted:
        return False
    given = _normalise_code(system, code)
    for entry in wanted:
        key = _normalise_code(system, entry)
        if given == key or (system in HIERARCHICAL_SYSTEMS and given.startswith(key)):
            return True
    return False


class Facts:
    """Read-only view of one record's facts as of the screening date ``on``."""

    def __init__(self, protocol: Protocol, record: ScreeningRecord, on: dt.date) -> None:
        self.protocol = protocol
        self.record = record
        self.on = on
        self._code_sets = {c.id: c for c in protocol.code_sets}

    # -- numbers ---------------------------------------------------------------------------
    def number(self, name: str) -> Number | Missing:
        """A numeric fact by name: a laboratory analyte, age, weight, height, ECOG, LVEF,
        pneumonitis grade or the Cockcroft-Gault creatinine clearance ``crcl``."""
        if name in LAB_ANALYTES:
            return self.lab(name)
        if name == "age":
            return self._age()
        if name in ("weight", "height"):
            return self._body(name)
        if name == "crcl":
            return self._crcl()
        if name == "ecog":
            return self._plain("ecog", self.record.ecog, "1", "ECOG performance status")
        if name == "lvef":
            return self._plain("lvef", self.record.lvef_percent, "%", "LVEF")
        if name == "pneumonitis_grade":
            return self._plain(
                "pneumonitis_grade",
                self.record.pneumonitis_grade,
                "1",
                "radiation pneumonitis grade (CTCAE v5.0)",
            )
        raise KeyError(f"no numeric fact {name!r}")

    def _plain(self, name: str, value: float | None, unit: str, label: str) -> Number | Missing:
        if value is None:
            return Missing(name, f"the record has no {label}")
        text = f"{label} {_shown(float(value), unit)}"
        return Number(name, float(value), unit, text, {name: {"value": value, "unit": unit}})

    def _age(self) -> Number | Missing:
        if self.record.birth_date is None:
            return Missing("age", "the record has no birth date")
        years = age_in_completed_years(self.record.birth_date, self.on)
        evidence = {
            "age": {
                "value": years,
                "unit": "years",
                "birth_date": self.record.birth_date.isoformat(),
                "on": self.on.isoformat(),
                "rule": "completed years at the screening date",
            }
        }
        return Number("age", float(years), "years", f"age {years} years", evidence)

    def _body(self, name: str) -> Number | Missing:
        body = getattr(self.record, name)
        if body is None:
            return Missing(name, f"the record has no body {name}")
        measured = to_canonical(name, body.value, body.unit, field=name)
        facts: dict[str, Any] = {"value": measured.value, "unit": measured.unit}
        if measured.unit != body.unit:
            facts["reported"] = _shown(body.value, body.unit)
        if body.measured_on is not None:
            facts["measured_on"] = body.measured_on.isoformat()
        return Number(name, measured.value, measured.unit, measured.describe(), {name: facts})

    def _crcl(self) -> Number | Missing:
        parts = {
            "age": self._age(),
            "weight": self._body("weight"),
            "creatinine": self.lab("creatinine"),
        }
        missing = [p for p in parts.values() if isinstance(p, Missing)]
        if self.record.sex is None:
            missing.append(Missing("sex", "the record has no sex"))
        basis = self.protocol.screening.crcl_weight
        height = self._body("height") if basis != "actual" else None
        if isinstance(height, Missing):
            missing.append(
                Missing("height", f"the protocol uses {basis} body weight, which needs height")
            )
        if missing:
            why = "; ".join(m.reason for m in missing)
            return Missing(
                "crcl",
                f"creatinine clearance cannot be computed: {why}",
                {k: v for m in missing for k, v in m.evidence.items()},
                tuple(m.fact for m in missing),
            )
        age, weight, creatinine = (parts[k] for k in ("age", "weight", "creatinine"))
        assert isinstance(age, Number) and isinstance(weight, Number)
        assert isinstance(creatinine, Number) and self.record.sex is not None
        weight_kg = weight.value
        if isinstance(height, Number) and basis == "ideal":
            weight_kg = significant(
                ideal_body_weight(height_cm=height.value, sex=self.record.sex), 4
            )
        elif isinstance(height, Number) and basis == "adjusted":
            weight_kg = significant(
                adjusted_body_weight(
                    weight_kg=weight.value, height_cm=height.value, sex=self.record.sex
                ),
                4,
            )
        clearance = cockcroft_gault(
            age_years=age.value,
            weight_kg=weight_kg,
            creatinine_mg_dl=creatinine.value,
            sex=self.record.sex,
        )
        value = significant(clearance.ml_per_min)
        evidence: dict[str, Any] = {
            **age.evidence,
            **weight.evidence,
            **creatinine.evidence,
            "sex": self.record.sex,
            "crcl": {
                "value": round(value, 1),
                "unit": "mL/min",
                "formula": "Cockcroft-Gault",
                "working": clearance.explain(),
                "age_years": clearance.age_years,
                "weight_kg": clearance.weight_kg,
                "weight_basis": basis,
                "creatinine_mg_dl": clearance.creatinine_mg_dl,
                "sex_factor": clearance.sex_factor,
            },
        }
        text = f"CrCl {value:.1f} mL/min ({clearance.explain()})"
        return Number("crcl", value, "mL/min", text, evidence)

    # -- laboratory results ----------------------------------------------------------------
    def lab(self, code: str) -> Number | Missing:
        """The usable latest result of ``code`` under the protocol's time rules."""
        label = analyte(code).name_en
        results = [r for r in self.record.labs if r.analyte == code and r.taken_on <= self.on]
        if not results:
            return Missing(code, f"the record has no {label} result")
        latest = max(enumerate(results), key=lambda pair: (pair[1].taken_on, pair[0]))[1]
        measured = latest.measurement()
        days = (self.on - latest.taken_on).days
        facts: dict[str, Any] = {
            "value": measured.value,
            "unit": measured.unit,
            "taken_on": latest.taken_on.isoformat(),
            "days_before_screening": days,
        }
        if measured.unit != latest.unit:
            facts["reported"] = _shown(latest.value, latest.unit)
        if latest.uln is not None:
            facts["uln"] = latest.uln
            facts["uln_unit"] = latest.uln_unit or latest.unit
        evidence = {code: facts}
        limit = self.protocol.screening.labs_within_days
        if days > limit:
            facts["limit_days"] = limit
            return Missing(
                code,
                f"the latest {label} ({latest.taken_on}) is {days} days old; the protocol needs "
                f"a result from the {limit} days before screening",
                evidence,
            )
        for rule in self.protocol.screening.sample_rules:
            if code not in rule.analytes:
                continue
            given = self._treatments_before(latest.taken_on, rule)
            if given:
                facts["treatments_before_sample"] = given
                names = ", ".join(f"{g['category']} on {g['last_given']}" for g in given)
                return Missing(
                    code,
                    f"the {label} sample of {latest.taken_on} follows {names}: "
                    f"{rule.text.en[0].lower()}{rule.text.en[1:].rstrip('.')}; "
                    f"take a new sample",
                    evidence,
                )
        return Number(
            code, measured.value, measured.unit, _describe(label, measured), evidence, latest
        )

    def _treatments_before(self, taken_on: dt.date, rule: SampleRule) -> list[dict[str, Any]]:
        start = taken_on - dt.timedelta(days=rule.days_before)
        found: list[dict[str, Any]] = []
        for category in rule.categories:
            for entry in self.medications(category):
                last = min(entry.end or taken_on, taken_on)
                if entry.start <= taken_on and last >= start:
                    found.append(
                        {
                            "category": category,
                            "display": entry.display or entry.code or category,
                            "start": entry.start.isoformat(),
                            "last_given": last.isoformat(),
                            "days_before_sample": (taken_on - last).days,
                        }
                    )
        return found

    # -- categories, dates, history, medications, answers ----------------------------------
    def category(self, name: str) -> str | bool | Missing:
        """``sex``, ``ecg`` or a yes/no fact; pregnancy and lactation are false for a man."""
        value = getattr(self.record, name)
        if value is None and name in ("pregnant", "lactating") and self.record.sex == "male":
            return False
        if value is None:
            return Missing(name, f"the record does not say {name.replace('_', ' ')}")
        return bool(value) if isinstance(value, bool) else str(value)

    def date(self, name: str) -> dt.date | Missing:
        value = getattr(self.record, name)
        if value is None:
            return Missing(name, f"the record has no {name.replace('_', ' ')}")
        assert isinstance(value, dt.date)
        return value

    def code_set(self, code_set_id: str) -> CodeSet:
        return self._code_sets[code_set_id]

    def history(self, code_set_id: str) -> list[tuple[int, HistoryEntry]]:
        """Entries of the code set that started on or before the screening date."""
        code_set = self._code_sets[code_set_id]
        return [
            (i, entry)
            for i, entry in enumerate(self.record.history)
            if code_matches(code_set, entry.system, entry.code)
            and (entry.onset is None or entry.onset <= self.on)
        ]

    def medications(self, category: str) -> list[MedicationEntry]:
        """Entries of the category, by their own category or a code set declared for it."""
        sets = [c for c in self.protocol.code_sets if c.category == category]
        return [
            entry
            for entry in self.record.medications
            if entry.category == category
            or (
                entry.system is not None
                and entry.code is not None
                and any(code_matches(c, entry.system, entry.code) for c in sets)
            )
        ]

    def judgement(self, judgement_id: str) -> JudgementAnswer | None:
        return self.record.judgements.get(judgement_id)


def _describe(label: str, measured: Measurement) -> str:
    return f"{label} {measured.describe()}"
