"""On PostgreSQL a busy desk waits on round trips to the server, which shares the machine's
cores: readers send no BEGIN/COMMIT (at READ COMMITTED each statement reads its own snapshot
anyway), and a writer's audit entries take no second lock beside the writers' lock."""

from __future__ import annotations

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from trialdesk.store.audit import record_change
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
