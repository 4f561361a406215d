"""Verify the audit log: walk the hash chain oldest first and compare its end with the
checkpoint (and with heads noted earlier in backup or verify reports).

What each finding means:

- ``altered``: a row's content no longer matches its own hash (edited in place);
- ``replaced``: a row was rewritten together with its hash, so the next row's link (or the
  checkpoint) points to a hash that is no longer in the log;
- ``inserted``: a row sits between two rows that are chained to each other directly;
- ``missing``: a row a later one is chained to is gone (its id is missing from the sequence);
- ``truncated``: rows the application wrote last are gone (the checkpoint, or a head noted
  earlier, names a hash the log no longer has);
- ``appended``: rows follow the last one the application wrote;
- ``checkpoint``: the checkpoint itself is missing or disagrees about the count.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from trialdesk.store.audit import GENESIS_HASH, ChainProblem, entry_hash, read_checkpoint
from trialdesk.store.errors import StoreError
from trialdesk.store.models import AuditEntry

_HASH = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """The result of one walk: the entries found, the last one, and every problem in id order."""

    entries: int
    head_entry_id: int | None
    head_hash: str
    problems: tuple[ChainProblem, ...]

    @property
    def intact(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> ChainProblem | None:
        return self.problems[0] if self.problems else None

    def head_line(self) -> str:
        """``N entries, head #ID sha256 HASH``: the line to keep outside the database."""
        if self.head_entry_id is None:
            return "0 entries (empty audit log)"
        noun = "entry" if self.entries == 1 else "entries"
        return f"{self.entries} {noun}, head #{self.head_entry_id} sha256 {self.head_hash}"


@dataclass(frozen=True, slots=True)
class _Seen:
    id: int
    row_hash: str


def verify_audit_database(engine: Engine, known_heads: Iterable[str] = ()) -> AuditVerification:
    """:func:`verify_audit_log` inside one read snapshot of its own, so that entries a running
    desk writes meanwhile are neither half seen nor taken for tampering."""
    with engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            snapshot = connection.execution_options(isolation_level="REPEATABLE READ")
            with snapshot.begin(), Session(bind=snapshot) as session:
                return verify_audit_log(session, known_heads)
        # The sqlite3 module begins transactions only before writes; a read needs its own.
        connection.exec_driver_sql("BEGIN")
        try:
            with Session(bind=connection) as session:
                return verify_audit_log(session, known_heads)
        finally:
            connection.rollback()


def verify_audit_log(session: Session, known_heads: Iterable[str] = ()) -> AuditVerification:
    """Walk the whole log as ``session`` sees it; ``known_heads`` are head hashes printed by
    earlier reports, each of which must still be in the log (this catches a tail removed
    together with the checkpoint). The session should read one snapshot (see
    :func:`verify_audit_database`) when the desk may be writing meanwhile."""
    heads = [_checked_hash(head) for head in known_heads]
    problems: list[ChainProblem] = []
    previous = _Seen(0, GENESIS_HASH)
    count = 0
    for entry in session.scalars(
        select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=1000)
    ):
        count += 1
        if entry_hash(entry) != entry.row_hash:
            problems.append(
                ChainProblem(
                    entry.id,
                    "altered: its content no longer matches its hash",
                    kind="altered",
                )
            )
        if entry.prev_hash != previous.row_hash:
            problems.append(_broken_link(session, entry, previous))
        previous = _Seen(entry.id, entry.row_hash)
    problems += _tail_problems(session, previous, count, heads, any_before=bool(problems))
    unique: dict[tuple[int, str], ChainProblem] = {}
    for problem in problems:
        unique.setdefault((problem.entry_id, problem.kind), problem)
    ordered = sorted(unique.values(), key=lambda p: p.entry_id)
    return AuditVerification(
        entries=count,
        head_entry_id=previous.id or None,
        head_hash=previous.row_hash,
        problems=tuple(ordered),
    )


def _broken_link(session: Session, entry: AuditEntry, previous: _Seen) -> ChainProblem:
    """Why ``entry`` is not chained to ``previous``: rows inserted between, or removed, or
    ``previous`` rewritten."""
    linked = _entry_with_hash(session, entry.prev_hash)
    if linked is not None and linked < previous.id:
        first_inserted = session.scalars(
            select(AuditEntry.id).where(AuditEntry.id > linked).order_by(AuditEntry.id).limit(1)
        ).one()
        return ChainProblem(
            first_inserted,
            f"inserted outside trialdesk (entry #{entry.id} is chained to #{linked}, not to the "
            "entries between them)",
            kind="inserted",
        )
    if linked is not None:
        return ChainProblem(
            entry.id,
            f"out of order: chained to the later entry #{linked}",
            kind="inserted",
        )
    if _someone_chained_to(session, previous.row_hash, after=entry.id):
        return ChainProblem(
            entry.id,
            f"inserted outside trialdesk (a later entry is chained to #{previous.id} directly)",
            kind="inserted",
        )
    if entry.id > previous.id + 1:
        gap = _id_range(previous.id + 1, entry.id - 1)
        return ChainProblem(
            previous.id + 1,
            f"removed ({gap} missing; entry #{entry.id} is chained to an entry that is no longer "
            "there)",
            kind="missing",
        )
    if previous.id == 0:
        return ChainProblem(
            entry.id,
            "not the first entry trialdesk wrote: the entries before it were removed",
            kind="missing",
        )
    return ChainProblem(
        previous.id,
        f"replaced or removed: entry #{entry.id} is chained to a hash that is no longer in the log",
        kind="replaced",
    )


def _tail_problems(
    session: Session, last: _Seen, count: int, heads: list[str], *, any_before: bool
) -> list[ChainProblem]:
    """Compare the end of the chain with the checkpoint and with heads noted earlier."""
    problems: list[ChainProblem] = []
    checkpoint = read_checkpoint(session)
    if checkpoint is None:
        if count:
            problems.append(
                ChainProblem(
                    last.id,
                    "the audit checkpoint is missing, so entries removed from the end cannot be "
                    "ruled out (it was deleted outside trialdesk)",
                    kind="checkpoint",
                )
            )
    elif checkpoint.head_hash != last.row_hash:
        problems.append(
            _tail_against(session, last, checkpoint.head_entry_id, checkpoint.head_hash)
        )
    elif checkpoint.entry_count != count and not any_before:
        problems.append(
            ChainProblem(
                last.id,
                f"the log has {count} entries but trialdesk wrote {checkpoint.entry_count}",
                kind="checkpoint",
            )
        )
    for head in heads:
        if head != GENESIS_HASH and _entry_with_hash(session, head) is None:
            problems.append(
                ChainProblem(
                    last.id + 1,
                    f"rows removed from the end: the head noted earlier (sha256 {head}) is no "
                    "longer in the log (or the log was rewritten)",
                    kind="truncated",
                )
            )
    return problems


def _tail_against(
    session: Session, last: _Seen, head_id: int | None, head_hash: str
) -> ChainProblem:
    recorded = _entry_with_hash(session, head_hash)
    if recorded is not None:
        first_extra = session.scalars(
            select(AuditEntry.id).where(AuditEntry.id > recorded).order_by(AuditEntry.id).limit(1)
        ).one()
        return ChainProblem(
            first_extra,
            f"added outside trialdesk after #{recorded}, the last entry trialdesk wrote",
            kind="appended",
        )
    if head_id is not None and (last.id == 0 or last.id < head_id):
        removed = _id_range(last.id + 1, head_id)
        return ChainProblem(
            last.id + 1,
            f"rows removed from the end: {removed} missing (trialdesk last wrote #{head_id}, "
            f"sha256 {head_hash}; the log now ends at "
            + (f"#{last.id})" if last.id else "nothing)"),
            kind="truncated",
        )
    return ChainProblem(
        head_id or last.id,
        f"replaced: it is not the entry trialdesk wrote last (the checkpoint names sha256 "
        f"{head_hash})",
        kind="replaced",
    )


def _someone_chained_to(session: Session, row_hash: str, *, after: int) -> bool:
    """Whether an entry after id ``after`` is chained to ``row_hash``."""
    return (
        session.scalars(
            select(AuditEntry.id)
            .where(AuditEntry.prev_hash == row_hash, AuditEntry.id > after)
            .limit(1)
        ).one_or_none()
        is not None
    )


def _entry_with_hash(session: Session, row_hash: str) -> int | None:
    found: int | None = session.scalars(
        select(AuditEntry.id).where(AuditEntry.row_hash == row_hash).limit(1)
    ).one_or_none()
    return found


def _id_range(first: int, last: int) -> str:
    return f"entry #{first}" if first == last else f"entries #{first} to #{last}"


def _checked_hash(text: str) -> str:
    head = text.strip().lower().removeprefix("sha256:").removeprefix("sha256 ")
    if not _HASH.fullmatch(head):
        raise StoreError(
            f"{text!r} is not a head hash; give the 64 hexadecimal digits printed after "
            "'sha256' by an earlier `trialdesk backup` or `trialdesk audit verify`",
            field="--known-head",
        )
    return head
