"""Operating characteristics of dose-finding designs: exact (dynamic programming over a compiled
state graph), Monte Carlo (vectorised, seeded) and event-time Monte Carlo for time-to-event
designs. (Dose-transition pathways live in :mod:`trialdesk.design.pathways`.)

Public API: :func:`operating_characteristics`, :class:`OperatingCharacteristics`,
:class:`Scenario`, :func:`compiled` (the cached graph), :func:`compile_design`.
"""

from trialdesk.design.oc.api import is_time_to_event, operating_characteristics
from trialdesk.design.oc.event_time import Accrual
from trialdesk.design.oc.graph import CompiledDesign, compile_design, compiled
from trialdesk.design.oc.results import (
    OperatingCharacteristics,
    Scenario,
    parse_rates,
    true_mtd,
)

__all__ = [
    "Accrual",
    "CompiledDesign",
    "OperatingCharacteristics",
    "Scenario",
    "compile_design",
    "compiled",
    "is_time_to_event",
    "operating_characteristics",
    "parse_rates",
    "true_mtd",
]
