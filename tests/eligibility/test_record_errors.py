"""Bad input never gets through: each problem names its field and says how to fix it."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from eligibility_patients import answer, set_lab

from trialdesk.eligibility import RecordError, ScreeningRecord, load_record, screen
from trialdesk.errors import TrialdeskError
from trialdesk.protocol.models import Protocol


def _lab_index(data: dict[str, Any], analyte: str) -> int:
    return next(i for i, lab in enumerate(data["labs"]) if lab["analyte"] == analyte)


def _error(data: dict[str, Any]) -> RecordError:
    with pytest.raises(RecordError) as caught:
        ScreeningRecord.from_data(data)
    return caught.value


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "where", "words"),
    [
        ("creatinine", 97, "mg/dl/x", "unit", "unknown unit"),
        ("haemoglobin", 8.2, "mmHg", "unit", "unknown unit"),
        ("anc", 1.5, "g/L", "unit", "does not fit"),
        ("anc", -1, "10^9/L", "value", "cannot be negative"),
        ("platelets", -5, "10^9/L", "value", "cannot be negative"),
        ("haemoglobin", 800, "g/L", "value", "not possible"),
        ("analyte_unknown", 1, "g/L", "analyte", "unknown analyte"),
    ],
)
def test_bad_lab_values_name_the_field(
    patient: dict[str, Any], analyte: str, value: float, unit: str, where: str, words: str
) -> None:
    index = _lab_index(patient, "haemoglobin") if analyte == "analyte_unknown" else None
    if index is None:
        set_lab(patient, analyte, value, unit)
        index = _lab_index(patient, analyte)
    else:
        patient["labs"][index].update(analyte=analyte, value=value, unit=unit)
    error = _error(patient)
    assert error.field == f"labs[{index}].{where}"
    assert str(error).startswith(f"labs[{index}].{where}: ")
    assert words in str(error)


def test_haemoglobin_800_suggests_the_likely_unit(patient: dict[str, Any]) -> None:
    set_lab(patient, "haemoglobin", 800, "g/L")
    assert "plausible range" in str(_error(patient))


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("labs", 0, "taken_on"), "2026-03-11"),
        (("consent_signed_on",), "2026-04-01"),
        (("birth_date",), "2027-01-01"),
        (("history", 1, "onset"), "2026-03-12"),
        (("medications", 0, "start"), "2026-05-01"),
    ],
)
def test_a_date_after_the_screening_date_is_refused(
    patient: dict[str, Any], path: tuple[str | int, ...], value: str
) -> None:
    node: Any = patient
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    error = _error(patient)
    expected = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
    assert error.field == expected
    assert "after the screening date 2026-03-10" in str(error)


def test_every_problem_is_listed_at_once(patient: dict[str, Any]) -> None:
    set_lab(patient, "anc", -1, "10^9/L")
    set_lab(patient, "creatinine", 1, "furlongs")
    patient["ecog"] = 7
    patient["weight"] = {"value": 60, "unit": "stone"}
    patient["colour"] = "blue"
    error = _error(patient)
    fields = [f for f, _ in error.problems]
    assert len(fields) == 5
    assert {"ecog", "weight.unit", "colour"} <= set(fields)
    assert str(error).startswith("5 problems in the screening record:")


def test_other_impossible_values(patient: dict[str, Any]) -> None:
    for key, value, where in [
        ("lvef_percent", 0.6, "lvef_percent"),
        ("pneumonitis_grade", 0, "pneumonitis_grade"),
        ("sex", "unknown", "sex"),
        ("weight", {"value": -60, "unit": "kg"}, "weight.value"),
    ]:
        data = {**patient, key: value}
        assert _error(data).field == where, key
    assert "percent" in str(_error({**patient, "lvef_percent": 0.6}))


def test_a_pregnant_man_is_refused(patient: dict[str, Any]) -> None:
    assert _error({**patient, "sex": "male", "pregnant": True}).field == "pregnant"


def test_an_abatement_before_onset_is_refused(patient: dict[str, Any]) -> None:
    patient["history"][0]["abatement"] = "2025-01-01"
    assert _error(patient).field == "history[0].abatement"


def test_an_answer_to_an_item_the_protocol_lacks_is_refused(
    patient: dict[str, Any], protocol: Protocol
) -> None:
    patient["judgements"]["E16"] = answer("no")
    with pytest.raises(TrialdeskError) as caught:
        screen(protocol, ScreeningRecord.from_data(patient))
    assert caught.value.field == "judgements.E16"


def test_screening_before_a_recorded_date_is_refused(
    patient: dict[str, Any], protocol: Protocol
) -> None:
    record = ScreeningRecord.from_data(patient)
    with pytest.raises(TrialdeskError) as caught:
        screen(protocol, record, on=date(2026, 3, 4))  # consent was signed on 03-05
    assert caught.value.field == "consent_signed_on"


def test_screening_on_a_later_date_makes_labs_stale(
    patient: dict[str, Any], protocol: Protocol
) -> None:
    record = ScreeningRecord.from_data(patient)
    result = screen(protocol, record, on=date(2026, 3, 14))  # labs of 2026-03-06: 8 days old
    assert result.verdict == "incomplete" and "anc" in result.missing
    assert result.screening_date == date(2026, 3, 14)


def test_unreadable_text_is_a_clear_error() -> None:
    with pytest.raises(TrialdeskError, match="not valid JSON"):
        load_record('{"screening_date": ')
    with pytest.raises(TrialdeskError, match="no such file"):
        load_record("does-not-exist.yaml")
