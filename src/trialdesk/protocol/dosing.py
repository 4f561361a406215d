"""Per-patient doses from a protocol's dose levels."""

from __future__ import annotations

import math

from trialdesk.errors import TrialdeskError
from trialdesk.protocol.models import DoseLevel, DoseRounding


def round_significant(value: float, figures: int) -> float:
    """``value`` rounded to ``figures`` significant figures (1.98e7, 2 -> 2.0e7)."""
    if value == 0:
        return 0.0
    digits = figures - 1 - math.floor(math.log10(abs(value)))
    return round(value, digits)


def patient_dose(level: DoseLevel, weight_kg: float | None, rounding: DoseRounding) -> float:
    """The amount one administration gives to a patient of ``weight_kg`` (baseline weight).

    Flat doses ignore the weight; per-kg doses need a positive weight.
    """
    if level.basis == "flat":
        return round_significant(level.amount, rounding.significant_figures)
    if weight_kg is None or not math.isfinite(weight_kg) or weight_kg <= 0 or weight_kg > 500:
        raise TrialdeskError(
            f"{weight_kg} kg is not a possible body weight; give the patient's baseline weight "
            "in kg (more than 0, at most 500)",
            field="weight_kg",
        )
    return round_significant(level.amount * weight_kg, rounding.significant_figures)


def dose_unit(level: DoseLevel) -> str:
    """The unit of a patient's dose: 'cells/kg' per kg becomes 'cells'."""
    if level.basis == "per_kg" and level.unit.endswith("/kg"):
        return level.unit[: -len("/kg")]
    return level.unit


def format_scientific(value: float, figures: int = 2) -> str:
    """2.0e7 -> '2.0×10^7' (how doses of cells are written in the protocol)."""
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    if -3 <= exponent <= 3:
        return f"{value:g}"
    mantissa = value / 10**exponent
    return f"{mantissa:.{max(figures - 1, 0)}f}×10^{exponent}"
