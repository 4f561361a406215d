"""The unit of work: one transaction per use-case, committed only when the whole of it succeeded.

Writing units of work take turns. A use-case reads before it writes (how many are in the
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
of up to 100 ms, and a waiting writer holds no pooled connection. The writers of a SQLite file
in different processes then take turns on a lock file beside it
(:mod:`trialdesk.store.writer_file`) for the same reason.

**Narrow writers (PostgreSQL).** A use-case that changes only a known part of the trial names
that part in its :class:`Claim` s (one participant's own records, the next screening number;
no claim at all for a pure append such as a stored screening). On PostgreSQL such writers run
beside each other: each holds the whole-desk lock shared and its claims exclusively, and they
take turns only for the audit hash chain (:mod:`trialdesk.store.audit` locks it at the first
entry, until the commit). A writer that names no claims holds the whole desk alone, as before:
it waits for the narrow writers to finish and they wait for it. SQLite has one writer at a
time whatever the claims say. Every wait for a PostgreSQL lock is bounded by
``WRITER_QUEUE_TIMEOUT_S`` (``lock_timeout``).

Readers are not held up: SQLite's WAL and PostgreSQL's MVCC let them read the last committed
state while a writer works.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import IntEnum
from pathlib import Path
from typing import Any, Final, TypeVar
from weakref import WeakKeyDictionary

from sqlalchemy import Connection, Engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, SessionTransaction, UOWTransaction

from trialdesk.store.writer_file import FileTurn, lock_file_of

WRITE_LOCK_KEY: Final = 7_391_004_280_615_362_301
"""The PostgreSQL advisory lock key of trialdesk's writers (any fixed 64-bit number)."""
T = TypeVar("T")
READS_ONLY: Final = "trialdesk.reads_only"
"""``Session.info`` key set on a read-only unit of work's session."""
HOLDS_WRITE_LOCK: Final = "trialdesk.holds_write_lock"
"""``Session.info`` key set while a writing unit of work holds the whole desk's write lock."""
WRITER_QUEUE_TIMEOUT_S: Final = 10.0
"""How long a writer waits for its process's turn, like SQLite's busy timeout for the file,
and for each PostgreSQL lock it asks for."""
_INT4: Final = range(-(2**31), 2**31)

_LOCK_TIMEOUT_MESSAGES: Final = ("database is locked", "lock timeout", "could not obtain lock")

_writer_queues: WeakKeyDictionary[Engine, threading.Lock] = WeakKeyDictionary()
_writer_queues_guard = threading.Lock()


class ClaimKind(IntEnum):
    """What a narrow writer changes alone (the class id of its PostgreSQL advisory lock)."""

    PARTICIPANT = 1
    """One participant's own records: the key is the participant's id."""
    PARTICIPANT_NUMBERS = 2
    """The next screening number a new participant takes (key 0)."""


@dataclass(frozen=True, slots=True, order=True)
class Claim:
    """One part of the trial that a narrow writer changes with no other writer at the same time
    (see the module docstring)."""

    kind: ClaimKind
    key: int = 0

    def __post_init__(self) -> None:
        if not self.fits(self.key):
            raise ValueError(f"a claim's key is a 32-bit integer, not {self.key}")

    @staticmethod
    def fits(key: int) -> bool:
        """Whether ``key`` can name a claim (every stored id can)."""
        return key in _INT4


class ReadOnlyUnitOfWork(RuntimeError):
    """A unit of work opened for reading tried to write (a programming error, never the user's)."""


class WriterQueueTimeout(RuntimeError):
    """A writer waited longer than ``WRITER_QUEUE_TIMEOUT_S`` for its turn; nothing was written."""


@contextmanager
def unit_of_work(
    engine: Engine, *, write: bool = True, claims: Collection[Claim] | None = None
) -> Iterator[Session]:
    """A session that commits when the block ends normally and rolls back when it raises.

    ``write=True`` takes the write lock before its first statement (see the module docstring):
    the whole desk's, or with ``claims`` (a narrow writer, PostgreSQL only) just those.
    ``write=False`` reads the last committed state without waiting and refuses to flush any
    change.
    Objects stay readable after the commit (``expire_on_commit=False``) so that callers can
    render what they just saved without another round trip.
    """
    session = Session(engine, expire_on_commit=False)
    narrow = write and claims is not None and engine.dialect.name == "postgresql"
    # A narrow writer waits in PostgreSQL's lock queue (which wakes it at once), not its
    # process's: that queue would make it wait for writers whose claims it does not share.
    turn = (
        _WriterTurn(_writer_queue(engine), lock_file_of(engine)) if write and not narrow else None
    )
    try:
        if write:
            if turn is not None:
                event.listen(session, "after_transaction_create", turn.wait)
            locks = _WriteLock(sorted(claims or ()) if narrow else None)
            event.listen(session, "after_begin", locks)
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
    """This unit of work's place in its process's queue of writers and, for a SQLite file, in
    the queue of every process's writers (:mod:`trialdesk.store.writer_file`), held from the
    start of its first transaction to its end (savepoints and later transactions keep it)."""

    def __init__(self, queue: threading.Lock, lock_file: Path | None) -> None:
        self._queue = queue
        self._file = FileTurn(lock_file) if lock_file is not None else None
        self._held = False

    def wait(self, _session: Session, transaction: SessionTransaction) -> None:
        if self._held or transaction.parent is not None:
            return
        deadline = time.monotonic() + WRITER_QUEUE_TIMEOUT_S
        if not self._queue.acquire(timeout=WRITER_QUEUE_TIMEOUT_S):
            raise self._timeout()
        if self._file is not None and not self._file.take(deadline):
            self._queue.release()
            raise self._timeout()
        self._held = True

    def end(self) -> None:
        if self._held:
            self._held = False
            try:
                if self._file is not None:
                    self._file.give_back()
            finally:
                self._queue.release()

    @staticmethod
    def _timeout() -> WriterQueueTimeout:
        return WriterQueueTimeout(
            f"waited more than {WRITER_QUEUE_TIMEOUT_S:g} s for the other writers"
        )


def _writer_queue(engine: Engine) -> threading.Lock:
    with _writer_queues_guard:
        return _writer_queues.setdefault(engine, threading.Lock())


class _WriteLock:
    """Takes a writing unit of work's locks as its transaction begins: the whole desk's
    (``claims`` None) or, on PostgreSQL, the whole desk's shared and the claims' own."""

    def __init__(self, claims: list[Claim] | None) -> None:
        self._claims = claims

    def __call__(
        self, session: Session, transaction: SessionTransaction, connection: Connection
    ) -> None:
        if transaction.nested:  # a savepoint runs inside the transaction that took it
            return
        if self._claims is None:
            _take_write_lock(connection)
            session.info[HOLDS_WRITE_LOCK] = True
        else:
            _take_claims(connection, self._claims)


def _take_write_lock(connection: Connection) -> None:
    """Wait for, then hold until the transaction ends, the whole desk's right to write."""
    backend = connection.dialect.name
    if backend == "sqlite":
        if _is_memory(connection.engine):
            return  # one shared connection (StaticPool): there is no other writer to wait for
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    elif backend == "postgresql":
        connection.exec_driver_sql(
            f"SELECT {_postgres_lock_timeout()}, pg_advisory_xact_lock({WRITE_LOCK_KEY})"
        )


def _take_claims(connection: Connection, claims: list[Claim]) -> None:
    """PostgreSQL: the whole desk's lock shared, then each claim's in order (so that two
    writers never wait for each other's claims), in one round trip."""
    locks = "".join(f", pg_advisory_xact_lock({c.kind.value}, {c.key})" for c in claims)
    connection.exec_driver_sql(
        f"SELECT {_postgres_lock_timeout()}, pg_advisory_xact_lock_shared({WRITE_LOCK_KEY}){locks}"
    )


def _postgres_lock_timeout() -> str:
    """A select-list item that bounds this transaction's later lock waits (evaluated before
    the items after it); PostgreSQL then refuses with "canceling statement due to lock
    timeout", which :func:`waited_too_long` recognises."""
    return f"set_config('lock_timeout', '{round(WRITER_QUEUE_TIMEOUT_S * 1000)}ms', true)"


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
