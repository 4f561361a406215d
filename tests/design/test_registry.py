"""Designs by name and from the protocol file."""

from __future__ import annotations

import pytest

from trialdesk.design.boin import Boin
from trialdesk.design.crm import Crm, getprior
from trialdesk.design.registry import DESIGN_NAMES, design_from_protocol, make_design
from trialdesk.design.three_plus_three import ThreePlusThree
from trialdesk.errors import TrialdeskError
from trialdesk.protocol import builtin_protocol


def test_every_name_builds_a_design() -> None:
    for name in DESIGN_NAMES:
        design = make_design(name, n_levels=5, target=0.3)
        assert design.name == name and design.n_levels == 5


def test_unknown_name_lists_the_valid_ones() -> None:
    with pytest.raises(TrialdeskError) as info:
        make_design("boinn", n_levels=5, target=0.3)
    for name in DESIGN_NAMES:
        assert name in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"target": 1.0}, "target"),
        ({"target": 0.0}, "target"),
        ({"target": None}, "target"),
        ({"target": 0.3, "n_stop": 0}, "n_stop"),
        ({"target": 0.3, "max_n": -3}, "max_n"),
        ({"target": 0.3, "bogus": 1}, "bogus"),
    ],
)
def test_invalid_settings_name_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(TrialdeskError) as info:
        make_design("boin", n_levels=5, **kwargs)  # type: ignore[arg-type]
    assert info.value.field == field


def test_three_plus_three_needs_cohorts_of_three() -> None:
    with pytest.raises(TrialdeskError, match="cohort"):
        make_design("3+3", n_levels=5, cohort_size=4)


def test_builtin_protocol_gives_its_3_plus_3() -> None:
    protocol = builtin_protocol().protocol
    design = design_from_protocol(protocol)
    assert isinstance(design, ThreePlusThree)
    assert design.n_levels == len(protocol.doses)
    assert design.max_n == protocol.max_sample_size


def test_protocol_boin_section_maps_max_per_level_to_n_stop() -> None:
    protocol = builtin_protocol().protocol
    assert protocol.design is not None
    section = protocol.design.model_copy(
        update={"name": "BOIN", "target_dlt_rate": 0.25, "max_per_level": 9, "start_level": 2}
    )
    design = design_from_protocol(protocol.model_copy(update={"design": section}))
    assert isinstance(design, Boin)
    assert (design.target, design.n_stop, design.start_level) == (0.25, 9, 1)


def test_protocol_without_a_design_section_is_refused() -> None:
    protocol = builtin_protocol().protocol.model_copy(update={"design": None})
    with pytest.raises(TrialdeskError, match="no design section"):
        design_from_protocol(protocol)


def test_protocol_parameters_are_checked_by_name() -> None:
    protocol = builtin_protocol().protocol
    assert protocol.design is not None
    section = protocol.design.model_copy(
        update={"name": "crm", "target_dlt_rate": 0.2, "parameters": {"skeletn": [0.1]}}
    )
    with pytest.raises(TrialdeskError, match="does not take skeletn; its settings are: model"):
        design_from_protocol(protocol.model_copy(update={"design": section}))


def test_protocol_crm_prior_mtd_is_written_from_1() -> None:
    protocol = builtin_protocol().protocol
    assert protocol.design is not None
    n_levels = len(protocol.doses)
    section = protocol.design.model_copy(
        update={
            "name": "crm",
            "target_dlt_rate": 0.25,
            "max_per_level": None,
            "parameters": {"prior_mtd": 2, "halfwidth": 0.05},
        }
    )
    design = design_from_protocol(protocol.model_copy(update={"design": section}))
    assert isinstance(design, Crm)
    assert design.skeleton == pytest.approx(getprior(0.05, 0.25, 1, n_levels))
    bad = section.model_copy(update={"parameters": {"prior_mtd": n_levels + 1}})
    with pytest.raises(TrialdeskError, match="prior_mtd"):
        design_from_protocol(protocol.model_copy(update={"design": bad}))


def test_three_plus_three_protocol_must_cap_levels_at_six() -> None:
    protocol = builtin_protocol().protocol
    assert protocol.design is not None
    section = protocol.design.model_copy(update={"max_per_level": 9})
    with pytest.raises(TrialdeskError, match="at most 6"):
        design_from_protocol(protocol.model_copy(update={"design": section}))
