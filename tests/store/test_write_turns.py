"""Writers take turns from their first statement on, not from the moment they open.

Two coordinators taking the last slot of a cohort must not both read "one free": the second
writer waits until the first has committed and then reads its row. But a writer that has not
touched the database yet (still evaluating criteria, checking a form) holds nobody up, and one
that waits for its turn longer than WRITER_QUEUE_TIMEOUT_S gives up with nothing saved.
Run on a SQLite file and on PostgreSQL (the database's lock and the process's queue), and on
in-memory SQLite (no database lock: only the queue keeps the turns there).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import upgrade_to_head
from trialdesk.store.models import User
from trialdesk.store.session import Claim, WriterQueueTimeout, unit_of_work

PATIENCE_S = 5.0
"""How long a test waits for another thread before calling it stuck (never forever)."""


@pytest.fixture
def memory_engine() -> Iterator[Engine]:
    """A migrated in-memory SQLite database: one shared connection and no BEGIN IMMEDIATE."""
    created = make_engine("sqlite:///:memory:")
    upgrade_to_head(created)
    try:
        yield created
    finally:
        created.dispose()


class Writer(threading.Thread):
    """``work`` in a write unit of work (a narrow writer's with ``claims``) on another thread;
    what it returned or raised."""

    def __init__(
        self,
        engine: Engine,
        work: Callable[[Session], object],
        claims: tuple[Claim, ...] | None = None,
    ) -> None:
        super().__init__(daemon=True)
        self.engine = engine
        self.work = work
        self.claims = claims
        self.result: object = None
        self.error: BaseException | None = None
        self.seconds = 0.0

    def run(self) -> None:
        started = time.monotonic()
        try:
            with unit_of_work(self.engine, claims=self.claims) as session:
                self.result = self.work(session)
        except BaseException as exc:  # reported to the test thread
            self.error = exc
        finally:
            self.seconds = time.monotonic() - started

    def finished(self) -> bool:
        self.join(timeout=PATIENCE_S)
        return not self.is_alive()


def person(username: str) -> User:
    return User(username=username, display_name=username.title(), role="coordinator")


def usernames(engine: Engine) -> list[str]:
    with unit_of_work(engine, write=False) as session:
        return list(session.scalars(select(User.username).order_by(User.username)))


def take_the_last_slot(username: str) -> Callable[[Session], bool]:
    """The last-slot decision in miniature: one place, taken only if nobody holds it yet."""

    def work(session: Session) -> bool:
        taken = session.scalar(select(func.count()).select_from(User))
        if taken:
            return False
        session.add(person(username))
        return True

    return work


def test_a_writer_that_has_not_touched_the_database_holds_nobody_up(engine: Engine) -> None:
    with unit_of_work(engine) as slow:
        other = Writer(engine, lambda session: session.add(person("quick")))
        other.start()
        assert other.finished(), "a writer with no statement yet held the other writer up"
        assert other.error is None
        slow.add(person("slow"))
        # It reads the committed row of the writer that went first.
        assert slow.scalar(select(func.count()).select_from(User)) == 2

    assert usernames(engine) == ["quick", "slow"]


def test_a_writer_that_writes_nothing_does_not_wait_for_its_turn(engine: Engine) -> None:
    """A request whose checks end before any statement is not kept behind a long save."""
    with unit_of_work(engine) as busy:
        busy.add(person("busy"))
        busy.flush()
        idle = Writer(engine, lambda session: None)
        idle.start()
        assert idle.finished(), "a writer with nothing to write waited for the busy one"
        assert idle.error is None


def second_writer_waits_for_the_first(engine: Engine) -> None:
    with unit_of_work(engine) as first:
        assert take_the_last_slot("first")(first)
        first.flush()
        second = Writer(engine, take_the_last_slot("second"))
        second.start()
        second.join(timeout=0.5)
        assert second.is_alive(), "the second writer went ahead while the first was writing"

    assert second.finished()
    assert second.error is None
    assert second.result is False, "the second writer did not see the first one's slot"
    assert usernames(engine) == ["first"]


def test_a_writer_that_has_executed_a_statement_makes_the_next_writer_wait(
    engine: Engine,
) -> None:
    second_writer_waits_for_the_first(engine)


def test_in_memory_writers_take_turns_in_the_process_queue(memory_engine: Engine) -> None:
    second_writer_waits_for_the_first(memory_engine)


def test_a_writer_that_waits_too_long_for_its_turn_gives_up_and_saves_nothing(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("trialdesk.store.session.WRITER_QUEUE_TIMEOUT_S", 0.2)
    with unit_of_work(engine) as first:
        first.add(person("first"))
        first.flush()
        late = Writer(engine, lambda session: session.add(person("late")))
        late.start()
        assert late.finished(), "the waiting writer did not give up"
        assert isinstance(late.error, WriterQueueTimeout), late.error
        assert 0.2 <= late.seconds < 3

    assert usernames(engine) == ["first"]
    # The writer that gave up left no turn behind: the next one writes at once.
    following = Writer(engine, lambda session: session.add(person("next")))
    following.start()
    assert following.finished() and following.error is None
    assert usernames(engine) == ["first", "next"]


def test_savepoints_inside_a_write_unit_of_work(engine: Engine) -> None:
    """A savepoint runs inside the locked transaction (BEGIN IMMEDIATE is not issued again),
    whether it is the unit's first statement or comes later, and undoes only its own part."""
    with unit_of_work(engine) as session:
        with session.begin_nested():
            session.add(person("first"))
        with pytest.raises(IntegrityError), session.begin_nested():
            session.add(person("first"))  # the same username again: refused
        session.add(person("second"))

    assert usernames(engine) == ["first", "second"]
