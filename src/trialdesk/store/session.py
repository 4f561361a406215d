"""The unit of work: one transaction per use-case, committed only when the whole of it succeeded.

Writing units of work run one at a time. A use-case reads before it writes (how many are in the
cohort, the next screening number, the record's version), and two of them interleaving could
both act on the same reading: two coordinators would both take the last slot of a cohort. So a
writing unit of work first takes the database's write lock, before it reads anything:

- SQLite: ``BEGIN IMMEDIATE`` (the file's one writer lock; others wait up to the busy timeout);
- PostgreSQL: a transaction-level advisory lock, released by the commit or rollback.

Readers are not held up: SQLite's WAL and PostgreSQL's MVCC let them read the last committed
state while a writer works. Every trialdesk write also extends the single audit hash chain, so
writers were already serial at the audit checkpoint; taking the lock first costs no concurrency
that the desk had.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Final

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, UOWTransaction

WRITE_LOCK_KEY: Final = 7_391_004_280_615_362_301
"""The PostgreSQL advisory lock key of trialdesk's writers (any fixed 64-bit number)."""


class ReadOnlyUnitOfWork(RuntimeError):
    """A unit of work opened for reading tried to write (a programming error, never the user's)."""


@contextmanager
def unit_of_work(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back when it raises.

    ``write=True`` takes the write lock first (see the module docstring); ``write=False`` reads
    the last committed state without waiting and refuses to flush any change.
    Objects stay readable after the commit (``expire_on_commit=False``) so that callers can
    render what they just saved without another round trip.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        if write:
            take_write_lock(session)
        else:
            event.listen(session, "before_flush", _refuse_flush)
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def take_write_lock(session: Session) -> None:
    """Wait for, then hold until the transaction ends, the right to write."""
    connection = session.connection()
    backend = connection.dialect.name
    if backend == "sqlite":
        if _is_memory(connection.engine):
            return  # one shared connection (StaticPool): there is no other writer to wait for
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif backend == "postgresql":
        connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def _is_memory(engine: Engine) -> bool:
    return engine.url.database in (None, "", ":memory:")


def _refuse_flush(session: Session, _flush: UOWTransaction, _instances: Any) -> None:
    if session.new or session.dirty or session.deleted:
        raise ReadOnlyUnitOfWork("a read-only unit of work tried to write; open it with write=True")
