"""Per-infusion doses of NCT06021067 and the refusal of a dose above the assigned level."""

from __future__ import annotations

import pytest

from trialdesk.errors import TrialdeskError
from trialdesk.protocol import builtin_protocol
from trialdesk.trial.dosing import check_amount_given, maximum_allowed, planned_dose


def test_registered_doses_for_a_60_kg_patient() -> None:
    # Registry text: level 1 = 2.0×10^7 cells and level 2 = 6.0×10^7 cells for 60 kg.
    protocol = builtin_protocol().protocol
    level1 = planned_dose(protocol, 1, 60)
    level2 = planned_dose(protocol, 2, 60)
    assert (level1.amount, level1.unit) == (2.0e7, "cells")
    assert level2.amount == 6.0e7
    assert level1.describe() == "2.0×10^7 cells (level 1, 60 kg)"


def test_dose_scales_with_baseline_weight_and_protocol_rounding() -> None:
    # 3.3×10^5 cells/kg × 75 kg = 2.475×10^7, rounded to 2 significant figures (built-in protocol).
    assert planned_dose(builtin_protocol().protocol, 1, 75).amount == 2.5e7


def test_unknown_level_and_impossible_weight_are_refused() -> None:
    protocol = builtin_protocol().protocol
    with pytest.raises(TrialdeskError, match="dose level 4 does not exist"):
        planned_dose(protocol, 4, 60)
    with pytest.raises(TrialdeskError, match="not a possible body weight"):
        planned_dose(protocol, 1, 0)


def test_a_dose_above_the_assigned_level_is_refused() -> None:
    planned = planned_dose(builtin_protocol().protocol, 1, 60)
    assert check_amount_given(planned, 2.0e7, tolerance=0.1) == 2.0e7
    assert check_amount_given(planned, 2.2e7, tolerance=0.1) == 2.2e7  # exactly +10%
    with pytest.raises(TrialdeskError, match="above the assigned dose") as refused:
        check_amount_given(planned, 6.0e7, tolerance=0.1)  # level 2's dose given at level 1
    assert refused.value.field == "cells_given"
    with pytest.raises(TrialdeskError, match="above the assigned dose"):
        check_amount_given(planned, 2.01e7, tolerance=0)


def test_nothing_or_nonsense_is_not_an_amount_given() -> None:
    planned = planned_dose(builtin_protocol().protocol, 1, 60)
    for amount in (0.0, -1.0, float("nan")):
        with pytest.raises(TrialdeskError, match="not an amount that can be given"):
            check_amount_given(planned, amount, tolerance=0.1)


def test_tolerance_must_be_a_fraction() -> None:
    planned = planned_dose(builtin_protocol().protocol, 1, 60)
    with pytest.raises(TrialdeskError, match="not a fraction"):
        maximum_allowed(planned, 10)


def test_builtin_tolerance_is_a_marked_assumption() -> None:
    protocol = builtin_protocol().protocol
    tolerance = protocol.dose_tolerance
    assert tolerance.assumption and tolerance.above_fraction == 0.1
    planned = planned_dose(protocol, 2, 60)
    with pytest.raises(TrialdeskError, match="above the assigned dose"):
        check_amount_given(planned, 6.7e7, tolerance.above_fraction)
