"""`trialdesk serve` production settings: several workers need a shared secret key (refused
with a way to fix it otherwise), the workers' factory builds the desk from the environment, and
uvicorn gets trialdesk's logging, proxy settings and no access log of its own."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from anyio import to_thread
from fastapi.testclient import TestClient

from trialdesk.cli import run
from trialdesk.logs import LOG_FORMAT_ENV, LOG_LEVEL_ENV
from trialdesk.web.form_tokens import SECRET_ENV
from trialdesk.web.request_threads import DEFAULT_REQUEST_THREADS, REQUEST_THREADS_ENV
from trialdesk.web.serving import FACTORY, PROTOCOL_ENV, create_app_from_env, is_loopback


def protocol_file(folder: Path) -> Path:
    """The built-in protocol under another version name, so its use is visible."""
    import yaml

    from trialdesk.protocol.loader import builtin_protocol_text

    data = yaml.safe_load(builtin_protocol_text())
    data["version"] = "served-from-a-file"
    path = folder / "protocol.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[Any, dict[str, Any]]]]:
    """uvicorn.run replaced by a recorder; the environment serve sets is undone afterwards."""
    calls: list[tuple[Any, dict[str, Any]]] = []
    monkeypatch.setattr("uvicorn.run", lambda app, **options: calls.append((app, options)))
    # setenv first, so that whatever serve sets in os.environ is removed again afterwards.
    settings = (PROTOCOL_ENV, LOG_FORMAT_ENV, LOG_LEVEL_ENV, SECRET_ENV, REQUEST_THREADS_ENV)
    for name in (*settings, "TRIALDESK_DATABASE_URL"):
        monkeypatch.setenv(name, "x")
        monkeypatch.delenv(name)
    monkeypatch.setattr("trialdesk.logs.configure_logging", lambda *a: None)
    yield calls


def invoke(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    """`trialdesk serve ARGS` as the console runs it: the exit code and everything printed."""
    code = run(["serve", *args])
    printed = capsys.readouterr()
    return code, printed.out + printed.err


def request_threads_of(client: TestClient) -> int:
    """How many requests the running app works on at once (its event loop's thread pool)."""
    return int(client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens))


def test_several_workers_without_a_secret_key_are_refused_with_how_to_fix_it(
    started: list[tuple[Any, dict[str, Any]]],
    sqlite_database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, output = invoke(capsys, "--workers", "2", "--database-url", sqlite_database_url)
    assert code == 2
    assert "error: --workers: 2 workers need TRIALDESK_SECRET_KEY" in output
    assert "secrets.token_urlsafe(32)" in output
    assert started == [], "nothing was started"


def test_a_blank_secret_key_counts_as_none(
    started: list[tuple[Any, dict[str, Any]]],
    sqlite_database_url: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(SECRET_ENV, "  ")
    code, output = invoke(capsys, "--workers", "4", "--database-url", sqlite_database_url)
    assert code == 2 and "4 workers need TRIALDESK_SECRET_KEY" in output
    assert started == []


def test_zero_workers_is_a_usage_error(
    started: list[tuple[Any, dict[str, Any]]], capsys: pytest.CaptureFixture[str]
) -> None:
    code, output = invoke(capsys, "--workers", "0")
    assert code == 2 and "--workers" in output and started == []


def test_several_workers_start_from_the_factory_with_the_settings_in_the_environment(
    started: list[tuple[Any, dict[str, Any]]],
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    protocol = protocol_file(tmp_path)
    monkeypatch.setenv(SECRET_ENV, "k" * 43)
    code, output = invoke(
        capsys,
        "--workers", "3", "--database-url", database_url, "--host", "0.0.0.0",
        "--forwarded-allow-ips", "10.0.0.5", "--log-format", "text", "--protocol", str(protocol),
        "--threads", "5",
    )  # fmt: skip
    assert code == 0, output
    assert "with 3 workers" in output
    [(target, options)] = started
    assert target == FACTORY
    assert options["factory"] is True and options["workers"] == 3
    assert options["access_log"] is False and options["log_config"] is None
    assert options["proxy_headers"] is True and options["forwarded_allow_ips"] == "10.0.0.5"
    assert os.environ["TRIALDESK_DATABASE_URL"] == database_url
    assert os.environ[PROTOCOL_ENV] == str(protocol.resolve())
    assert os.environ[LOG_FORMAT_ENV] == "text"
    assert os.environ[REQUEST_THREADS_ENV] == "5"

    # What each worker does: build the desk from that environment.
    with TestClient(create_app_from_env()) as worker:
        health = worker.get("/healthz")
        assert health.status_code == 200, health.text
        assert worker.get("/api/protocol").json()["version"] == "served-from-a-file"
        assert request_threads_of(worker) == 5


def test_one_worker_runs_the_app_in_process_without_uvicorns_access_log(
    started: list[tuple[Any, dict[str, Any]]],
    sqlite_database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, output = invoke(capsys, "--database-url", sqlite_database_url, "--no-proxy-headers")
    assert code == 0, output
    [(target, options)] = started
    assert not isinstance(target, str) and "workers" not in options
    assert options["access_log"] is False and options["proxy_headers"] is False
    with TestClient(target) as served:
        assert request_threads_of(served) == DEFAULT_REQUEST_THREADS == 8


def test_the_server_runs_on_uvloops_event_loop(
    started: list[tuple[Any, dict[str, Any]]],
    sqlite_database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """uvloop hands each request to a worker thread and back for less CPU than asyncio's own
    loop (docs/benchmarks.md, fifth round): serve's options must give uvicorn uvloop."""
    uvloop = pytest.importorskip("uvloop", reason="uvloop is not built for this platform")
    code, output = invoke(capsys, "--database-url", sqlite_database_url)
    assert code == 0, output
    [(target, options)] = started
    loop = uvicorn.Config(target, **options).get_loop_factory()()  # type: ignore[misc]
    try:
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_threads_sets_how_many_requests_the_process_works_on_at_once(
    started: list[tuple[Any, dict[str, Any]]],
    sqlite_database_url: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, output = invoke(capsys, "--database-url", sqlite_database_url, "--threads", "3")
    assert code == 0, output
    [(target, _)] = started
    with TestClient(target) as served:
        assert request_threads_of(served) == 3
        assert served.get("/healthz").status_code == 200


@pytest.mark.parametrize(
    ("args", "environment", "message"),
    [
        (("--threads", "0"), None, "error: --threads: 0 is out of range; give 1 to 200"),
        (("--threads", "201"), None, "error: --threads: 201 is out of range; give 1 to 200"),
        ((), "many", "error: TRIALDESK_REQUEST_THREADS: 'many' is not a whole number"),
        ((), "-4", "error: TRIALDESK_REQUEST_THREADS: -4 is out of range"),
    ],
)
def test_a_thread_count_out_of_range_is_refused_before_anything_starts(
    args: tuple[str, ...],
    environment: str | None,
    message: str,
    started: list[tuple[Any, dict[str, Any]]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    if environment is not None:
        monkeypatch.setenv(REQUEST_THREADS_ENV, environment)
    database = tmp_path / "never.sqlite3"
    code, output = invoke(capsys, "--database-url", f"sqlite:///{database}", *args)
    assert code == 2 and message in output, output
    assert started == [] and not database.exists()  # refused before the database was made


def test_the_factory_uses_the_builtin_protocol_and_the_database_url_from_the_environment(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIALDESK_DATABASE_URL", database_url)
    monkeypatch.delenv(PROTOCOL_ENV, raising=False)
    with TestClient(create_app_from_env()) as client:
        assert client.get("/api/protocol").json()["id"] == "NCT06021067"
        runtime = client.app.state.runtime  # type: ignore[attr-defined]
        assert runtime.database_url == database_url


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("localhost", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("10.1.2.3", False),
        ("desk.example.org", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
