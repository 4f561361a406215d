"""The criteria language: eligibility rules as a small typed expression tree, never Python code.

A rule is a tree of nodes told apart by ``kind``:

- ``compare``: a numeric patient fact against a threshold in a unit (``anc >= 1.5 10^9/L``);
- ``uln``: a laboratory result as a multiple of its own laboratory's ULN (``alt <= 2.5 x ULN``);
- ``equals``: a categorical fact (``sex == female``, ``pregnant == true``);
- ``elapsed``: time from a dated fact to the screening date (``consent_signed_on >= 0 days``);
- ``history``: a coded condition or procedure from a protocol code set, with onset and
  activity windows (``myocardial infarction with onset within 6 months``);
- ``medication``: a medication of a category (anticoagulant, growth factor, transfusion);
- ``judgement``: a question only the investigator can answer (yes = the node holds);
- ``all`` / ``any`` / ``not``: combinations.

Evaluation is tri-state (see :mod:`trialdesk.eligibility`): a node is met, not met, unknown (a
fact is missing) or needs confirmation (a judgement is unanswered). Time windows count calendar
units back from the screening date: "within 6 months" means on or after the same day 6 months
earlier (the end of a shorter month is clamped: 31 August minus 6 months is 28/29 February).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

from pydantic import Field, model_validator

from trialdesk.clinical import ANALYTES, analyte, convert
from trialdesk.clinical.errors import ClinicalError
from trialdesk.protocol.base import Strict, Text

__all__ = [
    "BOOLEAN_FACTS",
    "CATEGORY_FACTS",
    "CODE_SYSTEMS",
    "DATE_FACTS",
    "HIERARCHICAL_SYSTEMS",
    "LAB_ANALYTES",
    "MEDICATION_CATEGORIES",
    "NUMERIC_FACTS",
    "AllOf",
    "AnyOf",
    "CodeSystem",
    "Compare",
    "Elapsed",
    "Equals",
    "Expr",
    "History",
    "Interval",
    "Judgement",
    "Medication",
    "MedicationCategory",
    "Not",
    "Op",
    "Period",
    "TimeUnit",
    "UlnCompare",
    "facts_of",
    "walk",
]

Op = Literal["<", "<=", ">", ">="]
TimeUnit = Literal["days", "months", "years"]
CodeSystem = Literal["snomed", "icd10", "atc", "rxnorm", "loinc", "local"]
MedicationCategory = Literal["anticoagulant", "growth_factor", "transfusion"]

CODE_SYSTEMS: tuple[str, ...] = ("snomed", "icd10", "atc", "rxnorm", "loinc", "local")
MEDICATION_CATEGORIES: tuple[str, ...] = ("anticoagulant", "growth_factor", "transfusion")
HIERARCHICAL_SYSTEMS: frozenset[str] = frozenset({"icd10", "atc"})
"""Code systems whose codes nest by prefix: code-set entry ``I21`` matches a record's ``I21.4``."""

NOT_LABS = frozenset({"weight", "height", "age", "ecog", "lvef"})
LAB_ANALYTES: tuple[str, ...] = tuple(a.code for a in ANALYTES if a.code not in NOT_LABS)
"""Analytes reported as laboratory results (the record's ``labs``), in catalogue order."""

_ANALYTE_CODES = frozenset(a.code for a in ANALYTES)

NUMERIC_FACTS: dict[str, str] = {
    **{a.code: a.canonical_unit for a in ANALYTES},
    "crcl": "mL/min",
    "pneumonitis_grade": "1",
}
"""Numeric facts a ``compare`` node may name, with the canonical unit each is evaluated in:
every analyte of :mod:`trialdesk.clinical.analytes` (labs, weight, height, age in completed
years, ECOG, LVEF), the Cockcroft-Gault creatinine clearance and the CTCAE pneumonitis grade."""

CATEGORY_FACTS: dict[str, tuple[str, ...]] = {
    "sex": ("female", "male"),
    "ecg": ("normal", "abnormal"),
}
BOOLEAN_FACTS: tuple[str, ...] = (
    "pregnant",
    "lactating",
    "childbearing_potential",
    "will_use_contraception",
)
DATE_FACTS: tuple[str, ...] = ("consent_signed_on",)


class Period(Strict):
    """A length of time counted back from the screening date in calendar units."""

    amount: int = Field(ge=0, le=1200)
    unit: TimeUnit

    def describe(self) -> str:
        unit = self.unit[:-1] if self.amount == 1 else self.unit
        return f"{self.amount} {unit}"


class Interval(Period):
    """Elapsed time from a date to the screening date compared with ``amount unit``."""

    op: Op

    def describe(self) -> str:
        return f"{self.op} {super().describe()}"


class Compare(Strict):
    """A numeric fact against a threshold given in ``unit`` (default: the fact's own unit)."""

    kind: Literal["compare"]
    fact: str
    op: Op
    value: float
    unit: str | None = None

    @model_validator(mode="after")
    def _known(self) -> Compare:
        if self.fact not in NUMERIC_FACTS:
            raise ValueError(
                f"compare: unknown fact {self.fact!r}; use one of: {', '.join(NUMERIC_FACTS)}"
            )
        if self.unit is not None:
            molar = analyte(self.fact).molar_mass_g_per_mol if self.fact in _ANALYTE_CODES else None
            try:
                convert(
                    self.value,
                    self.unit,
                    NUMERIC_FACTS[self.fact],
                    field=f"{self.fact} threshold",
                    molar_mass_g_per_mol=molar,
                )
            except ClinicalError as exc:
                raise ValueError(str(exc)) from None
        return self


class UlnCompare(Strict):
    """A laboratory result divided by its laboratory's ULN, against ``multiple``."""

    kind: Literal["uln"]
    analyte: str
    op: Op
    multiple: float = Field(gt=0)

    @model_validator(mode="after")
    def _known(self) -> UlnCompare:
        if self.analyte not in LAB_ANALYTES:
            raise ValueError(
                f"uln: unknown laboratory analyte {self.analyte!r}; "
                f"use one of: {', '.join(LAB_ANALYTES)}"
            )
        return self


class Equals(Strict):
    """A categorical (``sex``, ``ecg``) or yes/no (``pregnant``, ...) fact equals ``value``."""

    kind: Literal["equals"]
    fact: str
    value: bool | str

    @model_validator(mode="after")
    def _known(self) -> Equals:
        if self.fact in CATEGORY_FACTS:
            allowed = CATEGORY_FACTS[self.fact]
            if self.value not in allowed:
                raise ValueError(f"equals: {self.fact} is one of {', '.join(allowed)}")
        elif self.fact in BOOLEAN_FACTS:
            if not isinstance(self.value, bool):
                raise ValueError(f"equals: {self.fact} is true or false")
        else:
            known = [*CATEGORY_FACTS, *BOOLEAN_FACTS]
            raise ValueError(f"equals: unknown fact {self.fact!r}; use one of: {', '.join(known)}")
        return self


class Elapsed(Strict):
    """Time from a dated fact (``consent_signed_on``) to the screening date."""

    kind: Literal["elapsed"]
    since: str
    interval: Interval

    @model_validator(mode="after")
    def _known(self) -> Elapsed:
        if self.since not in DATE_FACTS:
            raise ValueError(
                f"elapsed: unknown date fact {self.since!r}; use one of: {', '.join(DATE_FACTS)}"
            )
        return self


class History(Strict):
    """A coded history entry (condition or procedure) from the protocol code set ``code_set``.

    An entry counts when it started on or before the screening date and, if given:
    ``onset`` - the time from its onset to screening satisfies the interval (events such as a
    myocardial infarction); ``active_within`` - it was still going on at some point in that
    period before screening (states such as heart failure); ``active_at_screening`` - it has not
    abated before the screening date. ``absent`` says what no matching entry means: ``not_met``
    (the record lists the patient's history) or ``unknown`` (a fact the record must supply).
    """

    kind: Literal["history"]
    code_set: str
    onset: Interval | None = None
    active_within: Period | None = None
    active_at_screening: bool = False
    absent: Literal["not_met", "unknown"] = "not_met"


class Medication(Strict):
    """A medication (or transfusion) of ``category``: active at screening, or given within a
    period before it. A record's entry is of the category when it says so or when its code is in
    a protocol code set declared for that category."""

    kind: Literal["medication"]
    category: MedicationCategory
    active_at_screening: bool = True
    within: Period | None = None


class Judgement(Strict):
    """A question for the investigator; the answer ``yes`` makes the node met."""

    kind: Literal["judgement"]
    id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
    question: Text


class AllOf(Strict):
    kind: Literal["all"]
    of: list[Expr] = Field(min_length=1)


class AnyOf(Strict):
    kind: Literal["any"]
    of: list[Expr] = Field(min_length=1)


class Not(Strict):
    kind: Literal["not"]
    of: Expr


Expr = Annotated[
    Compare
    | UlnCompare
    | Equals
    | Elapsed
    | History
    | Medication
    | Judgement
    | AllOf
    | AnyOf
    | Not,
    Field(discriminator="kind"),
]
"""One node of a criterion's rule."""

AllOf.model_rebuild()
AnyOf.model_rebuild()
Not.model_rebuild()


def walk(expr: Expr) -> Iterator[Expr]:
    """Every node of ``expr``, depth first, the node itself first."""
    yield expr
    if isinstance(expr, AllOf | AnyOf):
        for child in expr.of:
            yield from walk(child)
    elif isinstance(expr, Not):
        yield from walk(expr.of)


def facts_of(expr: Expr) -> list[str]:
    """The patient facts a rule reads, in first-use order.

    Names are those of :class:`~trialdesk.eligibility.ScreeningRecord` facts: a numeric or
    categorical fact (``anc``, ``crcl``, ``sex``), ``history.<code set>``,
    ``medications.<category>`` and ``judgements.<id>``. ``crcl`` also needs its inputs
    (``age``, ``weight``, ``creatinine``, ``sex``), which are listed with it.
    """
    found: dict[str, None] = {}
    for node in walk(expr):
        if isinstance(node, Compare):
            if node.fact == "crcl":
                for name in ("crcl", "age", "weight", "creatinine", "sex"):
                    found[name] = None
            else:
                found[node.fact] = None
        elif isinstance(node, UlnCompare):
            found[node.analyte] = None
        elif isinstance(node, Equals):
            found[node.fact] = None
        elif isinstance(node, Elapsed):
            found[node.since] = None
        elif isinstance(node, History):
            found[f"history.{node.code_set}"] = None
        elif isinstance(node, Medication):
            found[f"medications.{node.category}"] = None
        elif isinstance(node, Judgement):
            found[f"judgements.{node.id}"] = None
    return list(found)
