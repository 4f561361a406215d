"""The screening page's form and trialdesk's screening record, both ways.

The form is laid out by the protocol: one row per laboratory analyte its rules read, one per
history code set (present or not, which code, onset, end), one per medication category, and one
question per judgement item. :func:`record_data` turns the typed form into record data (the
input that is screened and stored); :func:`form_from_record` fills the form from a record, so a
FHIR Bundle or an earlier screening can be loaded, checked and completed.

Judgement items are the investigator's: an answer typed by anyone else is refused, and an
answer keeps who gave it and when, as the record requires.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Final

from trialdesk.clinical.analytes import analyte
from trialdesk.eligibility.evaluate import judgement_questions
from trialdesk.eligibility.facts import code_matches
from trialdesk.eligibility.record import ScreeningRecord
from trialdesk.errors import TrialdeskError
from trialdesk.protocol.base import Text
from trialdesk.protocol.criteria import LAB_ANALYTES, MEDICATION_CATEGORIES, facts_of
from trialdesk.protocol.models import CodeSet, Protocol
from trialdesk.web import form_fields as f

YES_NO_FACTS: Final = ("pregnant", "lactating", "childbearing_potential", "will_use_contraception")
SCALARS: Final = ("ecog", "lvef_percent", "pneumonitis_grade")


@dataclass(frozen=True, slots=True)
class FormLayout:
    """What the protocol asks for: analytes, history code sets, judgement questions."""

    analytes: tuple[str, ...]
    units: dict[str, tuple[str, ...]]
    code_sets: tuple[CodeSet, ...]
    categories: tuple[str, ...]
    questions: dict[str, Text]


def layout(protocol: Protocol) -> FormLayout:
    read: set[str] = set()
    for criterion in protocol.criteria:
        for rule in criterion.rules:
            read.update(facts_of(rule))
    analytes = tuple(a for a in LAB_ANALYTES if a in read)
    return FormLayout(
        analytes=analytes,
        units={a: tuple(analyte(a).accepted_units) for a in analytes},
        code_sets=tuple(
            c for c in protocol.code_sets if c.category is None and f"history.{c.id}" in read
        ),
        categories=tuple(c for c in MEDICATION_CATEGORIES if f"medications.{c}" in read),
        questions=judgement_questions(protocol),
    )


def _yes_no(values: Mapping[str, str], name: str) -> bool | None:
    value = f.text(values, name)
    if value is None:
        return None
    if value not in ("yes", "no"):
        raise TrialdeskError(f"{value!r} is not yes or no", field=name)
    return value == "yes"


def _code(values: Mapping[str, str], name: str) -> tuple[str, str]:
    value = f.required(values, name)
    system, _, code = value.partition(":")
    if not code:
        raise TrialdeskError(
            f"{value!r}: give the code as system:code, e.g. icd10:J70.0", field=name
        )
    return system.strip(), code.strip()


def record_data(
    values: Mapping[str, str],
    form: FormLayout,
    *,
    answerer: str | None,
    today: date,
) -> dict[str, Any]:
    """The screening record the form describes. ``answerer``: the investigator typing (None
    for anyone else, who may carry earlier answers but not give new ones)."""
    data: dict[str, Any] = {"screening_date": f.required_day(values, "screening_date").isoformat()}
    for name in ("patient_id", "sex", "ecg"):
        if (value := f.text(values, name)) is not None:
            data[name] = value
    for name in ("birth_date", "consent_signed_on"):
        if (day := f.day(values, name, optional=True)) is not None:
            data[name] = day.isoformat()
    for name in SCALARS:
        if (number := f.number(values, name, optional=True)) is not None:
            data[name] = int(number) if name != "lvef_percent" else number
    for name in YES_NO_FACTS:
        if (answer := _yes_no(values, name)) is not None:
            data[name] = answer
    for body in ("weight", "height"):
        if (number := f.number(values, f"{body}.value", optional=True)) is not None:
            entry: dict[str, Any] = {"value": number, "unit": f.required(values, f"{body}.unit")}
            if (day := f.day(values, f"{body}.measured_on", optional=True)) is not None:
                entry["measured_on"] = day.isoformat()
            data[body] = entry
    labs = []
    for code in form.analytes:
        measured = f.number(values, f"lab.{code}.value", optional=True)
        if measured is None:
            continue
        lab: dict[str, Any] = {
            "analyte": code,
            "value": measured,
            "unit": f.required(values, f"lab.{code}.unit"),
            "taken_on": f.required_day(values, f"lab.{code}.taken_on").isoformat(),
        }
        if (uln := f.number(values, f"lab.{code}.uln", optional=True)) is not None:
            lab["uln"] = uln
            if (uln_unit := f.text(values, f"lab.{code}.uln_unit")) is not None:
                lab["uln_unit"] = uln_unit
        labs.append(lab)
    data["labs"] = labs
    history = []
    for code_set in form.code_sets:
        key = f"history.{code_set.id}"
        if not f.ticked(values, f"{key}.present"):
            continue
        system, code = _code(values, f"{key}.code")
        display = f.text(values, f"{key}.display") or code_set.text.en
        item: dict[str, Any] = {"system": system, "code": code, "display": display}
        for end in ("onset", "abatement"):
            if (day := f.day(values, f"{key}.{end}", optional=True)) is not None:
                item[end] = day.isoformat()
        history.append(item)
    data["history"] = history
    medications = []
    for category in form.categories:
        key = f"medication.{category}"
        if not f.ticked(values, f"{key}.present"):
            continue
        med: dict[str, Any] = {
            "category": category,
            "start": f.required_day(values, f"{key}.start").isoformat(),
        }
        if (end_day := f.day(values, f"{key}.end", optional=True)) is not None:
            med["end"] = end_day.isoformat()
        if (drug := f.text(values, f"{key}.display")) is not None:
            med["display"] = drug
        medications.append(med)
    data["medications"] = medications
    data["judgements"] = _judgements(values, form, answerer=answerer, today=today)
    return data


def _judgements(
    values: Mapping[str, str], form: FormLayout, *, answerer: str | None, today: date
) -> dict[str, Any]:
    answers: dict[str, Any] = {}
    for item in form.questions:
        key = f"j.{item}"
        answer = f.text(values, f"{key}.answer")
        if answer is None:
            continue
        if answer not in ("yes", "no"):
            raise TrialdeskError(f"{answer!r} is not yes or no", field=f"{key}.answer")
        earlier = f.text(values, f"{key}.was")
        by, on = f.text(values, f"{key}.by"), f.text(values, f"{key}.on")
        if answer != earlier or by is None or on is None:
            if answerer is None:
                raise TrialdeskError(
                    "only an investigator answers judgement items; leave it for them",
                    field=f"{key}.answer",
                )
            by, on = answerer, today.isoformat()
        entry: dict[str, Any] = {"answer": answer, "answered_by": by, "answered_on": on}
        if (note := f.text(values, f"{key}.note")) is not None:
            entry["note"] = note
        answers[item] = entry
    return answers


def form_from_record(record: ScreeningRecord, form: FormLayout) -> dict[str, str]:
    """The form's values for ``record`` (the latest result of each analyte; each code set's
    first matching history entry; each category's latest course)."""
    values: dict[str, str] = {"screening_date": record.screening_date.isoformat()}
    for name in ("patient_id", "sex", "ecg", "birth_date", "consent_signed_on", *SCALARS):
        value = getattr(record, name)
        if value is not None:
            values[name] = _shown(value)
    for name in YES_NO_FACTS:
        value = getattr(record, name)
        if value is not None:
            values[name] = "yes" if value else "no"
    for body in ("weight", "height"):
        measured = getattr(record, body)
        if measured is not None:
            values[f"{body}.value"] = f"{measured.value:g}"
            values[f"{body}.unit"] = measured.unit
            if measured.measured_on is not None:
                values[f"{body}.measured_on"] = measured.measured_on.isoformat()
    for lab in sorted(record.labs, key=lambda item: item.taken_on):
        key = f"lab.{lab.analyte}"
        values[f"{key}.value"] = f"{lab.value:g}"
        values[f"{key}.unit"] = lab.unit
        values[f"{key}.taken_on"] = lab.taken_on.isoformat()
        values[f"{key}.uln"] = "" if lab.uln is None else f"{lab.uln:g}"
        values[f"{key}.uln_unit"] = lab.uln_unit or ""
    for code_set in form.code_sets:
        entry = next((h for h in record.history if code_matches(code_set, h.system, h.code)), None)
        if entry is None:
            continue
        key = f"history.{code_set.id}"
        values[f"{key}.present"] = "on"
        values[f"{key}.code"] = f"{entry.system}:{entry.code}"
        values[f"{key}.display"] = entry.display or ""
        if entry.onset:
            values[f"{key}.onset"] = entry.onset.isoformat()
        if entry.abatement:
            values[f"{key}.abatement"] = entry.abatement.isoformat()
    for med in sorted(record.medications, key=lambda item: item.start):
        if med.category is None:
            continue
        key = f"medication.{med.category}"
        values[f"{key}.present"] = "on"
        values[f"{key}.start"] = med.start.isoformat()
        values[f"{key}.end"] = med.end.isoformat() if med.end else ""
        values[f"{key}.display"] = med.display or ""
    for item, answer in record.judgements.items():
        key = f"j.{item}"
        values[f"{key}.answer"] = values[f"{key}.was"] = answer.answer
        values[f"{key}.by"] = answer.answered_by
        values[f"{key}.on"] = answer.answered_on.isoformat()
        values[f"{key}.note"] = answer.note or ""
    return values


def _shown(value: object) -> str:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)
