"""On PostgreSQL a busy desk waits on round trips to the server, which shares the machine's
cores: readers send no BEGIN/COMMIT (at READ COMMITTED each statement reads its own snapshot
anyway), and a writer's audit entries take no second lock beside the writers' lock."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from trialdesk.store.audit import audit_trail, record_change, verify_audit_chain
from trialdesk.store.session import unit_of_work


def state_of(engine: Engine, backend: int) -> str:
    """pg_stat_activity's state of another connection's backend, seen from a fresh one."""
    with engine.connect() as observer:
        state = observer.scalar(
            text("SELECT state FROM pg_stat_activity WHERE pid = :pid"), {"pid": backend}
        )
    return str(state)


def test_a_reader_holds_no_transaction_open_between_its_statements(postgres_engine: Engine) -> None:
    with unit_of_work(postgres_engine, write=False) as session:
        backend = int(session.scalar(text("SELECT pg_backend_pid()")))
        assert state_of(postgres_engine, backend) == "idle"  # not "idle in transaction"
        assert session.scalar(text("SELECT count(*) FROM audit_log")) == 0

    with unit_of_work(postgres_engine) as writer:  # a writer keeps its transaction to the end
        backend = int(writer.scalar(text("SELECT pg_backend_pid()")))
        assert state_of(postgres_engine, backend) == "idle in transaction"


def advisory_locks(session: Session) -> int:
    return int(
        session.scalar(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' "
                "AND pid = pg_backend_pid()"
            )
        )
    )


def entry(session: Session) -> None:
    record_change(
        session,
        actor="coord",
        entity="note",
        entity_id="1",
        field=None,
        old=None,
        new="x",
        reason="test entry",
    )


def test_a_writer_audits_under_the_writers_lock_alone(postgres_engine: Engine) -> None:
    with unit_of_work(postgres_engine) as writer:
        entry(writer)
        entry(writer)
        assert advisory_locks(writer) == 1  # the writers' lock; no separate audit lock

    # A session outside unit_of_work (a script) still serialises its audit entries.
    with Session(postgres_engine) as script:
        entry(script)
        assert advisory_locks(script) == 1
        script.commit()


def test_an_audit_entry_is_one_statement_once_the_log_has_its_checkpoint(
    postgres_engine: Engine,
) -> None:
    """Checking the chain's end, appending and moving the checkpoint are one round trip; the
    hash the server computes is the one `trialdesk audit verify` recomputes (non-ASCII too)."""
    with unit_of_work(postgres_engine) as first:
        entry(first)  # the very first entry also creates the checkpoint

    statements: list[str] = []

    def sent(_connection: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(postgres_engine, "before_cursor_execute", sent)
    try:
        with unit_of_work(postgres_engine) as writer:
            writer.execute(text("SELECT 1"))  # the writers' lock is taken here
            statements.clear()
            record_change(
                writer,
                actor="协调员",
                entity="note",
                entity_id="2",
                field="文本",
                old="旧",
                new="新",
                reason="更正",
            )
            assert len(statements) == 1, statements
    finally:
        event.remove(postgres_engine, "before_cursor_execute", sent)

    with Session(postgres_engine) as reader:
        assert verify_audit_chain(reader) == []
        assert [e.field for e in audit_trail(reader)] == [None, "文本"]
