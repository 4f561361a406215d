"""Writers of one SQLite file in different processes take turns on the lock file beside it.

A server runs several processes; without a lock they all share, a writer that finds the file
taken waits in SQLite's busy handler, which sleeps up to 100 ms between tries. Here another
process holds the lock file while SQLite itself is free, so only the lock file can hold the
writer back: it waits, goes ahead when the file is given back (or its holder dies), and gives
up after WRITER_QUEUE_TIMEOUT_S with nothing saved.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine
from test_write_turns import PATIENCE_S, Writer, person, usernames

from trialdesk.store.engine import make_engine
from trialdesk.store.session import WriterQueueTimeout
from trialdesk.store.writer_file import LOCK_FILE_SUFFIX, lock_file_of

HOLD_THE_FILE = """
import fcntl, os, sys
descriptor = os.open(sys.argv[1], os.O_RDONLY | os.O_CREAT, 0o644)
fcntl.flock(descriptor, fcntl.LOCK_EX)
print("held", flush=True)
sys.stdin.readline()
"""


ON_A_SQLITE_FILE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""The shared ``engine`` fixture on its SQLite file only."""


class OtherProcess:
    """Another process holding the writers' lock file until it is told to let go or killed."""

    def __init__(self, lock_file: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLD_THE_FILE, str(lock_file)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "held"

    def let_go(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        self.process.wait(timeout=PATIENCE_S)

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=PATIENCE_S)

    def close(self) -> None:
        if self.process.poll() is None:
            self.kill()
        for stream in (self.process.stdin, self.process.stdout):
            if stream is not None:
                stream.close()


@pytest.fixture
def holder(engine: Engine) -> Iterator[OtherProcess]:
    lock_file = lock_file_of(engine)
    assert lock_file is not None
    other = OtherProcess(lock_file)
    try:
        yield other
    finally:
        other.close()


def test_the_lock_file_sits_beside_the_database_file(sqlite_database_url: str) -> None:
    engine = make_engine(sqlite_database_url)
    try:
        assert lock_file_of(engine) == Path(str(engine.url.database) + LOCK_FILE_SUFFIX)
    finally:
        engine.dispose()


def test_an_in_memory_database_has_no_lock_file() -> None:
    engine = make_engine("sqlite:///:memory:")
    try:
        assert lock_file_of(engine) is None
    finally:
        engine.dispose()


def test_a_postgres_database_has_no_lock_file(postgres_engine: Engine) -> None:
    assert lock_file_of(postgres_engine) is None


def waiting_writer(engine: Engine, username: str) -> Writer:
    """A writer started while another process holds the lock file: it must be waiting."""
    writer = Writer(engine, lambda session: session.add(person(username)))
    writer.start()
    writer.join(timeout=0.5)
    assert writer.is_alive(), "the writer did not wait for the process holding the lock file"
    return writer


@ON_A_SQLITE_FILE
@pytest.mark.parametrize("ending", ["lets go", "is killed"])
def test_a_writer_waits_for_another_process_and_goes_ahead_when_it_lets_go_or_dies(
    engine: Engine, holder: OtherProcess, ending: str
) -> None:
    """Killed in the middle of a write, a server process does not leave the others stuck."""
    writer = waiting_writer(engine, "waited")
    if ending == "lets go":
        holder.let_go()
    else:
        holder.kill()
    assert writer.finished() and writer.error is None, writer.error
    assert usernames(engine) == ["waited"]


@ON_A_SQLITE_FILE
def test_a_writer_that_waits_too_long_for_another_process_gives_up_and_saves_nothing(
    engine: Engine, holder: OtherProcess, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("trialdesk.store.session.WRITER_QUEUE_TIMEOUT_S", 0.2)
    late = Writer(engine, lambda session: session.add(person("late")))
    late.start()
    assert late.finished(), "the waiting writer did not give up"
    assert isinstance(late.error, WriterQueueTimeout), late.error
    assert 0.2 <= late.seconds < 3
    assert usernames(engine) == []

    # It gave its place in its own process's queue back: once the file is free, the next
    # writer of this process goes ahead.
    holder.let_go()
    following = Writer(engine, lambda session: session.add(person("next")))
    following.start()
    assert following.finished() and following.error is None, following.error
    assert usernames(engine) == ["next"]
