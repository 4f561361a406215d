"""`trialdesk db status|upgrade|audit` as a user runs them."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from trialdesk.cli import run
from trialdesk.store.audit import record_change
from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import head_revision


def test_status_then_upgrade_then_status(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["db", "status", "--database-url", database_url]) == 0
    assert "schema is behind: run `trialdesk db upgrade`" in capsys.readouterr().out
    assert run(["db", "upgrade", "--database-url", database_url]) == 0
    assert f"upgraded from an empty database to {head_revision()}" in capsys.readouterr().out
    assert run(["db", "upgrade", "--database-url", database_url]) == 0
    assert "already at the newest revision" in capsys.readouterr().out
    assert run(["db", "status", "--database-url", database_url]) == 0
    out = capsys.readouterr().out
    assert f"current revision: {head_revision()}" in out
    assert "schema is up to date" in out


def test_without_a_url_the_default_file_in_trialdesk_home_is_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRIALDESK_HOME", str(tmp_path))
    assert run(["db", "upgrade"]) == 0
    assert (tmp_path / "trialdesk.sqlite3").is_file()
    assert str(tmp_path) in capsys.readouterr().out


def test_a_bad_url_is_an_error_with_exit_code_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["db", "status", "--database-url", "mysql://root@localhost/x"]) == 2
    assert "TRIALDESK_DATABASE_URL" in capsys.readouterr().err


def test_audit_prints_the_trail_and_verifies_the_chain(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["db", "audit", "--database-url", database_url]) == 2
    assert "run `trialdesk db upgrade` first" in capsys.readouterr().err
    assert run(["db", "upgrade", "--database-url", database_url]) == 0
    engine = make_engine(database_url)
    with Session(engine) as session:
        for entity, entity_id in (("patient", "P-001"), ("dose", "D-7")):
            record_change(
                session,
                actor="dr.wang",
                entity=entity,
                entity_id=entity_id,
                field="status",
                old="screening",
                new="已入组",
                reason="consent signed",
            )
        session.commit()
    capsys.readouterr()
    assert run(["db", "audit", "--database-url", database_url, "--entity", "patient"]) == 0
    out = capsys.readouterr().out
    assert "patient/P-001.status" in out and "已入组" in out and "consent signed" in out
    assert "D-7" not in out
    assert "hash chain intact" in out

    with engine.begin() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(text("DROP TRIGGER audit_log_no_update"))
        else:
            connection.execute(text("DROP TRIGGER audit_log_no_update_or_delete ON audit_log"))
        connection.execute(text("UPDATE audit_log SET actor = 'someone.else' WHERE id = 2"))
    engine.dispose()
    assert run(["db", "audit", "--database-url", database_url]) == 2
    assert "hash chain is broken (1 problem(s): audit entry #2:" in capsys.readouterr().err
