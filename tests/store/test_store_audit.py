"""The audit log: every change with who, when, why; nothing in it can be changed or removed."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, delete, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.audit import (
    GENESIS_HASH,
    audit_trail,
    entry_hash,
    from_json_text,
    record_change,
    verify_audit_chain,
)
from trialdesk.store.models import AuditEntry


def _change(session: Session, entity_id: str = "P-001", **overrides: object) -> AuditEntry:
    values: dict[str, object] = {
        "actor": "coordinator.li",
        "entity": "patient",
        "entity_id": entity_id,
        "field": "weight_kg",
        "old": 61.5,
        "new": 62.0,
        "reason": "transcription error corrected from the source document",
    }
    values.update(overrides)
    return record_change(session, **values)  # type: ignore[arg-type]


def _three_entries(session: Session) -> list[AuditEntry]:
    entries = [
        _change(session, "P-001"),
        _change(session, "P-002", field="名字", old="李", new="李明", reason="拼写更正"),
        _change(session, "P-001", field=None, old=None, new={"status": "enrolled"}),
    ]
    session.commit()
    return entries


def test_trail_lists_changes_oldest_first_and_filters_by_record(session: Session) -> None:
    _three_entries(session)
    assert [entry.entity_id for entry in audit_trail(session)] == ["P-001", "P-002", "P-001"]
    assert len(audit_trail(session, entity="patient", entity_id="P-001")) == 2
    assert audit_trail(session, entity="dose") == []


def test_values_are_stored_as_json_text_and_read_back(session: Session) -> None:
    first, second, third = _three_entries(session)
    session.expire_all()
    assert from_json_text(first.old_value) == 61.5
    assert second.new_value == '"李明"'
    assert second.reason == "拼写更正"
    assert from_json_text(third.old_value) is None
    assert from_json_text(third.new_value) == {"status": "enrolled"}
    dated = _change(session, old=date(2026, 1, 31), new=Decimal("2.50"))
    assert (from_json_text(dated.old_value), from_json_text(dated.new_value)) == (
        "2026-01-31",
        "2.50",
    )


def test_a_value_that_is_not_plain_data_is_refused_clearly(session: Session) -> None:
    with pytest.raises(TrialdeskError, match="new: cannot store object"):
        _change(session, new=object())


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_change_without_reason_is_refused(session: Session, reason: str) -> None:
    with pytest.raises(TrialdeskError, match="reason: every change needs a reason"):
        _change(session, reason=reason)


def test_timestamps_are_utc_and_timezone_aware_whatever_the_input_or_session_zone(
    engine: Engine,
) -> None:
    shanghai = timezone(timedelta(hours=8))
    with Session(engine) as session:
        _change(session, now=datetime(2026, 5, 4, 8, 0, tzinfo=shanghai))
        session.commit()
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET TIME ZONE 'America/New_York'"))
        with Session(bind=connection) as session:
            (entry,) = audit_trail(session)
            assert entry.at == datetime(2026, 5, 4, 0, 0, tzinfo=UTC)
            assert entry.at.tzinfo is UTC


def test_a_naive_timestamp_is_refused(session: Session) -> None:
    with pytest.raises(TrialdeskError, match="no time zone"):
        _change(session, now=datetime(2026, 5, 4, 8, 0))


def test_the_orm_refuses_to_change_or_delete_an_entry(session: Session) -> None:
    entry, _, _ = _three_entries(session)
    entry.reason = "rewritten history"
    with pytest.raises(TrialdeskError, match="append-only"):
        session.flush()
    session.rollback()
    session.delete(entry)
    with pytest.raises(TrialdeskError, match="append-only"):
        session.flush()
    session.rollback()
    with pytest.raises(TrialdeskError, match="append-only"):
        session.execute(update(AuditEntry).values(reason="bulk rewrite"))
    with pytest.raises(TrialdeskError, match="append-only"):
        session.execute(delete(AuditEntry))
    session.rollback()
    assert len(audit_trail(session)) == 3
    assert verify_audit_chain(session) == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_log SET reason = 'rewritten' WHERE id = 1",
        "UPDATE audit_log SET new_value = '0'",
        "DELETE FROM audit_log WHERE id = 2",
        "DELETE FROM audit_log",
    ],
)
def test_the_database_refuses_raw_sql_update_and_delete(engine: Engine, statement: str) -> None:
    with Session(engine) as session:
        _three_entries(session)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    with Session(engine) as session:
        assert len(audit_trail(session)) == 3
        assert verify_audit_chain(session) == []


@pytest.mark.postgres
def test_postgresql_refuses_truncate(postgres_database_url: str) -> None:
    from trialdesk.store.engine import make_engine
    from trialdesk.store.migrate import upgrade_to_head

    engine = make_engine(postgres_database_url)
    upgrade_to_head(engine)
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("TRUNCATE audit_log"))
    engine.dispose()


def _drop_append_only_triggers(engine: Engine) -> None:
    """What an attacker with database rights could do; the hash chain must still tell."""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
            connection.execute(text("DROP TRIGGER audit_log_no_delete"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update_or_delete ON audit_log"))


def test_an_intact_chain_links_each_entry_to_the_one_before(session: Session) -> None:
    first, second, third = _three_entries(session)
    assert first.prev_hash == GENESIS_HASH
    assert (second.prev_hash, third.prev_hash) == (first.row_hash, second.row_hash)
    assert verify_audit_chain(session) == []


def test_the_chain_reveals_an_entry_altered_behind_the_applications_back(
    engine: Engine,
) -> None:
    with Session(engine) as session:
        _three_entries(session)
    _drop_append_only_triggers(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET new_value = '65.0' WHERE id = 1"))
    with Session(engine) as session:
        problems = verify_audit_chain(session)
    assert [(problem.entry_id, "altered" in problem.problem) for problem in problems] == [(1, True)]


def test_the_chain_reveals_an_entry_removed_from_the_middle(engine: Engine) -> None:
    with Session(engine) as session:
        _three_entries(session)
    _drop_append_only_triggers(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id = 2"))
    with Session(engine) as session:
        problems = verify_audit_chain(session)
    assert [(problem.entry_id, "removed" in problem.problem) for problem in problems] == [(2, True)]


_FIELDS = ("actor", "entity", "entity_id", "field", "old_value", "new_value", "reason")


@given(field=st.sampled_from(_FIELDS), replacement=st.text(max_size=20))
def test_changing_any_field_changes_the_hash(field: str, replacement: str) -> None:
    entry = AuditEntry(
        at=datetime(2026, 1, 1, tzinfo=UTC),
        actor="a",
        entity="patient",
        entity_id="P-001",
        field="weight_kg",
        old_value="61.5",
        new_value="62.0",
        reason="why",
        prev_hash=GENESIS_HASH,
    )
    before = entry_hash(entry)
    if getattr(entry, field) == replacement:
        replacement += "x"
    setattr(entry, field, replacement)
    assert entry_hash(entry) != before
