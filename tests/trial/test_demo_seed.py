"""`trialdesk demo` seeds what it says: two levels, one confirmed DLT, open windows, an
infusion due today, logins that work, and a replay that agrees; on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session

from trialdesk.cli import run
from trialdesk.errors import TrialdeskError
from trialdesk.protocol import builtin_protocol
from trialdesk.store.models import User
from trialdesk.trial.clock import FixedClock
from trialdesk.trial.context import TrialContext
from trialdesk.trial.demo_seed import DAYS_AGO, seed_demo
from trialdesk.trial.desk_status import desk_status
from trialdesk.trial.passwords import verify_password
from trialdesk.trial.replay import replay_all
from trialdesk.trial.roles import ROLES

NOW = datetime(2026, 5, 20, 6, 0, tzinfo=UTC)


def test_demo_is_a_trial_in_progress(session: Session) -> None:
    seeded = seed_demo(session, builtin_protocol(), NOW)
    assert seeded.enrolled == {
        1: ["RLI-001", "RLI-002", "RLI-003"],
        2: ["RLI-004", "RLI-005", "RLI-006"],
    }
    assert seeded.dlt_study_ids == ["RLI-005"]
    assert (seeded.today - seeded.started_on).days == DAYS_AGO

    ctx = TrialContext.open(session, builtin_protocol(), FixedClock(NOW))
    status = desk_status(session, ctx)
    summary = status.summary
    # 3+3 (protocol design.rules): 0 of 3 at level 1 -> escalate; level 2 now 1 DLT, 2 pending.
    assert (summary.current_level, summary.current_cohort, summary.enrolled) == (2, 2, 6)
    assert [(line.level, line.treated, line.dlts, line.pending) for line in summary.levels] == [
        (1, 3, 0, 0),
        (2, 3, 1, 2),
        (3, 0, 0, 0),
    ]
    open_windows = [p for p in summary.patients if p.days_left and p.level == 2]
    assert len(open_windows) >= 2
    assert [(i.study_id, i.number, i.state) for i in status.infusions] == [("RLI-006", 4, "due")]
    assert replay_all(session).identical


def test_demo_logins_work_one_per_role(session: Session) -> None:
    seeded = seed_demo(session, builtin_protocol(), NOW)
    assert sorted(login.role for login in seeded.logins) == sorted(ROLES)
    for login in seeded.logins:
        user = session.scalars(sa.select(User).where(User.username == login.username)).one()
        assert user.role == login.role
        assert verify_password(user.password_hash, login.password)
    assert len({login.password for login in seeded.logins}) == len(seeded.logins)


def test_demo_keeps_public_contact_requests_only_with_consent(session: Session) -> None:
    seed_demo(session, builtin_protocol(), NOW)
    rows = session.execute(sa.text("SELECT consent_to_contact FROM prescreen_contacts")).all()
    assert len(rows) == 2 and all(row[0] for row in rows)


def test_demo_refuses_a_database_that_has_users(session: Session) -> None:
    seed_demo(session, builtin_protocol(), NOW)
    with pytest.raises(TrialdeskError, match="already has users"):
        seed_demo(session, builtin_protocol(), NOW)


def test_demo_command_prints_the_logins_and_refuses_to_seed_twice(
    sqlite_database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["demo", "--database-url", sqlite_database_url]) == 0
    out = capsys.readouterr().out
    for username in ("admin", "dr.li", "coord", "monitor", "dsmb"):
        assert f"  {username} " in out
    assert "level 2: RLI-004 RLI-005 RLI-006" in out
    assert "confirmed DLT: RLI-005" in out
    assert run(["demo", "--database-url", sqlite_database_url]) == 2
    assert "error: --database-url: the database already has users" in capsys.readouterr().err
