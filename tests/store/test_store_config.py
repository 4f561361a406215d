"""Which database trialdesk uses, and what a user reads when the URL is wrong."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from trialdesk.errors import TrialdeskError
from trialdesk.store.config import database_url
from trialdesk.store.engine import POOL_SIZE, make_engine
from trialdesk.store.models import User
from trialdesk.store.session import unit_of_work


def test_default_is_a_sqlite_file_in_trialdesk_home_which_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "not-yet" / "home"
    monkeypatch.setenv("TRIALDESK_HOME", str(home))
    assert database_url() == f"sqlite:///{home / 'trialdesk.sqlite3'}"
    assert home.is_dir()


def test_home_defaults_to_dot_trialdesk_in_the_users_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TRIALDESK_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))
    assert database_url() == f"sqlite:///{tmp_path / '.trialdesk' / 'trialdesk.sqlite3'}"


def test_environment_overrides_the_default_and_an_explicit_url_overrides_both(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from_env = "postgresql+psycopg://desk:secret@db.example:5432/trials"
    monkeypatch.setenv("TRIALDESK_DATABASE_URL", from_env)
    assert database_url() == from_env
    explicit = f"sqlite:///{tmp_path / 'mine.sqlite3'}"
    assert database_url(explicit) == explicit


@pytest.mark.parametrize(
    "url", ["mysql://root@localhost/trials", "oracle+cx_oracle://u:p@h/db", "not a url"]
)
def test_unsupported_url_names_the_supported_schemes_and_the_variable(
    url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIALDESK_DATABASE_URL", url)
    with pytest.raises(TrialdeskError) as caught:
        database_url()
    message = str(caught.value)
    assert "sqlite:///" in message
    assert "postgresql+psycopg://" in message
    assert "TRIALDESK_DATABASE_URL" in message


def test_postgresql_without_driver_is_refused_with_the_right_spelling_and_no_password() -> None:
    with pytest.raises(TrialdeskError, match=r"postgresql\+psycopg://") as caught:
        database_url("postgresql://desk:hunter2@db.example/trials")
    assert "hunter2" not in str(caught.value)


def test_sqlite_engine_enforces_foreign_keys_uses_wal_and_syncs_each_commit(
    sqlite_database_url: str,
) -> None:
    engine = make_engine(sqlite_database_url)
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        # 2 = FULL (sqlite.org/pragma.html#pragma_synchronous): synced at every commit.
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 2
    engine.dispose()


def test_an_engine_serves_several_threads(engine: Engine) -> None:
    """A web server answers requests on worker threads with one shared engine."""
    failures: list[BaseException] = []

    def add_user(number: int) -> None:
        try:
            with unit_of_work(engine) as session:
                session.add(User(username=f"user{number}", display_name=f"U {number}", role="x"))
        except BaseException as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=add_user, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with Session(engine) as session:
        assert session.query(User).count() == 4


def test_a_second_burst_of_requests_reuses_the_connections_of_the_first(engine: Engine) -> None:
    """Each request on its own thread holds a connection; the pool keeps as many as a busy
    server uses at once. It used to keep 5 and close the rest after each use, so under load
    PostgreSQL started a new server process for nearly every request."""
    opened: list[object] = []
    event.listen(engine, "connect", lambda connection, _record: opened.append(connection))

    def burst() -> None:
        together = threading.Barrier(POOL_SIZE)
        failures: list[BaseException] = []

        def read() -> None:
            try:
                with unit_of_work(engine, write=False) as session:
                    session.execute(text("SELECT 1"))
                    together.wait(timeout=10)  # all of them hold a connection at once
            except BaseException as exc:  # pragma: no cover - reported below
                failures.append(exc)

        threads = [threading.Thread(target=read) for _ in range(POOL_SIZE)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert failures == []

    burst()
    after_first = len(opened)
    burst()
    assert len(opened) == after_first


def test_unit_of_work_commits_on_success_and_rolls_back_on_error(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        session.add(User(username="kept", display_name="Kept", role="investigator"))
    with pytest.raises(RuntimeError), unit_of_work(engine) as session:
        session.add(User(username="lost", display_name="Lost", role="investigator"))
        session.flush()
        raise RuntimeError("the use-case failed half way")
    with Session(engine) as session:
        assert [user.username for user in session.query(User)] == ["kept"]
