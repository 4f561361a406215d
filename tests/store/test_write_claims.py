"""Narrow writers: on PostgreSQL a writer that names its claims runs beside other writers whose
claims differ, takes turns with those that share one, and with every whole-desk writer; all of
them append to one audit hash chain that stays whole. On SQLite the file has one writer at a
time whatever the claims say.

The claims in use: one participant's records (a new adverse event) and the next screening
number (a new contact); a stored screening claims nothing (see trialdesk.store.session).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from test_write_turns import Writer, person, take_the_last_slot, usernames

from trialdesk.store.audit import record_change, verify_audit_chain
from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import upgrade_to_head
from trialdesk.store.models import AuditEntry
from trialdesk.store.session import Claim, ClaimKind, unit_of_work, waited_too_long

FIRST = (Claim(ClaimKind.PARTICIPANT, 1),)
SECOND = (Claim(ClaimKind.PARTICIPANT, 2),)
NUMBERS = (Claim(ClaimKind.PARTICIPANT_NUMBERS),)


def add(username: str) -> Callable[[Session], None]:
    def work(session: Session) -> None:
        session.add(person(username))
        session.flush()
        record_change(
            session,
            actor="test",
            entity="user",
            entity_id=username,
            field=None,
            old=None,
            new=username,
            reason="test",
        )

    return work


def blocked(writer: Writer) -> bool:
    """Started and still waiting half a second later."""
    writer.start()
    writer.join(timeout=0.5)
    return writer.is_alive()


@pytest.mark.postgres
def test_writers_with_different_claims_write_at_the_same_time(postgres_engine: Engine) -> None:
    with unit_of_work(postgres_engine, claims=FIRST) as first:
        add("first")(first)  # holds its claim and the audit chain until it commits
        other = Writer(postgres_engine, lambda s: s.add(person("second")), SECOND)
        other.start()
        assert other.finished(), "a writer with another claim waited for the first"
        assert other.error is None, other.error

    assert usernames(postgres_engine) == ["first", "second"]


@pytest.mark.postgres
@pytest.mark.parametrize("claims", [FIRST, None], ids=["same claim", "whole desk"])
def test_a_writer_sharing_a_claim_or_holding_the_whole_desk_waits_and_then_reads_the_first(
    postgres_engine: Engine, claims: tuple[Claim, ...] | None
) -> None:
    with unit_of_work(postgres_engine, claims=FIRST) as first:
        assert take_the_last_slot("first")(first)
        first.flush()
        second = Writer(postgres_engine, take_the_last_slot("second"), claims)
        assert blocked(second), "the second writer went ahead while the first was writing"

    assert second.finished()
    assert second.error is None, second.error
    assert second.result is False, "the second writer did not see the first one's row"
    assert usernames(postgres_engine) == ["first"]


@pytest.mark.postgres
def test_a_narrow_writer_waits_for_a_whole_desk_writer(postgres_engine: Engine) -> None:
    with unit_of_work(postgres_engine) as whole:
        assert take_the_last_slot("whole")(whole)
        whole.flush()
        narrow = Writer(postgres_engine, take_the_last_slot("narrow"), NUMBERS)
        assert blocked(narrow), "a narrow writer went ahead of a whole-desk writer"

    assert narrow.finished()
    assert narrow.result is False
    assert usernames(postgres_engine) == ["whole"]


@pytest.mark.postgres
def test_narrow_writers_take_turns_on_the_audit_chain_and_leave_it_whole(
    postgres_engine: Engine,
) -> None:
    """Eight writers with no claims (pure appends, like screenings), five entries each."""

    def five_entries(n: int) -> Callable[[Session], None]:
        def work(session: Session) -> None:
            for k in range(5):
                add(f"w{n}-{k}")(session)

        return work

    writers = [Writer(postgres_engine, five_entries(n), ()) for n in range(8)]
    for writer in writers:
        writer.start()
    assert all(writer.finished() for writer in writers)
    assert [w.error for w in writers] == [None] * 8

    with Session(postgres_engine) as session:  # as `trialdesk audit verify` reads it
        assert session.scalar(select(func.count()).select_from(AuditEntry)) == 40
        assert verify_audit_chain(session) == []


@pytest.mark.postgres
def test_a_narrow_writer_that_waits_too_long_gives_up_and_saves_nothing(
    postgres_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("trialdesk.store.session.WRITER_QUEUE_TIMEOUT_S", 0.3)
    with unit_of_work(postgres_engine) as whole:
        add("whole")(whole)
        late = Writer(postgres_engine, add("late"), FIRST)
        late.start()
        assert late.finished(), "the waiting writer did not give up"
        assert late.error is not None and waited_too_long(late.error), late.error
        assert 0.3 <= late.seconds < 3

    assert usernames(postgres_engine) == ["whole"]


def test_on_sqlite_writers_with_different_claims_still_take_turns(
    sqlite_database_url: str,
) -> None:
    engine = make_engine(sqlite_database_url)
    try:
        upgrade_to_head(engine)
        with unit_of_work(engine, claims=FIRST) as first:
            add("first")(first)
            other = Writer(engine, add("second"), SECOND)
            assert blocked(other), "SQLite let two writers write at once"

        assert other.finished() and other.error is None, other.error
        assert usernames(engine) == ["first", "second"]
    finally:
        engine.dispose()


def test_a_claim_key_is_a_32_bit_integer() -> None:
    assert Claim.fits(2**31 - 1) and not Claim.fits(2**31)
    with pytest.raises(ValueError, match="32-bit"):
        Claim(ClaimKind.PARTICIPANT, 2**31)
