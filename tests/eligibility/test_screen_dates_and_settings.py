"""Calendar windows and the protocol's Cockcroft-Gault weight setting."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from trialdesk.eligibility import ScreeningRecord, ScreeningResult, screen
from trialdesk.eligibility.dates import completed_months, cutoff
from trialdesk.protocol.criteria import Period
from trialdesk.protocol.models import Protocol

Run = Callable[[dict[str, Any]], ScreeningResult]


@pytest.mark.parametrize(
    ("on", "amount", "unit", "expected"),
    [
        (date(2026, 3, 10), 6, "months", date(2025, 9, 10)),
        (date(2025, 8, 31), 6, "months", date(2025, 2, 28)),  # clamped to February's end
        (date(2024, 8, 31), 6, "months", date(2024, 2, 29)),  # leap year
        (date(2026, 1, 15), 2, "months", date(2025, 11, 15)),  # across the year
        (date(2026, 3, 10), 7, "days", date(2026, 3, 3)),
        (date(2024, 2, 29), 1, "years", date(2023, 2, 28)),
    ],
)
def test_cutoff_counts_calendar_units_back(
    on: date, amount: int, unit: Any, expected: date
) -> None:
    assert cutoff(on, Period(amount=amount, unit=unit)) == expected


def test_completed_months() -> None:
    assert completed_months(date(2026, 1, 10), date(2026, 3, 10)) == 2
    assert completed_months(date(2026, 1, 11), date(2026, 3, 10)) == 1
    assert completed_months(date(2026, 3, 10), date(2026, 3, 10)) == 0


def _with_weight_basis(protocol: Protocol, basis: str) -> Protocol:
    screening = protocol.screening.model_copy(update={"crcl_weight": basis})
    return protocol.model_copy(update={"screening": screening})


def test_ideal_body_weight_setting(protocol: Protocol, patient: dict[str, Any]) -> None:
    patient["weight"] = {"value": 90, "unit": "kg"}
    record = ScreeningRecord.from_data(patient)
    actual = screen(protocol, record).criterion("I4b.crcl").evidence["crcl"]
    ideal = screen(_with_weight_basis(protocol, "ideal"), record).criterion("I4b.crcl")
    # Devine, woman of 160 cm (62.99 in): 45.5 + 2.3 x 2.99 = 52.38 kg.
    assert actual["weight_kg"] == 90
    assert ideal.evidence["crcl"]["weight_kg"] == pytest.approx(52.38, abs=0.01)
    assert ideal.evidence["crcl"]["weight_basis"] == "ideal"
    adjusted = screen(_with_weight_basis(protocol, "adjusted"), record).criterion("I4b.crcl")
    # 52.38 + 0.4 x (90 - 52.38) = 67.43 kg
    assert adjusted.evidence["crcl"]["weight_kg"] == pytest.approx(67.43, abs=0.01)


def test_ideal_weight_needs_height(protocol: Protocol, patient: dict[str, Any]) -> None:
    del patient["height"]
    result = screen(_with_weight_basis(protocol, "ideal"), ScreeningRecord.from_data(patient))
    assert result.criterion("I4b.crcl").status == "unknown"
    assert "height" in result.missing


def test_weight_in_pounds_is_converted(run: Run, patient: dict[str, Any]) -> None:
    patient["weight"] = {"value": 132.277, "unit": "lb"}  # 60.0 kg
    evidence = run(patient).criterion("I4b.crcl").evidence
    assert evidence["weight"]["value"] == pytest.approx(60.0, abs=0.001)
    assert evidence["crcl"]["value"] == 68.2
