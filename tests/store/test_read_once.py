"""A page view asks for the same rows from several places (the trial summary reads the
escalation decisions for the enrolment check, the readiness and the stop): a read-only unit
of work reads them once, since it cannot change them; a writer reads afresh every time, so it
sees what it has just written."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from trialdesk.store.models import User
from trialdesk.store.session import read_once, unit_of_work


def test_a_reader_reads_once_and_a_writer_sees_its_own_changes(engine: Engine) -> None:
    reads: list[int] = []

    def count_users(session_reads: list[int], session: Session) -> int:
        session_reads.append(1)
        return int(session.scalar(select(func.count()).select_from(User)) or 0)

    with unit_of_work(engine, write=False) as reader:
        assert read_once(reader, "users", lambda: count_users(reads, reader)) == 0
        assert read_once(reader, "users", lambda: count_users(reads, reader)) == 0
    assert len(reads) == 1

    with unit_of_work(engine) as writer:
        assert read_once(writer, "users", lambda: count_users(reads, writer)) == 0
        writer.add(User(username="ward", display_name="Ward", role="coordinator"))
        assert read_once(writer, "users", lambda: count_users(reads, writer)) == 1
    assert len(reads) == 3
