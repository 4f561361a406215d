"""Creatinine clearance by Cockcroft-Gault, carrying its inputs so a verdict can show its working.

Cockcroft DW, Gault MH. Prediction of creatinine clearance from serum creatinine.
Nephron 1976;16(1):31-41:  CrCl [mL/min] = (140 - age [years]) x weight [kg] / (72 x SCr [mg/dL]),
multiplied by 0.85 for women. The weight is whatever the protocol asks for (the original paper
used actual body weight); the caller decides and records it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum
from numbers import Real

from trialdesk.clinical.errors import ClinicalValueError

__all__ = ["FEMALE_FACTOR", "CreatinineClearance", "Sex", "cockcroft_gault"]

FEMALE_FACTOR = 0.85


class Sex(StrEnum):
    """Sex as the Cockcroft-Gault equation uses it."""

    MALE = "male"
    FEMALE = "female"


@dataclass(frozen=True)
class CreatinineClearance:
    """An estimated creatinine clearance with everything that went into it."""

    ml_per_min: float
    age_years: float
    weight_kg: float
    creatinine_mg_dl: float
    sex: Sex
    sex_factor: float

    def explain(self) -> str:
        """The calculation in one line, for eligibility evidence."""
        female = f" x {self.sex_factor:g}" if self.sex_factor != 1 else ""
        return (
            f"Cockcroft-Gault: (140 - {self.age_years:g}) x {self.weight_kg:g} kg / "
            f"(72 x {self.creatinine_mg_dl:g} mg/dL){female} = {self.ml_per_min:.1f} mL/min"
        )


def _number(value: float, field: str) -> float:
    if isinstance(value, bool) or not isinstance(value, Real) or not math.isfinite(value):
        raise ClinicalValueError(f"{value!r} is not a number; enter a finite number", field=field)
    return float(value)


def _sex(value: Sex | str) -> Sex:
    try:
        return Sex(str(value).strip().lower())
    except ValueError:
        raise ClinicalValueError(
            f"{value!r} is not a sex the Cockcroft-Gault equation knows; use 'male' or 'female'",
            field="sex",
        ) from None


def cockcroft_gault(
    *, age_years: float, weight_kg: float, creatinine_mg_dl: float, sex: Sex | str
) -> CreatinineClearance:
    """Estimated creatinine clearance in mL/min (Cockcroft & Gault 1976).

    Convert a creatinine in µmol/L first with
    ``to_canonical("creatinine", value, "µmol/L").value``. Raises :class:`ClinicalValueError`
    naming the bad input (``age_years``, ``weight_kg``, ``creatinine_mg_dl`` or ``sex``).
    """
    age = _number(age_years, "age_years")
    weight = _number(weight_kg, "weight_kg")
    creatinine = _number(creatinine_mg_dl, "creatinine_mg_dl")
    which = _sex(sex)
    if not 0 <= age < 140:
        raise ClinicalValueError(
            f"age {age:g} years is outside the equation's range (0 to under 140)",
            field="age_years",
        )
    if weight <= 0:
        raise ClinicalValueError(f"weight must be above 0 kg, got {weight:g}", field="weight_kg")
    if creatinine <= 0:
        raise ClinicalValueError(
            f"serum creatinine must be above 0 mg/dL, got {creatinine:g}; "
            "a value in µmol/L must be converted first",
            field="creatinine_mg_dl",
        )
    factor = FEMALE_FACTOR if which is Sex.FEMALE else 1.0
    clearance = (140 - age) * weight / (72 * creatinine) * factor
    return CreatinineClearance(clearance, age, weight, creatinine, which, factor)
