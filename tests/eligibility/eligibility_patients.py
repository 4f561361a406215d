"""A fully eligible NCT06021067 patient as record data, and helpers to change one fact.

The patient: a 63-year-old woman, screened on 2026-03-10, radiation pneumonitis grade 2 that
began on 2026-02-20 after thoracic radiotherapy, normal organ function (labs of 2026-03-06),
no excluding condition, every judgement item answered. Tests copy it, change one thing, and
check that exactly the expected criterion moves.
"""

from __future__ import annotations

from datetime import date
from typing import Any

SCREENING_DATE = date(2026, 3, 10)
LAB_DAY = "2026-03-06"


def _answer(answer: str) -> dict[str, str]:
    return {"answer": answer, "answered_by": "Dr Wang", "answered_on": "2026-03-10"}


ELIGIBLE: dict[str, Any] = {
    "patient_id": "TEST-ELIGIBLE",
    "screening_date": SCREENING_DATE.isoformat(),
    "birth_date": "1962-05-14",
    "sex": "female",
    "weight": {"value": 60, "unit": "kg", "measured_on": "2026-03-09"},
    "height": {"value": 160, "unit": "cm"},
    "ecog": 1,
    "lvef_percent": 62,
    "ecg": "normal",
    "pneumonitis_grade": 2,
    "consent_signed_on": "2026-03-05",
    "pregnant": False,
    "lactating": False,
    "childbearing_potential": False,
    "labs": [
        {"analyte": "anc", "value": 3.2, "unit": "10^9/L", "taken_on": LAB_DAY},
        {"analyte": "platelets", "value": 210, "unit": "10^9/L", "taken_on": LAB_DAY},
        {"analyte": "haemoglobin", "value": 118, "unit": "g/L", "taken_on": LAB_DAY},
        {
            "analyte": "bilirubin_total",
            "value": 0.7,
            "unit": "mg/dL",
            "uln": 1.2,
            "taken_on": LAB_DAY,
        },
        {"analyte": "alt", "value": 32, "unit": "U/L", "uln": 40, "taken_on": LAB_DAY},
        {"analyte": "ast", "value": 28, "unit": "U/L", "uln": 40, "taken_on": LAB_DAY},
        {"analyte": "creatinine", "value": 0.8, "unit": "mg/dL", "uln": 1.1, "taken_on": LAB_DAY},
        {"analyte": "inr", "value": 1.0, "unit": "1", "uln": 1.2, "taken_on": LAB_DAY},
        {"analyte": "pt", "value": 12.1, "unit": "s", "uln": 13.5, "taken_on": LAB_DAY},
    ],
    "history": [
        {
            "system": "local",
            "code": "chest-radiotherapy",
            "display": "Thoracic radiotherapy 60 Gy",
            "onset": "2025-11-03",
            "abatement": "2025-12-12",
        },
        {
            "system": "icd10",
            "code": "J70.0",
            "display": "Radiation pneumonitis",
            "onset": "2026-02-20",
        },
        {
            "system": "icd10",
            "code": "I10",
            "display": "Essential hypertension",
            "onset": "2015-06-01",
        },
    ],
    "medications": [
        {"system": "atc", "code": "H02AB06", "display": "prednisolone", "start": "2026-02-22"}
    ],
    "judgements": {
        "I1.confirmed": _answer("yes"),
        "I6": _answer("yes"),
        "E2.investigator": _answer("no"),
        "E3.investigator": _answer("no"),
        "E4": _answer("no"),
        "E5": _answer("no"),
        "E6": _answer("no"),
        "E7.investigator": _answer("no"),
        "E9.investigator": _answer("no"),
        "E10.investigator": _answer("no"),
        "E11.investigator": _answer("no"),
        "E12.investigator": _answer("no"),
        "E13": _answer("no"),
        "E14": _answer("no"),
        "E15": _answer("no"),
    },
}


def answer(value: str) -> dict[str, str]:
    """An investigator's answer as the record holds it."""
    return _answer(value)


def set_lab(data: dict[str, Any], analyte: str, value: float, unit: str, **extra: Any) -> None:
    """Replace the patient's result for ``analyte``; the sample date and ULN stay unless given
    (give ``uln_unit`` too when the unit changes for a result with a ULN)."""
    for lab in data["labs"]:
        if lab["analyte"] == analyte:
            lab.update({"value": value, "unit": unit, **extra})
            return
    data["labs"].append(
        {"analyte": analyte, "value": value, "unit": unit, "taken_on": LAB_DAY, **extra}
    )


def drop_lab(data: dict[str, Any], analyte: str) -> None:
    data["labs"] = [lab for lab in data["labs"] if lab["analyte"] != analyte]
