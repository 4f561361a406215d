"""The packaged migrations build the schema on both backends and can be undone and redone."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect

from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import (
    current_revision,
    downgrade,
    head_revision,
    migrations_directory,
    upgrade_to_head,
)

TABLES = {"protocol_versions", "users", "audit_log"}


def test_upgrade_to_head_creates_the_tables_and_is_repeatable(database_url: str) -> None:
    engine = make_engine(database_url)
    assert current_revision(engine) is None
    upgrade_to_head(engine)
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_downgrade_to_base_and_upgrade_again(database_url: str) -> None:
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    downgrade(engine, "base")
    assert current_revision(engine) is None
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= TABLES
    engine.dispose()


def test_migrations_ship_inside_the_package_and_need_no_ini_in_the_working_directory(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert (migrations_directory() / "env.py").is_file()
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    assert current_revision(engine) == head_revision()
    engine.dispose()
