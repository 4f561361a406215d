"""The dose a patient gets per infusion, and the gate that refuses more than the assigned level.

The per-patient amount is the protocol's own arithmetic
(:func:`trialdesk.protocol.dosing.patient_dose`: level × baseline weight, rounded as the protocol
says). What was actually given may be a little
off the planned amount (cells are counted, not weighed); the protocol states how far above the
plan is still the assigned dose, as a fraction (``tolerance``). Anything above is refused: giving
more than the assigned level is a dosing error, never a data-entry choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from trialdesk.errors import TrialdeskError
from trialdesk.protocol.dosing import dose_unit, format_scientific, patient_dose
from trialdesk.protocol.models import DoseLevel, Protocol


@dataclass(frozen=True, slots=True)
class PlannedDose:
    """One infusion's planned amount for a patient at ``level`` (1-based) and ``weight_kg``."""

    level: int
    amount: float
    unit: str
    weight_kg: float | None

    def describe(self) -> str:
        """'2.0×10^7 cells (level 1, 60 kg)'."""
        weight = f", {self.weight_kg:g} kg" if self.weight_kg is not None else ""
        return f"{format_scientific(self.amount)} {self.unit} (level {self.level}{weight})"


def dose_level(protocol: Protocol, level: int) -> DoseLevel:
    """The protocol's dose level numbered ``level`` (from 1); refused if there is no such level."""
    if not 1 <= level <= len(protocol.doses):
        raise TrialdeskError(
            f"dose level {level} does not exist; the protocol has levels 1 to "
            f"{len(protocol.doses)}",
            field="dose_level",
        )
    return protocol.doses[level - 1]


def planned_dose(protocol: Protocol, level: int, baseline_weight_kg: float | None) -> PlannedDose:
    """The amount one infusion gives a patient enrolled at ``level`` with this baseline weight."""
    chosen = dose_level(protocol, level)
    amount = patient_dose(chosen, baseline_weight_kg, protocol.dose_rounding)
    weight = baseline_weight_kg if chosen.basis == "per_kg" else None
    return PlannedDose(level=level, amount=amount, unit=dose_unit(chosen), weight_kg=weight)


def maximum_allowed(planned: PlannedDose, tolerance: float) -> float:
    """The largest amount still counted as the assigned dose: planned × (1 + tolerance)."""
    if not math.isfinite(tolerance) or not 0 <= tolerance < 1:
        raise TrialdeskError(
            f"a dose tolerance of {tolerance} is not a fraction from 0 up to (not including) 1; "
            "fix the protocol's dose tolerance (0.1 means 10% above the planned amount)",
            field="tolerance",
        )
    return planned.amount * (1 + tolerance)


def check_amount_given(planned: PlannedDose, given: float, tolerance: float) -> float:
    """``given`` if it is a possible amount at or below the assigned dose; otherwise refused."""
    if not math.isfinite(given) or given <= 0:
        raise TrialdeskError(
            f"{given} {planned.unit} is not an amount that can be given; enter the amount "
            "actually infused (more than 0), or record the infusion as missed",
            field="cells_given",
        )
    ceiling = maximum_allowed(planned, tolerance)
    if given > ceiling:
        raise TrialdeskError(
            f"{format_scientific(given)} {planned.unit} is above the assigned dose "
            f"{planned.describe()}; at most {format_scientific(ceiling, 3)} {planned.unit} "
            f"({tolerance:.0%} above the plan) may be recorded. Check the amount and the "
            "patient's dose level",
            field="cells_given",
        )
    return given
