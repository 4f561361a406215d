"""Designs by name, configured from keyword settings or from a protocol's ``design`` section.

Names: ``3+3``, ``boin``, ``tite-boin``, ``crm``, ``mtpi2`` (also ``mtpi-2``), ``keyboard``,
``i3+3``. Levels are 0-based here (``start_level=0`` is the first level); the protocol file
numbers them from 1 and :func:`design_from_protocol` converts.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from trialdesk.design.base import Design
from trialdesk.design.checks import check_n_levels, check_probability
from trialdesk.errors import TrialdeskError

if TYPE_CHECKING:
    from trialdesk.protocol.models import Protocol

_INTERVAL = ("n_stop", "elimination_cutoff", "elimination_min_n")
_EPS = ("eps1", "eps2")

#: Settings each design accepts besides n_levels, target, cohort_size, max_n and start_level.
PARAMETERS: dict[str, tuple[str, ...]] = {
    "3+3": (),
    "boin": ("phi1", "phi2", *_INTERVAL),
    "tite-boin": ("phi1", "phi2", *_INTERVAL, "max_pending_fraction", "min_complete_to_escalate"),
    "crm": (
        "model",
        "skeleton",
        "prior_mtd",
        "halfwidth",
        "prior_variance",
        "intercept",
        "no_skip",
        "no_escalation_after_dlt",
        "safety_threshold",
        "n_stop",
    ),
    "mtpi2": (*_EPS, *_INTERVAL),
    "keyboard": (*_EPS, *_INTERVAL),
    "i3+3": (*_EPS, *_INTERVAL),
}
DESIGN_NAMES: tuple[str, ...] = tuple(PARAMETERS)
_ALIASES = {"mtpi-2": "mtpi2", "3plus3": "3+3", "titeboin": "tite-boin", "i3plus3": "i3+3"}


def canonical_name(name: str) -> str:
    """The registry name for ``name`` (case and a few spellings forgiven)."""
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key not in PARAMETERS:
        raise TrialdeskError(
            f"unknown design {name!r}; choose one of: {', '.join(DESIGN_NAMES)}", field="design"
        )
    return key


def _builders() -> dict[str, Callable[..., Design]]:
    from trialdesk.design.boin import Boin, TiteBoin
    from trialdesk.design.crm import Crm
    from trialdesk.design.mtpi import I3Plus3, Keyboard, Mtpi2

    builders: dict[str, Callable[..., Design]] = {
        "boin": Boin,
        "tite-boin": TiteBoin,
        "mtpi2": Mtpi2,
        "keyboard": Keyboard,
        "i3+3": I3Plus3,
        "crm": Crm,
    }
    return builders


def make_design(
    name: str,
    *,
    n_levels: int,
    target: float | None = None,
    cohort_size: int = 3,
    max_n: int | None = None,
    start_level: int = 0,
    **params: Any,
) -> Design:
    """Build the design ``name``. Raises TrialdeskError for an unknown name or a bad setting."""
    key = canonical_name(name)
    check_n_levels(n_levels)
    unknown = sorted(set(params) - set(PARAMETERS[key]))
    if unknown:
        allowed = ", ".join(PARAMETERS[key]) or "none"
        raise TrialdeskError(
            f"design {key} does not take {', '.join(unknown)}; its settings are: {allowed}",
            field=unknown[0],
        )
    if key == "3+3":
        from trialdesk.design.three_plus_three import ThreePlusThree

        if cohort_size != 3:
            raise TrialdeskError(
                f"3+3 treats cohorts of 3 (got {cohort_size}); use cohort_size 3",
                field="cohort_size",
            )
        if target is not None:
            check_probability(target, "target")
        return ThreePlusThree(n_levels=n_levels, start_level=start_level, max_n=max_n)
    if target is None:
        raise TrialdeskError(f"design {key} needs a target DLT rate, e.g. 0.3", field="target")
    check_probability(target, "target")
    builder = _builders()[key]
    try:
        return builder(
            n_levels=n_levels,
            target=target,
            cohort_size=cohort_size,
            start_level=start_level,
            max_n=max_n,
            **params,
        )
    except TypeError as exc:  # a setting of the wrong kind reaching the constructor
        raise TrialdeskError(f"invalid settings for design {key}: {exc}", field="design") from exc


def design_from_protocol(protocol: Protocol) -> Design:
    """The design a protocol file describes (its ``design`` section, doses and sample size).

    ``max_per_level`` becomes ``n_stop`` for designs that have it (stop once a level holds that
    many patients and the design would stay there); for 3+3 it must be 6. A CRM's
    ``prior_mtd`` is written from 1 in the protocol, like every level a person writes.
    """
    section = protocol.design
    if section is None:
        raise TrialdeskError("the protocol has no design section; add one", field="design")
    if not protocol.doses:
        raise TrialdeskError("the protocol lists no dose levels", field="doses")
    key = canonical_name(section.name)
    params: dict[str, Any] = dict(section.parameters)
    if section.max_per_level is not None:
        if key == "3+3":
            if section.max_per_level != 6:
                raise TrialdeskError(
                    f"3+3 holds at most 6 patients per level (got {section.max_per_level})",
                    field="design.max_per_level",
                )
        elif "n_stop" in PARAMETERS[key]:
            params.setdefault("n_stop", section.max_per_level)
    n_levels = len(protocol.doses)
    if key == "crm" and params.get("prior_mtd") is not None:
        prior_mtd = params["prior_mtd"]
        if not isinstance(prior_mtd, int) or not 1 <= prior_mtd <= n_levels:
            raise TrialdeskError(
                f"must be a level from 1 to {n_levels} (got {prior_mtd!r})",
                field="design.parameters.prior_mtd",
            )
        params["prior_mtd"] = prior_mtd - 1
    if not 1 <= section.start_level <= n_levels:
        raise TrialdeskError(
            f"start level {section.start_level} does not exist; choose 1 to {n_levels}",
            field="design.start_level",
        )
    return make_design(
        key,
        n_levels=n_levels,
        target=section.target_dlt_rate,
        cohort_size=section.cohort_size,
        max_n=protocol.max_sample_size,
        start_level=section.start_level - 1,
        **params,
    )
