"""The flat column layout of a patient table: one row per patient, one column per fact.

The layout is derived from the protocol, so a table only needs the facts its criteria read.
Column names follow one scheme (documented in ``docs/screening-batch.md``):

- ``patient_id``, ``screening_date``; scalars under their record names (``birth_date``,
  ``sex``, ``ecog``, ``lvef_percent``, ``ecg``, ``pneumonitis_grade``, ``consent_signed_on``,
  ``pregnant``, ...);
- body measurements ``weight_value`` / ``weight_unit`` (``height_...`` likewise);
- one laboratory result per analyte: ``<analyte>_value``, ``_unit``, ``_taken_on``, ``_uln``,
  ``_uln_unit`` (``anc_value``, ``creatinine_unit``, ...);
- coded history per protocol code set: ``history_<set>`` (true when the record holds an entry
  of the set), ``history_<set>_onset``, ``history_<set>_abatement``;
- medications per category: ``medication_<category>_start`` and ``_end`` (one course; give the
  most recent);
- investigator answers: ``judgement_<id>`` (``yes`` or ``no``; empty while unanswered).

Unit columns may be left out: the values are then in the analyte's canonical unit (for a ULN:
the value's unit). Every other column of the layout must be present, even if empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from trialdesk.clinical import analyte
from trialdesk.protocol.criteria import (
    BOOLEAN_FACTS,
    CATEGORY_FACTS,
    DATE_FACTS,
    LAB_ANALYTES,
    Expr,
    UlnCompare,
    facts_of,
    walk,
)
from trialdesk.protocol.models import Protocol

__all__ = ["Column", "ColumnType", "Layout", "layout_for"]

ColumnType = Literal["id", "date", "number", "integer", "boolean", "text", "answer", "unit"]

PATIENT_ID = "patient_id"
SCREENING_DATE = "screening_date"
BODY = ("weight", "height")
INTEGER_FACTS = {"ecog": "ecog", "pneumonitis_grade": "pneumonitis_grade"}
NUMBER_FACTS = {"lvef": "lvef_percent"}


@dataclass(frozen=True)
class Column:
    """One column: its name, what its cells hold, whether it may be left out, and its meaning."""

    name: str
    type: ColumnType
    meaning: str
    optional: bool = False
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class Layout:
    """The columns a protocol needs, grouped by the part of the record they describe."""

    columns: tuple[Column, ...]
    labs: tuple[str, ...]
    body: tuple[str, ...]
    code_sets: tuple[str, ...]
    categories: tuple[str, ...]
    judgements: tuple[str, ...]
    scalars: tuple[str, ...]

    def column(self, name: str) -> Column:
        for item in self.columns:
            if item.name == name:
                return item
        raise KeyError(name)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(item.name for item in self.columns)


def lab_columns(code: str) -> dict[str, str]:
    """Column names of one laboratory result, by record field."""
    return {field: f"{code}_{field}" for field in ("value", "unit", "taken_on", "uln", "uln_unit")}


def history_columns(code_set: str) -> dict[str, str]:
    return {
        "present": f"history_{code_set}",
        "onset": f"history_{code_set}_onset",
        "abatement": f"history_{code_set}_abatement",
    }


def medication_columns(category: str) -> dict[str, str]:
    return {"start": f"medication_{category}_start", "end": f"medication_{category}_end"}


def judgement_column(judgement_id: str) -> str:
    return f"judgement_{judgement_id}"


def _needed_facts(protocol: Protocol) -> list[str]:
    rules: list[Expr] = [rule for c in protocol.criteria for rule in c.rules]
    rules += [t.when for t in protocol.tensions]
    found: dict[str, None] = {}
    for rule in rules:
        found.update(dict.fromkeys(facts_of(rule)))
    for sample_rule in protocol.screening.sample_rules:
        found.update(dict.fromkeys(f"medications.{c}" for c in sample_rule.categories))
    if "crcl" in found and protocol.screening.crcl_weight != "actual":
        found["height"] = None
    if found.keys() & {"pregnant", "lactating"}:
        found["sex"] = None  # a man is neither pregnant nor lactating
    return list(found)


def layout_for(protocol: Protocol) -> Layout:
    """The column layout for screening a table against ``protocol``."""
    facts = _needed_facts(protocol)
    columns: list[Column] = [
        Column(PATIENT_ID, "id", "the patient's identifier, unique in the table"),
        Column(
            SCREENING_DATE,
            "date",
            "the screening date (may be left out when a date is given for the whole table)",
            optional=True,
        ),
    ]
    labs = tuple(code for code in LAB_ANALYTES if code in facts)
    body = tuple(name for name in BODY if name in facts)
    scalars: list[str] = []
    if "age" in facts:
        scalars.append("birth_date")
        columns.append(Column("birth_date", "date", "date of birth"))
    for name in (*CATEGORY_FACTS, *BOOLEAN_FACTS, *DATE_FACTS, *INTEGER_FACTS, *NUMBER_FACTS):
        if name not in facts:
            continue
        if name in CATEGORY_FACTS:
            column = Column(name, "text", f"{name}", choices=CATEGORY_FACTS[name])
        elif name in BOOLEAN_FACTS:
            column = Column(name, "boolean", f"{name.replace('_', ' ')}: true or false")
        elif name in DATE_FACTS:
            column = Column(name, "date", name.replace("_", " "))
        elif name in INTEGER_FACTS:
            column = Column(INTEGER_FACTS[name], "integer", name.replace("_", " "))
        else:
            column = Column(NUMBER_FACTS[name], "number", f"{name} in %")
        scalars.append(column.name)
        columns.append(column)
    for name in body:
        item = analyte(name)
        columns.append(Column(f"{name}_value", "number", f"body {name}"))
        columns.append(
            Column(
                f"{name}_unit",
                "unit",
                f"unit of {name}_value ({', '.join(item.accepted_units)}); "
                f"{item.canonical_unit} when left out",
                optional=True,
            )
        )
    uln_labs = {
        node.analyte
        for criterion in protocol.criteria
        for rule in criterion.rules
        for node in walk(rule)
        if isinstance(node, UlnCompare)
    }
    for code in labs:
        item = analyte(code)
        names = lab_columns(code)
        columns += [
            Column(names["value"], "number", f"{item.name_en}: the latest result"),
            Column(
                names["unit"],
                "unit",
                f"unit of {names['value']} ({', '.join(item.accepted_units)}); "
                f"{item.canonical_unit} when left out",
                optional=True,
            ),
            Column(names["taken_on"], "date", "date the sample was taken"),
            Column(
                names["uln"],
                "number",
                "the laboratory's upper limit of normal",
                optional=code not in uln_labs,
            ),
            Column(
                names["uln_unit"],
                "unit",
                f"unit of {names['uln']}; the unit of {names['value']} when left out",
                optional=True,
            ),
        ]
    code_sets = tuple(f.removeprefix("history.") for f in facts if f.startswith("history."))
    for code_set in code_sets:
        names = history_columns(code_set)
        columns += [
            Column(
                names["present"], "boolean", f"the record holds an entry of code set {code_set}"
            ),
            Column(names["onset"], "date", "onset of that entry"),
            Column(names["abatement"], "date", "abatement of that entry (empty while ongoing)"),
        ]
    categories = tuple(
        f.removeprefix("medications.") for f in facts if f.startswith("medications.")
    )
    for category in categories:
        names = medication_columns(category)
        columns += [
            Column(names["start"], "date", f"first day of the latest {category} course"),
            Column(names["end"], "date", "last day given (empty while ongoing)"),
        ]
    judgements = tuple(
        [c.id for c in protocol.criteria if not c.computable]
        + [f.removeprefix("judgements.") for f in facts if f.startswith("judgements.")]
    )
    columns += [
        Column(
            judgement_column(j), "answer", f"investigator's answer to {j}", choices=("yes", "no")
        )
        for j in judgements
    ]
    return Layout(
        columns=tuple(columns),
        labs=labs,
        body=body,
        code_sets=code_sets,
        categories=categories,
        judgements=judgements,
        scalars=tuple(scalars),
    )
