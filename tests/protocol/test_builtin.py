"""The built-in NCT06021067 protocol holds every fact of shared/docs/NCT06021067.md."""

from __future__ import annotations

import re

from trialdesk.protocol import builtin_protocol
from trialdesk.protocol.dosing import patient_dose


def test_registry_facts() -> None:
    protocol = builtin_protocol().protocol
    reg = protocol.registry
    assert protocol.id == reg.nct_id == "NCT06021067"
    assert reg.sponsor == "Sichuan University"
    assert reg.phases == ["PHASE1", "PHASE2"]
    assert reg.enrollment == 15
    assert (protocol.population.min_age_years, protocol.population.max_age_years) == (18, 75)
    assert protocol.population.sex == "ALL"
    assert protocol.max_sample_size == 15


def test_doses_are_registered_per_kg_and_multiply_by_three() -> None:
    protocol = builtin_protocol().protocol
    levels = protocol.doses
    assert levels[0].amount == 3.3e5 and levels[0].unit == "cells/kg"
    # Registry text: 2.0×10^7 cells for 60 kg at level 1 and 6.0×10^7 at level 2.
    doses_60kg = [patient_dose(level, 60, protocol.dose_rounding) for level in levels]
    assert doses_60kg[:2] == [2.0e7, 6.0e7]
    assert doses_60kg[2] == 1.8e8
    assert levels[2].assumption, "level 3 is not in the public record and must say so"


def test_schedule_dlt_window_and_design() -> None:
    protocol = builtin_protocol().protocol
    assert (
        protocol.schedule is not None and protocol.dlt is not None and protocol.design is not None
    )
    adm = protocol.schedule.administrations
    assert (adm.count, adm.interval_days) == (4, 3)
    period = protocol.schedule.treatment_period
    assert (period.min_weeks, period.max_weeks) == (4, 6)
    assert protocol.dlt.window_days == 30
    assert protocol.design.name == "3+3" and protocol.design.cohort_size == 3
    assert protocol.design.max_per_level == 6


def test_every_listed_criterion_is_there_in_both_languages() -> None:
    protocol = builtin_protocol().protocol
    ids = [c.id for c in protocol.criteria]
    numbers = {re.match(r"[IE]\d+", i).group(0) for i in ids}  # type: ignore[union-attr]
    assert numbers == {f"I{n}" for n in range(1, 9)} | {f"E{n}" for n in range(1, 16)}
    for criterion in protocol.criteria:
        assert criterion.text.en.strip() and criterion.text.zh.strip()
        assert re.search(r"[\u4e00-\u9fff]", criterion.text.zh), f"{criterion.id} zh is not Chinese"


def test_unknowns_are_marked_as_assumptions() -> None:
    places = dict(builtin_protocol().protocol.assumptions())
    for where in (
        "dlt.definition",
        "dlt.evaluability",
        "design",
        "standard_treatment[0]",
        "endpoints[0]",
    ):
        assert where in places and places[where].strip(), where
