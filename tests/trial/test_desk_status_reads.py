"""The dashboard's status is read in one read-only unit of work that asks the database for the
same rows only once: the trial summary and the work lists share what they read (the pending
adjudications are counted by one and listed by the other)."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.orm import Session

from trialdesk.protocol import builtin_protocol
from trialdesk.store.session import unit_of_work
from trialdesk.trial.clock import FixedClock
from trialdesk.trial.context import TrialContext
from trialdesk.trial.demo_seed import seed_demo
from trialdesk.trial.desk_status import desk_status

NOW = datetime(2026, 5, 20, 6, 0, tzinfo=UTC)


def test_a_status_view_reads_each_set_of_rows_once(engine: Engine) -> None:
    with Session(engine) as session:
        seed_demo(session, builtin_protocol(), NOW)
        session.commit()
    sent: Counter[tuple[str, str]] = Counter()

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        sent[(statement, repr(parameters))] += 1

    with unit_of_work(engine, write=False) as reader:
        ctx = TrialContext.open(reader, builtin_protocol(), FixedClock(NOW))
        event.listen(engine, "before_cursor_execute", record)
        try:
            status = desk_status(reader, ctx)
        finally:
            event.remove(engine, "before_cursor_execute", record)
    assert status.summary.pending_adjudications == len(status.adjudications)
    repeated = {statement.split(" FROM ")[0][:80]: n for (statement, _), n in sent.items() if n > 1}
    assert repeated == {}
    assert sum(sent.values()) <= 8  # enrolments, infusions, DLT statuses, decisions, ...
