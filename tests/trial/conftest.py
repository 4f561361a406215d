"""Fixtures for the running-trial tests: a manual clock and the stored built-in protocol."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from trialdesk.protocol import LoadedProtocol, builtin_protocol
from trialdesk.store.models import ProtocolVersion
from trialdesk.store.protocols import record_protocol_version
from trialdesk.trial.clock import ManualClock

TRIAL_START = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
"""09:00 in Chengdu on a Monday."""


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(TRIAL_START)


@pytest.fixture
def loaded() -> LoadedProtocol:
    return builtin_protocol()


@pytest.fixture
def protocol_version(session: Session, loaded: LoadedProtocol) -> ProtocolVersion:
    return record_protocol_version(
        session,
        protocol_id=loaded.protocol.id,
        version=loaded.protocol.version,
        yaml_text=loaded.text,
        sha256=loaded.sha256,
    )
