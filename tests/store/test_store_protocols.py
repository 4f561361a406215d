"""The exact protocol text a desk ran is kept once per distinct text, identified by its sha256."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.protocol import load_protocol
from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import upgrade_to_head
from trialdesk.store.models import ProtocolVersion
from trialdesk.store.protocols import latest_protocol_version, record_protocol_version

# Chinese, CRLF line ends, a tab, trailing spaces and no final newline must all survive.
TEXT = "id: DEMO-1\r\ntitle: 剂量递增研究 — dose escalation\t\nnote: 'µg/kg ≥ 3'  \n  "


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _record(session: Session, text: str = TEXT, version: str = "1.0") -> ProtocolVersion:
    return record_protocol_version(
        session, protocol_id="DEMO-1", version=version, yaml_text=text, sha256=_sha(text)
    )


def test_text_is_stored_exactly_and_read_back_byte_for_byte(session: Session) -> None:
    stored = _record(session)
    session.commit()
    session.expire_all()
    again = session.get(ProtocolVersion, stored.id)
    assert again is not None
    assert again.yaml_text == TEXT
    assert _sha(again.yaml_text) == again.sha256


def test_same_text_twice_gives_the_same_row_and_no_duplicate(session: Session) -> None:
    first = _record(session)
    session.commit()
    second = _record(session, version="1.0")
    session.commit()
    assert second.id == first.id
    count = session.scalar(select(func.count()).select_from(ProtocolVersion))
    assert count == 1


def test_a_changed_text_is_a_new_version_and_becomes_the_latest(session: Session) -> None:
    first = record_protocol_version(
        session,
        protocol_id="DEMO-1",
        version="1.0",
        yaml_text=TEXT,
        sha256=_sha(TEXT),
        now=datetime(2026, 1, 1, tzinfo=UTC),
    )
    changed = TEXT + "\n# amendment 1\n"
    second = record_protocol_version(
        session,
        protocol_id="DEMO-1",
        version="1.1",
        yaml_text=changed,
        sha256=_sha(changed),
        now=datetime(2026, 2, 1, tzinfo=UTC),
    )
    session.commit()
    assert second.id != first.id
    latest = latest_protocol_version(session, "DEMO-1")
    assert latest is not None
    assert latest.version == "1.1"
    assert latest_protocol_version(session, "OTHER") is None


def test_loaded_at_is_utc_and_timezone_aware(session: Session) -> None:
    shanghai = timezone(timedelta(hours=8))
    stored = record_protocol_version(
        session,
        protocol_id="DEMO-1",
        version="1.0",
        yaml_text=TEXT,
        sha256=_sha(TEXT),
        now=datetime(2026, 3, 1, 9, 30, tzinfo=shanghai),
    )
    session.commit()
    session.expire_all()
    assert stored.loaded_at == datetime(2026, 3, 1, 1, 30, tzinfo=UTC)
    assert stored.loaded_at.utcoffset() == timedelta(0)


def test_a_hash_that_is_not_of_the_text_is_refused(session: Session) -> None:
    with pytest.raises(TrialdeskError, match="sha256"):
        record_protocol_version(
            session, protocol_id="DEMO-1", version="1.0", yaml_text=TEXT, sha256=_sha("other")
        )


def test_builtin_protocol_round_trips(session: Session) -> None:
    loaded = load_protocol(None)
    stored = record_protocol_version(
        session,
        protocol_id=loaded.protocol.id,
        version=loaded.protocol.version,
        yaml_text=loaded.text,
        sha256=loaded.sha256,
    )
    session.commit()
    session.expire_all()
    assert stored.yaml_text == loaded.text
    assert stored.sha256 == loaded.sha256


# YAML itself forbids NUL (and PostgreSQL text cannot hold it), so texts here exclude it.
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(st.characters(exclude_characters="\x00"), max_size=200))
def test_any_text_survives_unchanged_in_sqlite(text: str) -> None:
    engine = make_engine("sqlite:///:memory:")
    upgrade_to_head(engine)
    with Session(engine) as session:
        stored = _record(session, text)
        session.commit()
        session.expire_all()
        assert session.get(ProtocolVersion, stored.id).yaml_text == text  # type: ignore[union-attr]
    engine.dispose()
