"""The unit of work: one transaction per use-case, committed only when the whole of it succeeded.

Writing units of work run one at a time. A use-case reads before it writes (how many are in the
cohort, the next screening number, the record's version), and two of them interleaving could
both act on the same reading: two coordinators would both take the last slot of a cohort. So a
writing unit of work first takes the database's write lock, before it reads anything:

- SQLite: ``BEGIN IMMEDIATE`` (the file's one writer lock; others wait up to the busy timeout);
- PostgreSQL: a transaction-level advisory lock, released by the commit or rollback.

The lock is taken when the unit of work first touches the database, not when it opens: work
done before the first statement (evaluating a screening's criteria, checking a form) does not
hold the other writers up. Within one server process the writers also queue on a
``threading.Lock`` before asking the database, from the moment their session begins its
transaction (the first statement, or the first object added): a thread waiting there wakes as
soon as the previous writer is done, where SQLite's busy handler would have polled with sleeps
of up to 100 ms, and a waiting writer holds no pooled connection.

Readers are not held up: SQLite's WAL and PostgreSQL's MVCC let them read the last committed
state while a writer works. Every trialdesk write also extends the single audit hash chain, so
writers were already serial at the audit checkpoint; taking the lock first costs no concurrency
that the desk had.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Final, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

WRITE_LOCK_KEY: Final = 7_391_004_280_615_362_301
"""The PostgreSQL advisory lock key of trialdesk's writers (any fixed 64-bit number)."""
T = TypeVar("T")
READS_ONLY: Final = "trialdesk.reads_only"
"""``Session.info`` key set on a read-only unit of work's session."""
HOLDS_WRITE_LOCK: Final = "trialdesk.holds_write_lock"
"""``Session.info`` key set while a writing unit of work holds the database's write lock."""
WRITER_QUEUE_TIMEOUT_S: Final = 10.0
"""How long a writer waits for its process's turn, like SQLite's busy timeout for the file."""

_LOCK_TIMEOUT_MESSAGES: Final = ("database is locked", "lock timeout", "could not obtain lock")

_writer_queues: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_writer_queues_guard = threading.Lock()


class ReadOnlyUnitOfWork(RuntimeError):
    """A unit of work opened for reading tried to write (a programming error, never the user's)."""


class WriterQueueTimeout(RuntimeError):
    """A writer waited longer than ``WRITER_QUEUE_TIMEOUT_S`` for its turn; nothing was written."""


@contextmanager
def unit_of_work(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back when it raises.

    ``write=True`` takes the write lock before its first statement (see the module docstring);
    ``write=False`` reads the last committed state without waiting and refuses to flush any
    change.
    Objects stay readable after the commit (``expire_on_commit=False``) so that callers can
    render what they just saved without another round trip.
    """
    session = Session(engine, expire_on_commit=False)
    turn = _WriterTurn(_writer_queue(engine)) if write else None
    try:
        if turn is not None:
            event.listen(session, "after_transaction_create", turn.wait)
            event.listen(session, "after_begin", _take_write_lock)
        else:
            event.listen(session, "before_flush", _refuse_flush)
            session.info[READS_ONLY] = True
            _read_without_transaction(session, engine)
        yield session
        # Committing a session that never began would begin a transaction only to commit it, and
        # a writer would queue for its turn with nothing to write.
        if session.in_transaction() or session.dirty:
            session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        try:
            session.close()
        finally:
            if turn is not None:
                turn.end()  # a turn left held would stop every later writer of the process


def _read_without_transaction(session: Session, engine: Engine) -> None:
    """On PostgreSQL a reader sends its statements without BEGIN and COMMIT. At PostgreSQL's
    READ COMMITTED every statement reads its own snapshot even inside a transaction, so the
    transaction gave a reader nothing and cost two round trips to a busy server. SQLite keeps
    its read transaction: there it is one snapshot for the whole unit of work."""
    if engine.dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


class _WriterTurn:
    """This unit of work's place in its process's queue of writers, held from the start of its
    first transaction to its end (savepoints and later transactions keep it)."""

    def __init__(self, queue: threading.Lock) -> None:
        self._queue = queue
        self._held = False

    def wait(self, _session: Session, transaction: SessionTransaction) -> None:
        if self._held or transaction.parent is not None:
            return
        if not self._queue.acquire(timeout=WRITER_QUEUE_TIMEOUT_S):
            raise WriterQueueTimeout(
                f"waited more than {WRITER_QUEUE_TIMEOUT_S:g} s for the other writers"
            )
        self._held = True

    def end(self) -> None:
        if self._held:
            self._held = False
            self._queue.release()


def _writer_queue(engine: Engine) -> threading.Lock:
    with _writer_queues_guard:
        return _writer_queues.setdefault(engine, threading.Lock())


def _take_write_lock(
    session: Session, transaction: SessionTransaction, connection: Connection
) -> None:
    if not transaction.nested:  # a savepoint runs inside the transaction that took it
        take_write_lock(connection)
        session.info[HOLDS_WRITE_LOCK] = True


def take_write_lock(connection: Connection) -> None:
    """Wait for, then hold until the transaction ends, the database's right to write."""
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


def waited_too_long(exc: BaseException) -> bool:
    """Whether ``exc`` says a writer gave up waiting for its turn (nothing of it was written):
    its process's queue, SQLite's busy timeout or a PostgreSQL lock timeout."""
    if isinstance(exc, WriterQueueTimeout):
        return True
    if isinstance(exc, OperationalError):
        text = str(exc.orig).lower()
        return any(message in text for message in _LOCK_TIMEOUT_MESSAGES)
    return False


def read_once(session: Session, key: str, read: Callable[[], T]) -> T:
    """``read()``, remembered under ``key`` for the rest of a read-only unit of work, which
    cannot change what it read (a page asks for the same rows from several places); any other
    session reads afresh each time."""
    if not session.info.get(READS_ONLY):
        return read()
    remembered: dict[str, Any] = session.info.setdefault("trialdesk.read_once", {})
    if key not in remembered:
        remembered[key] = read()
    value: T = remembered[key]
    return value
