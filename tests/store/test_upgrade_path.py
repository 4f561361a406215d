"""The upgrade path a site follows (docs/operations.md, Upgrading): a database made by the first
release, with data written at that schema, is migrated one revision at a time to the newest,
and keeps every row and an intact audit chain that later changes extend.

The revisions are read from the packaged Alembic scripts, so a new migration is walked too. Rows
are written with plain SQL for the schema of the revision at hand (not with today's models),
the way an older trialdesk left them.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect
from sqlalchemy.orm import Session

from trialdesk.cli import run
from trialdesk.protocol import builtin_protocol
from trialdesk.store.audit import GENESIS_HASH, audit_trail, entry_hash, record_change
from trialdesk.store.audit_verify import verify_audit_database
from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import (
    alembic_config,
    current_revision,
    downgrade,
    head_revision,
    upgrade,
)
from trialdesk.store.models import AuditEntry, Participant, ProtocolVersion, User

START = datetime(2026, 3, 10, 1, 0, 0, 123456, tzinfo=UTC)
NOTE = "prefers calls after 18:00; daughter's number on the paper file"


def revisions_oldest_first() -> list[str]:
    """Every packaged revision from the first to the head; the history must be one line."""
    script = ScriptDirectory.from_config(alembic_config())
    newest_first = list(script.walk_revisions("base", "heads"))
    ordered = [revision.revision for revision in reversed(newest_first)]
    for older, newer in itertools.pairwise(ordered):
        assert script.get_revision(newer).down_revision == older, "migrations must not branch"
    assert ordered[-1] == head_revision()
    return ordered


def stored_time(connection: Connection, moment: datetime) -> Any:
    """A timestamp as trialdesk stores it: timestamptz on PostgreSQL, naive UTC text on SQLite."""
    if connection.dialect.name == "sqlite":
        return moment.astimezone(UTC).replace(tzinfo=None).isoformat(sep=" ")
    return moment


def append_audit(connection: Connection, rows: list[dict[str, Any]]) -> None:
    """Audit rows chained as trialdesk chains them (sha256 over content and previous hash)."""
    previous = connection.execute(
        sa.text("SELECT row_hash FROM audit_log ORDER BY id DESC LIMIT 1")
    ).scalar_one_or_none()
    for row in rows:
        entry = AuditEntry(prev_hash=previous or GENESIS_HASH, field=None, **row)
        entry.row_hash = entry_hash(entry)
        connection.execute(
            sa.text(
                "INSERT INTO audit_log (at, actor, entity, entity_id, field, old_value, "
                "new_value, reason, prev_hash, row_hash) VALUES (:at, :actor, :entity, "
                ":entity_id, :field, :old_value, :new_value, :reason, :prev_hash, :row_hash)"
            ),
            {
                "at": stored_time(connection, entry.at),
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
        previous = entry.row_hash


def seed_first_schema(engine: Engine) -> None:
    """What the first release stored: a protocol version, an account, three audit entries."""
    builtin = builtin_protocol()
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO protocol_versions (id, protocol_id, version, yaml_text, sha256, "
                "loaded_at) VALUES (1, :pid, :version, :text, :sha, :at)"
            ),
            {
                "pid": builtin.protocol.id,
                "version": builtin.protocol.version,
                "text": builtin.text,
                "sha": builtin.sha256,
                "at": stored_time(connection, START),
            },
        )
        connection.execute(
            sa.text(
                "INSERT INTO users (id, username, display_name, role, created_at, active) "
                "VALUES (1, 'coord', 'WANG Fang 王芳', 'coordinator', :at, :active)"
            ),
            {"at": stored_time(connection, START), "active": True},
        )
        append_audit(
            connection,
            [
                {
                    "at": START + timedelta(seconds=i),
                    "actor": "admin",
                    "entity": entity,
                    "entity_id": "1",
                    "old_value": "null",
                    "new_value": new,
                    "reason": reason,
                }
                for i, (entity, new, reason) in enumerate(
                    [
                        ("protocol_version", f'"{builtin.sha256}"', "desk started"),
                        ("user", '{"role": "coordinator", "username": "coord"}', "new staff"),
                        ("user", '"WANG Fang 王芳"', "name as on the delegation log"),
                    ]
                )
            ],
        )


def seed_participant_when_its_table_appears(engine: Engine) -> bool:
    """A participant written with the columns of the revision that created the table; True
    once written. Its audit entry is written too while there is no checkpoint to keep."""
    with engine.begin() as connection:
        tables = set(inspect(connection).get_table_names())
        if "participants" not in tables:
            return False
        connection.execute(
            sa.text(
                "INSERT INTO participants (id, screening_number, status, sex, birth_date, "
                "contact_note, protocol_version_id, created_at, created_by) VALUES "
                "(1, 'S-001', 'prescreened', 'female', :born, :note, 1, :at, 'coord')"
            ),
            {"born": date(1961, 5, 4), "note": NOTE, "at": stored_time(connection, START)},
        )
        if "audit_checkpoints" not in tables:
            append_audit(
                connection,
                [
                    {
                        "at": START + timedelta(minutes=5),
                        "actor": "coord",
                        "entity": "participant",
                        "entity_id": "1",
                        "old_value": "null",
                        "new_value": '"S-001"',
                        "reason": "pre-screen contact",
                    }
                ],
            )
    return True


def test_a_first_release_database_upgrades_step_by_step_and_keeps_its_data(
    database_url: str,
) -> None:
    revisions = revisions_oldest_first()
    engine = make_engine(database_url)
    try:
        upgrade(engine, revisions[0])
        assert current_revision(engine) == revisions[0]
        seed_first_schema(engine)
        participant_written = seed_participant_when_its_table_appears(engine)
        for revision in revisions[1:]:
            upgrade(engine, revision)
            assert current_revision(engine) == revision
            if not participant_written:
                participant_written = seed_participant_when_its_table_appears(engine)
            with engine.connect() as connection:  # the first release's rows, after every step
                assert connection.execute(
                    sa.text("SELECT username, display_name FROM users WHERE id = 1")
                ).one() == ("coord", "WANG Fang 王芳"), revision
                audit_rows = connection.execute(sa.text("SELECT COUNT(*) FROM audit_log"))
                assert audit_rows.scalar_one() >= 3, revision
        assert participant_written, "the newest schema has a participants table"

        with Session(engine) as session:
            user = session.get(User, 1)
            assert user is not None
            assert (user.username, user.display_name, user.role, user.active) == (
                "coord",
                "WANG Fang 王芳",
                "coordinator",
                True,
            )
            protocol = session.get(ProtocolVersion, 1)
            assert protocol is not None and protocol.sha256 == builtin_protocol().sha256
            assert protocol.yaml_text == builtin_protocol().text
            assert protocol.loaded_at == START
            person = session.get(Participant, 1)
            assert person is not None
            assert (person.screening_number, person.birth_date, person.contact_note) == (
                "S-001",
                date(1961, 5, 4),
                NOTE,
            )
            trail = audit_trail(session)
            assert [e.reason for e in trail] == [
                "desk started",
                "new staff",
                "name as on the delegation log",
                "pre-screen contact",
            ]
            assert trail[0].at == START and trail[2].new_value == '"WANG Fang 王芳"'

        verification = verify_audit_database(engine)
        assert verification.intact, verification.problems
        assert verification.entries == 4
        # The upgraded desk writes on: the chain and the checkpoint carry the old entries.
        with Session(engine) as session, session.begin():
            record_change(
                session,
                actor="coord",
                entity="participant",
                entity_id="1",
                field="contact_note",
                old=NOTE,
                new="call mornings",
                reason="participant asked",
            )
        after = verify_audit_database(engine)
        assert after.intact and after.entries == 5
    finally:
        engine.dispose()
    assert run(["audit", "verify", "--database-url", database_url]) == 0


def test_one_step_back_keeps_the_older_schemas_data_and_the_way_forward_works_again(
    database_url: str,
) -> None:
    """Downgrades exist for development; a site goes back by restoring its backup instead
    (docs/operations.md). Going back one step must still not lose what the older schema has."""
    revisions = revisions_oldest_first()
    engine = make_engine(database_url)
    try:
        upgrade(engine, revisions[0])
        seed_first_schema(engine)
        upgrade(engine, "head")
        downgrade(engine, revisions[-2])
        assert current_revision(engine) == revisions[-2]
        with engine.connect() as connection:
            assert connection.execute(
                sa.text("SELECT display_name FROM users WHERE id = 1")
            ).scalar_one() == ("WANG Fang 王芳")
            assert connection.execute(sa.text("SELECT COUNT(*) FROM audit_log")).scalar_one() == 3
        upgrade(engine, "head")
        assert verify_audit_database(engine).intact
    finally:
        engine.dispose()


def test_there_is_no_downgrade_command_for_a_site(capsys: pytest.CaptureFixture[str]) -> None:
    """Going back is a restore of the backup taken before the upgrade, never a schema rewind."""
    assert run(["db", "downgrade"]) == 2
    assert "No such command 'downgrade'" in capsys.readouterr().err
