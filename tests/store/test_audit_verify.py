"""`trialdesk audit verify` against someone with write access to the database: the append-only
triggers are dropped and rows are changed, inserted or deleted with raw SQL; the command must
name the first entry touched and exit 1, and exit 0 with the head hash when nothing was."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from trialdesk.cli import run
from trialdesk.errors import TrialdeskError
from trialdesk.store.audit import GENESIS_HASH, entry_hash, read_checkpoint, record_change
from trialdesk.store.audit_verify import verify_audit_log
from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import upgrade, upgrade_to_head
from trialdesk.store.models import AuditEntry

ENTRIES = 6


def _write_entries(engine: Engine, count: int = ENTRIES) -> None:
    with Session(engine) as session:
        for number in range(1, count + 1):
            record_change(
                session,
                actor="coord",
                entity="participant",
                entity_id=f"S-{number:03d}",
                field="weight_kg",
                old=None,
                new=60 + number,
                reason="baseline weight recorded",
            )
        session.commit()


def _drop_guards(engine: Engine) -> None:
    """What someone with database rights can do: remove the append-only triggers."""
    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            for trigger in (
                "audit_log_no_update",
                "audit_log_no_delete",
                "audit_checkpoints_no_delete",
                "audit_checkpoints_forward_only",
            ):
                connection.execute(text(f"DROP TRIGGER {trigger}"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update_or_delete ON audit_log"))
            connection.execute(
                text("DROP TRIGGER audit_checkpoints_forward_only ON audit_checkpoints")
            )


def _forged(prev_hash: str, entity_id: str) -> AuditEntry:
    """An entry made by hand with a correct hash of its own (the algorithm is public)."""
    entry = AuditEntry(
        at=datetime(2026, 3, 10, 1, 0, tzinfo=UTC),
        actor="coord",
        entity="participant",
        entity_id=entity_id,
        field="weight_kg",
        old_value="null",
        new_value="99",
        reason="forged",
        prev_hash=prev_hash,
    )
    entry.row_hash = entry_hash(entry)
    return entry


def _insert_raw(engine: Engine, entry_id: int, entry: AuditEntry) -> None:
    at = entry.at.replace(tzinfo=None) if engine.dialect.name == "sqlite" else entry.at
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_log (id, at, actor, entity, entity_id, field, old_value, "
                "new_value, reason, prev_hash, row_hash) VALUES (:id, :at, :actor, :entity, "
                ":entity_id, :field, :old_value, :new_value, :reason, :prev_hash, :row_hash)"
            ),
            {
                "id": entry_id,
                "at": at,
                "actor": entry.actor,
                "entity": entry.entity,
                "entity_id": entry.entity_id,
                "field": entry.field,
                "old_value": entry.old_value,
                "new_value": entry.new_value,
                "reason": entry.reason,
                "prev_hash": entry.prev_hash,
                "row_hash": entry.row_hash,
            },
        )


def _row_hash(engine: Engine, entry_id: int) -> str:
    with engine.connect() as connection:
        found: str = connection.execute(
            text("SELECT row_hash FROM audit_log WHERE id = :id"), {"id": entry_id}
        ).scalar_one()
    return found


def _verify(
    database_url: str, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str, str]:
    capsys.readouterr()
    code = run(["audit", "verify", "--database-url", database_url, *extra])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_intact_log_exits_0_with_its_count_and_head_hash(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_entries(engine)
    code, out, _ = _verify(database_url, capsys)
    assert code == 0
    head = _row_hash(engine, ENTRIES)
    assert out.strip() == f"audit log intact: {ENTRIES} entries, head #{ENTRIES} sha256 {head}"


def test_an_empty_log_is_intact(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _verify(database_url, capsys)
    assert (code, out.strip()) == (0, "audit log intact: 0 entries (empty audit log)")


def test_a_row_changed_in_place_is_named(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_entries(engine)
    _drop_guards(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET new_value = '75' WHERE id = 3"))
    code, _, err = _verify(database_url, capsys)
    assert code == 1
    assert "first problem: audit entry #3: altered: its content no longer matches" in err


def test_a_row_rewritten_with_a_fresh_hash_is_named(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_entries(engine)
    _drop_guards(engine)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET new_value = '75' WHERE id = 3"))
    with Session(engine) as session:  # and recompute its hash, as a careful forger would
        row = session.get(AuditEntry, 3)
        assert row is not None
        new_hash = entry_hash(row)
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET row_hash = :h WHERE id = 3"), {"h": new_hash})
    code, _, err = _verify(database_url, capsys)
    assert code == 1
    assert "first problem: audit entry #3: replaced or removed" in err


def test_a_row_inserted_in_the_middle_is_named(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_entries(engine)
    _drop_guards(engine)
    # Make room after #3 and slip a forged entry in (its link cannot repeat #3's: prev_hash
    # is unique, so it points at an invented hash).
    with engine.begin() as connection:
        connection.execute(text("UPDATE audit_log SET id = id + 100 WHERE id >= 4"))
    _insert_raw(engine, 4, _forged("ab" * 32, "S-999"))
    code, _, err = _verify(database_url, capsys)
    assert code == 1
    assert "first problem: audit entry #4: inserted outside trialdesk" in err


def test_a_row_deleted_in_the_middle_is_named(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_entries(engine)
    _drop_guards(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id = 3"))
    code, _, err = _verify(database_url, capsys)
    assert code == 1
    assert "first problem: audit entry #3: removed (entry #3 missing; entry #4 is chained" in err


def test_rows_deleted_at_the_end_are_named(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The chain that is left is a valid chain; only the checkpoint shows what is gone."""
    _write_entries(engine)
    _drop_guards(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id >= 5"))
    code, _, err = _verify(database_url, capsys)
    assert code == 1
    assert (
        "first problem: audit entry #5: rows removed from the end: entries #5 to #6 missing "
        "(trialdesk last wrote #6" in err
    )


def test_every_row_deleted_is_noticed(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_entries(engine)
    _drop_guards(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log"))
    code, _, err = _verify(database_url, capsys)
    assert code == 1
    assert "audit entry #1: rows removed from the end: entries #1 to #6 missing" in err


def test_a_row_appended_behind_trialdesks_back_is_named(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_entries(engine)
    _insert_raw(engine, ENTRIES + 1, _forged(_row_hash(engine, ENTRIES), "S-007"))
    code, _, err = _verify(database_url, capsys)
    assert code == 1
    assert f"audit entry #{ENTRIES + 1}: added outside trialdesk after #{ENTRIES}" in err


def test_a_tail_removed_with_the_checkpoint_rewound_needs_a_head_noted_outside(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The limit of the checkpoint: rewound too, the database agrees with itself. The head
    printed by an earlier report, kept elsewhere, still tells."""
    _write_entries(engine)
    noted = _row_hash(engine, ENTRIES)
    _drop_guards(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ENTRIES})
        connection.execute(
            text(
                "UPDATE audit_checkpoints SET entry_count = entry_count - 1, head_entry_id = :id, "
                "head_hash = :h"
            ),
            {"id": ENTRIES - 1, "h": _row_hash(engine, ENTRIES - 1)},
        )
    assert _verify(database_url, capsys)[0] == 0
    code, _, err = _verify(database_url, capsys, "--known-head", noted)
    assert code == 1
    assert f"rows removed from the end: the head noted earlier (sha256 {noted})" in err


def test_a_known_head_still_in_the_log_is_accepted_and_a_malformed_one_refused(
    engine: Engine, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _write_entries(engine, 2)
    noted = _row_hash(engine, 2)
    _write_entries(engine, 2)
    assert _verify(database_url, capsys, "--known-head", f"sha256:{noted}")[0] == 0
    code, _, err = _verify(database_url, capsys, "--known-head", "abc")
    assert code == 2
    assert "error: --known-head: 'abc' is not a head hash" in err


def test_trialdesk_refuses_to_write_on_after_the_tail_was_removed(engine: Engine) -> None:
    """Writing on would move the checkpoint past the gap and hide it."""
    _write_entries(engine)
    _drop_guards(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": ENTRIES})
    with Session(engine) as session, pytest.raises(TrialdeskError, match="does not end where"):
        record_change(
            session, actor="coord", entity="x", entity_id="1", field=None, old=None, new=1,
            reason="after the tamper",
        )  # fmt: skip


def test_trialdesk_refuses_to_write_on_after_the_checkpoint_was_removed(engine: Engine) -> None:
    """Without its checkpoint a log that has entries would otherwise start a new count."""
    _write_entries(engine)
    _drop_guards(engine)
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM audit_checkpoints"))
    with Session(engine) as session, pytest.raises(TrialdeskError, match="does not end where"):
        record_change(
            session, actor="coord", entity="x", entity_id="1", field=None, old=None, new=1,
            reason="after the tamper",
        )  # fmt: skip
    with Session(engine) as session:
        assert read_checkpoint(session) is None  # nothing was saved


def test_the_checkpoint_cannot_be_rewound_or_deleted_while_its_triggers_stand(
    engine: Engine,
) -> None:
    _write_entries(engine, 2)
    for statement in (
        "UPDATE audit_checkpoints SET entry_count = 1",
        "DELETE FROM audit_checkpoints",
    ):
        with pytest.raises(Exception, match="only moves forward"), engine.begin() as connection:
            connection.execute(text(statement))
    with Session(engine) as session:
        assert verify_audit_log(session).intact


def test_upgrading_a_desk_with_entries_starts_the_checkpoint_at_its_head(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0003_trial")
        with engine.begin() as connection:  # entries written before the checkpoint existed
            previous = GENESIS_HASH
            for number in (1, 2):
                forged = _forged(previous, f"S-{number:03d}")
                previous = forged.row_hash
                connection.execute(
                    text(
                        "INSERT INTO audit_log (at, actor, entity, entity_id, field, old_value, "
                        "new_value, reason, prev_hash, row_hash) VALUES (:at, 'coord', "
                        "'participant', :e, 'weight_kg', 'null', '99', 'forged', :p, :h)"
                    ),
                    {
                        "at": forged.at.replace(tzinfo=None)
                        if engine.dialect.name == "sqlite"
                        else forged.at,
                        "e": forged.entity_id,
                        "p": forged.prev_hash,
                        "h": forged.row_hash,
                    },
                )
        upgrade_to_head(engine)
        with Session(engine) as session:
            found = verify_audit_log(session)
        assert (found.intact, found.entries, found.head_hash) == (True, 2, previous)
        assert re.fullmatch(r"2 entries, head #2 sha256 [0-9a-f]{64}", found.head_line())
    finally:
        engine.dispose()
