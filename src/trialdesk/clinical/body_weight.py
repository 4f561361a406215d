"""Ideal and adjusted body weight, for a protocol that doses or estimates renal function on them.

Ideal body weight (Devine BJ. Gentamicin therapy. Drug Intell Clin Pharm 1974;8:650-655):
men 50 kg, women 45.5 kg, plus 2.3 kg for each inch of height over 5 feet (60 in).
Adjusted body weight: ideal + 0.4 x (actual - ideal), the usual correction for obesity.
"""

from __future__ import annotations

from trialdesk.clinical.errors import ClinicalValueError
from trialdesk.clinical.renal import Sex

__all__ = ["ADJUSTMENT_FACTOR", "adjusted_body_weight", "ideal_body_weight"]

CM_PER_INCH = 2.54
ADJUSTMENT_FACTOR = 0.4


def ideal_body_weight(*, height_cm: float, sex: Sex | str) -> float:
    """Devine ideal body weight in kg (heights under 5 feet add nothing below the base)."""
    if height_cm <= 0:
        raise ClinicalValueError(f"height must be above 0 cm, got {height_cm:g}", field="height")
    base = 45.5 if Sex(str(sex).lower()) is Sex.FEMALE else 50.0
    inches_over_five_feet = max(height_cm / CM_PER_INCH - 60.0, 0.0)
    return base + 2.3 * inches_over_five_feet


def adjusted_body_weight(*, weight_kg: float, height_cm: float, sex: Sex | str) -> float:
    """Ideal body weight plus 0.4 of the excess; the actual weight when below the ideal."""
    ideal = ideal_body_weight(height_cm=height_cm, sex=sex)
    if weight_kg <= ideal:
        return weight_kg
    return ideal + ADJUSTMENT_FACTOR * (weight_kg - ideal)
