"""Stored screenings: kept exactly, audited, paged newest first, and never changed or removed."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Engine, delete, inspect, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.audit import audit_trail, from_json_text, verify_audit_chain
from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import downgrade, upgrade_to_head
from trialdesk.store.models import Screening
from trialdesk.store.protocols import record_protocol_version
from trialdesk.store.screenings import (
    get_screening,
    list_screenings,
    record_screening,
)

PROTOCOL_TEXT = "id: DEMO-1\nversion: '1.0'\n"
# Exactly as a client might send it: odd spacing, key order, Chinese, a trailing newline.
INPUT_TEXT = '{ "sex":"female",  "name": "李梅",\n "labs": {"anc": {"value": 1.5}} }\n'
RESULT_TEXT = '{"verdict": "incomplete", "criteria": [{"id": "I1", "status": "unknown"}]}'


def _protocol_version_id(session: Session, text_: str = PROTOCOL_TEXT) -> int:
    version = record_protocol_version(
        session,
        protocol_id="DEMO-1",
        version="1.0",
        yaml_text=text_,
        sha256=hashlib.sha256(text_.encode("utf-8")).hexdigest(),
    )
    return int(version.id)


def _screen(session: Session, **overrides: object) -> Screening:
    values: dict[str, object] = {
        "protocol_version_id": _protocol_version_id(session),
        "software_version": "0.1.0",
        "input_format": "record",
        "input_text": INPUT_TEXT,
        "screening_date": date(2026, 11, 20),
        "result_json": RESULT_TEXT,
        "screened_by": "coordinator.li",
    }
    values.update(overrides)
    return record_screening(session, **values)  # type: ignore[arg-type]


def test_a_screening_is_read_back_exactly_as_stored(session: Session) -> None:
    stored = _screen(
        session, now=datetime(2026, 11, 20, 9, 30, tzinfo=timezone(timedelta(hours=8)))
    )
    session.commit()
    session.expire_all()
    again = get_screening(session, stored.id)
    assert again.input_text == INPUT_TEXT
    assert again.result_json == RESULT_TEXT
    assert again.verdict == "incomplete"
    assert again.screening_date == date(2026, 11, 20)
    assert again.protocol_sha256 == hashlib.sha256(PROTOCOL_TEXT.encode()).hexdigest()
    assert again.software_version == "0.1.0"
    assert again.screened_by == "coordinator.li"
    assert again.screened_at == datetime(2026, 11, 20, 1, 30, tzinfo=UTC)


def test_recording_a_screening_writes_an_audit_entry(session: Session) -> None:
    stored = _screen(session)
    session.commit()
    (entry,) = audit_trail(session, entity="screening")
    assert entry.entity_id == str(stored.id)
    assert entry.actor == "coordinator.li"
    assert from_json_text(entry.old_value) is None
    assert from_json_text(entry.new_value)["verdict"] == "incomplete"
    assert from_json_text(entry.new_value)["screening_date"] == "2026-11-20"
    assert verify_audit_chain(session) == []


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"input_format": "hl7v2"}, "input_format"),
        ({"screened_by": "  "}, "screened_by"),
        ({"screened_by": "x" * 101}, "screened_by"),
        ({"result_json": "not json"}, "result_json"),
        ({"result_json": '{"criteria": []}'}, "result_json"),
        ({"protocol_version_id": 999}, "protocol_version_id"),
    ],
)
def test_bad_values_are_refused_and_nothing_is_stored(
    session: Session, overrides: dict[str, object], field: str
) -> None:
    _protocol_version_id(session)
    with pytest.raises(TrialdeskError) as raised:
        _screen(session, **overrides)
    assert raised.value.field == field
    assert list_screenings(session).total == 0
    assert audit_trail(session, entity="screening") == []


def test_an_unknown_id_is_a_clear_not_found(session: Session) -> None:
    with pytest.raises(TrialdeskError, match="there is no screening #42"):
        get_screening(session, 42)


def test_pages_go_newest_first_without_gaps_or_repeats(session: Session) -> None:
    ids = [_screen(session).id for _ in range(5)]
    session.commit()
    first = list_screenings(session, limit=2)
    assert [row.id for row in first.items] == ids[::-1][:2]
    assert first.total == 5
    second = list_screenings(session, limit=2, cursor=first.next_cursor)
    # A screening added between two page requests must not shift the next page.
    _screen(session)
    session.commit()
    third = list_screenings(session, limit=2, cursor=second.next_cursor)
    seen = [row.id for page in (first, second, third) for row in page.items]
    assert seen == ids[::-1]
    assert third.next_cursor is None


@pytest.mark.parametrize(
    ("limit", "cursor", "field"), [(0, None, "limit"), (201, None, "limit"), (5, 0, "cursor")]
)
def test_impossible_page_requests_are_refused(
    session: Session, limit: int, cursor: int | None, field: str
) -> None:
    with pytest.raises(TrialdeskError) as raised:
        list_screenings(session, limit=limit, cursor=cursor)
    assert raised.value.field == field


def test_the_orm_refuses_to_change_or_delete_a_screening(session: Session) -> None:
    stored = _screen(session)
    session.commit()
    stored.verdict = "eligible"
    with pytest.raises(TrialdeskError, match="cannot be changed or deleted"):
        session.flush()
    session.rollback()
    session.delete(stored)
    with pytest.raises(TrialdeskError, match="cannot be changed or deleted"):
        session.flush()
    session.rollback()
    with pytest.raises(TrialdeskError, match="cannot be changed or deleted"):
        session.execute(update(Screening).values(verdict="eligible"))
    with pytest.raises(TrialdeskError, match="cannot be changed or deleted"):
        session.execute(delete(Screening))
    session.rollback()
    assert get_screening(session, stored.id).verdict == "incomplete"


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE screenings SET verdict = 'eligible'",
        "UPDATE screenings SET result_json = '{}' WHERE id = 1",
        "DELETE FROM screenings WHERE id = 1",
        "DELETE FROM screenings",
    ],
)
def test_the_database_refuses_raw_sql_update_and_delete(engine: Engine, statement: str) -> None:
    with Session(engine) as session:
        _screen(session)
        session.commit()
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text(statement))
    with Session(engine) as session:
        assert get_screening(session, 1).verdict == "incomplete"


@pytest.mark.postgres
def test_postgresql_refuses_truncate(postgres_database_url: str) -> None:
    engine = make_engine(postgres_database_url)
    upgrade_to_head(engine)
    # CASCADE: without it PostgreSQL refuses earlier, as participant_screenings references it.
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(text("TRUNCATE screenings CASCADE"))
    engine.dispose()


def test_migration_0002_adds_the_table_and_can_be_undone(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    assert "screenings" in inspect(engine).get_table_names()
    downgrade(engine, "0001_initial")
    assert "screenings" not in inspect(engine).get_table_names()
    assert "audit_log" in inspect(engine).get_table_names()
    upgrade_to_head(engine)
    with Session(engine) as session:
        _screen(session)
        session.commit()
    engine.dispose()


def test_result_text_is_not_reformatted_on_either_backend(session: Session) -> None:
    # Replay compares texts, so the database must hand back the very characters stored.
    odd = json.dumps({"verdict": "eligible", "criteria": [], "x": 1.10, "z": "≥"}, indent=3)
    stored = _screen(session, result_json=odd)
    session.commit()
    session.expire_all()
    assert get_screening(session, stored.id).result_json == odd
