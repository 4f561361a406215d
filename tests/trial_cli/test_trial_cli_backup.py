"""`trialdesk backup` and `trialdesk restore` on a desk with a running trial: the restored
database equals the original table by table, row by row, with the same audit chain, on SQLite
and PostgreSQL; a SQLite backup taken while another connection writes is one moment's state."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from cli_desk import Cli, enrolled, give_all_infusions, open_cli
from psycopg import sql
from sqlalchemy import Engine, MetaData, inspect, select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from trialdesk.cli import run
from trialdesk.store.audit import record_change
from trialdesk.store.audit_verify import verify_audit_database
from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import upgrade_to_head

HEAD = re.compile(r"intact: (\d+) entr(?:y|ies), head #\d+ sha256 ([0-9a-f]{64})")


@pytest.fixture
def restore_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second, empty database on the same backend to restore into."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"td_restore_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield parsed.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _running_trial(cli: Cli) -> None:
    """Three patients enrolled and infused, a grade 3 pneumonitis: rows in most tables."""
    patients = [enrolled(cli) for _ in range(3)]
    first = give_all_infusions(cli, patients)
    cli.go_to(first + timedelta(days=10))
    cli(
        "ae", "record", "RLI-002", "--term", "Pneumonitis", "--grade", "3",
        "--onset", cli.today.isoformat(), "--serious", "hospitalisation",
        "--hdmsc", "possible", "--standard", "unlikely", "--as", "coord",
    )  # fmt: skip


def _all_rows(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows in primary-key order."""
    engine = make_engine(url)
    try:
        metadata = MetaData()
        metadata.reflect(engine)
        tables: dict[str, list[tuple[object, ...]]] = {}
        with engine.connect() as conn:
            for table in metadata.sorted_tables:
                order = list(table.primary_key.columns) or list(table.columns)
                tables[table.name] = [
                    tuple(row) for row in conn.execute(select(table).order_by(*order))
                ]
        return tables
    finally:
        engine.dispose()


def test_backup_and_restore_give_back_every_row_and_the_audit_chain(
    database_url: str,
    restore_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli = open_cli(database_url, tmp_path, capsys, monkeypatch)
    _running_trial(cli)
    verified = HEAD.search(cli("audit", "verify").out)
    assert verified is not None
    file = tmp_path / "desk.backup"

    made = cli("backup", str(file)).out
    assert made.startswith(f"backup written: {file} (")
    assert f"audit log in the backup intact: {verified.group(1)} entries" in made
    assert f"--known-head {verified.group(2)}" in made

    capsys.readouterr()
    assert run(["restore", str(file), "--database-url", restore_url]) == 0
    restored = capsys.readouterr().out
    assert f"intact: {verified.group(1)} entries" in restored
    assert verified.group(2) in restored

    original, copy = _all_rows(database_url), _all_rows(restore_url)
    assert copy.keys() == original.keys()
    assert {"audit_log", "audit_checkpoints", "participants", "infusions"} <= copy.keys()
    for name, rows in original.items():
        assert copy[name] == rows, name
    assert len(copy["audit_log"]) == int(verified.group(1))


def test_restore_refuses_a_database_with_tables_unless_forced(
    database_url: str,
    restore_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli = open_cli(database_url, tmp_path, capsys, monkeypatch)
    file = tmp_path / "one-user.backup"
    cli("backup", str(file))
    cli("user", "add", "nurse", "--name", "ZHAO Li", "--role", "coordinator", "--as", "dr.li")

    err = cli("restore", str(file), code=2).err
    assert "error: --force: the target database already has" in err
    assert "nurse" in _usernames(database_url)

    forced = cli("restore", str(file), "--force").out
    assert "audit log restored intact" in forced
    assert _usernames(database_url) == ["dr.li", "coord"]
    assert cli("audit", "verify").code == 0


def _usernames(url: str) -> list[object]:
    return [row[1] for row in _all_rows(url)["users"]]


def test_backup_refuses_to_overwrite_and_restore_refuses_a_foreign_file(
    database_url: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cli = open_cli(database_url, tmp_path, capsys, monkeypatch)
    existing = tmp_path / "notes.txt"
    existing.write_text("not a backup", encoding="utf-8")
    assert "already exists; give a new file name" in cli("backup", str(existing), code=2).err
    assert existing.read_text(encoding="utf-8") == "not a backup"
    err = cli("restore", str(existing), "--force", code=2).err
    assert "is not a trialdesk backup" in err


def test_a_sqlite_backup_taken_while_another_connection_writes_is_one_moment(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every entry committed before the backup started is in it (a plain file copy of a WAL
    database misses those still in the -wal file), and its chain ends at its checkpoint."""
    url = f"sqlite:///{tmp_path / 'live.sqlite3'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    _write(engine, 300)
    stop = threading.Event()
    writer = threading.Thread(target=_keep_writing, args=(engine, stop))
    writer.start()
    try:
        for number in range(3):
            before = _count(engine)
            file = tmp_path / f"live-{number}.backup"
            capsys.readouterr()
            assert run(["backup", str(file), "--database-url", url]) == 0
            out = capsys.readouterr().out
            found = HEAD.search(out)
            assert found is not None, out
            assert before <= int(found.group(1)) <= _count(engine)
    finally:
        stop.set()
        writer.join()
    assert _count(engine) > 300  # the writer really wrote meanwhile
    engine.dispose()


def _write(engine: Engine, count: int) -> None:
    with Session(engine) as session:
        for number in range(count):
            record_change(
                session, actor="coord", entity="note", entity_id=str(number), field="text",
                old=None, new="x" * 200, reason="filler for a larger database",
            )  # fmt: skip
        session.commit()


def _keep_writing(engine: Engine, stop: threading.Event) -> None:
    while not stop.is_set():
        _write(engine, 5)


def _count(engine: Engine) -> int:
    found = verify_audit_database(engine)
    assert found.intact, found.problems
    return found.entries


def test_restore_into_a_new_sqlite_file_needs_no_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'a.sqlite3'}"
    engine = make_engine(url)
    upgrade_to_head(engine)
    _write(engine, 3)
    engine.dispose()
    assert run(["backup", str(tmp_path / "a.backup"), "--database-url", url]) == 0
    target = f"sqlite:///{tmp_path / 'new' / 'b.sqlite3'}"
    (tmp_path / "new").mkdir()
    assert run(["restore", str(tmp_path / "a.backup"), "--database-url", target]) == 0
    assert "intact: 3 entries" in capsys.readouterr().out
    assert inspect(make_engine(target)).has_table("audit_checkpoints")
