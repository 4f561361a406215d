"""One row of a patient table as a :class:`~trialdesk.eligibility.ScreeningRecord`.

The bridge between the two engines: it states exactly what each column means in the record
format, lets a coordinator take one patient of a batch to the single-patient screening (with its
full evidence), and lets the tests check that both engines agree row by row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from trialdesk.eligibility.columnar.layout import (
    PATIENT_ID,
    SCREENING_DATE,
    Layout,
    history_columns,
    judgement_column,
    lab_columns,
    medication_columns,
)
from trialdesk.eligibility.record import ScreeningRecord
from trialdesk.protocol.models import CodeSet, Protocol

__all__ = ["ANSWERED_BY", "record_from_row"]

ANSWERED_BY = "investigator (batch table)"


def _history_code(code_set: CodeSet) -> tuple[str, str]:
    """A representative (system, code) of a code set for a flagged entry."""
    system, codes = next(iter(code_set.codes.items()))
    return system, codes[0]


def record_from_row(
    protocol: Protocol, layout: Layout, row: dict[str, Any], *, on: dt.date | None = None
) -> ScreeningRecord:
    """The record a typed row describes (``row`` as given by ``DataFrame.iter_rows(named=True)``
    of :func:`~trialdesk.eligibility.columnar.read.read_patients`' frame)."""
    screening_date = row.get(SCREENING_DATE) or on
    data: dict[str, Any] = {"patient_id": row[PATIENT_ID], "screening_date": screening_date}
    for name in layout.scalars:
        value = row.get(name)
        if value is None:
            continue
        data[name] = int(value) if name in ("ecog", "pneumonitis_grade") else value
    for name in layout.body:
        value = row.get(f"{name}_value")
        if value is not None:
            unit = row.get(f"{name}_unit") or ("kg" if name == "weight" else "cm")
            data[name] = {"value": value, "unit": unit}
    labs = []
    for code in layout.labs:
        names = lab_columns(code)
        if row.get(names["value"]) is None:
            continue
        from trialdesk.clinical import analyte

        lab: dict[str, Any] = {
            "analyte": code,
            "value": row[names["value"]],
            "unit": row.get(names["unit"]) or analyte(code).canonical_unit,
            "taken_on": row[names["taken_on"]],
        }
        if row.get(names["uln"]) is not None:
            lab["uln"] = row[names["uln"]]
            if row.get(names["uln_unit"]) is not None:
                lab["uln_unit"] = row[names["uln_unit"]]
        labs.append(lab)
    data["labs"] = labs
    code_sets = {c.id: c for c in protocol.code_sets}
    history = []
    for code_set_id in layout.code_sets:
        names = history_columns(code_set_id)
        if not row.get(names["present"]):
            continue
        system, code = _history_code(code_sets[code_set_id])
        entry: dict[str, Any] = {"system": system, "code": code}
        if row.get(names["onset"]) is not None:
            entry["onset"] = row[names["onset"]]
        if row.get(names["abatement"]) is not None:
            entry["abatement"] = row[names["abatement"]]
        history.append(entry)
    data["history"] = history
    medications = []
    for category in layout.categories:
        names = medication_columns(category)
        if row.get(names["start"]) is None:
            continue
        medication: dict[str, Any] = {"category": category, "start": row[names["start"]]}
        if row.get(names["end"]) is not None:
            medication["end"] = row[names["end"]]
        medications.append(medication)
    data["medications"] = medications
    answered_on = on or screening_date
    data["judgements"] = {
        item: {
            "answer": row[judgement_column(item)],
            "answered_by": ANSWERED_BY,
            "answered_on": answered_on,
        }
        for item in layout.judgements
        if row.get(judgement_column(item)) is not None
    }
    return ScreeningRecord.from_data(data)
