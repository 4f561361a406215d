"""Fixtures for screening tests: the built-in protocol, a fresh eligible patient, and ``run``.

The patient is described in :mod:`eligibility_patients`; tests copy it, change one thing, and
check that exactly the expected criterion moves.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from eligibility_patients import ELIGIBLE

from trialdesk.eligibility import ScreeningRecord, ScreeningResult, screen
from trialdesk.protocol import builtin_protocol
from trialdesk.protocol.models import Protocol


@pytest.fixture
def protocol() -> Protocol:
    return builtin_protocol().protocol


@pytest.fixture
def patient() -> dict[str, Any]:
    """A fresh copy of the fully eligible patient's record data, to change freely."""
    return copy.deepcopy(ELIGIBLE)


@pytest.fixture
def run(protocol: Protocol) -> Callable[[dict[str, Any]], ScreeningResult]:
    """Validate record data and screen it against the built-in protocol."""

    def _run(data: dict[str, Any]) -> ScreeningResult:
        return screen(protocol, ScreeningRecord.from_data(data))

    return _run
