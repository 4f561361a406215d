"""A live trial desk on a free port and a headless Debian chromium driven by Playwright.

Browser tests need /usr/bin/chromium (Debian's package). Without it they skip with the reason,
except under CI=true, where a missing browser is a failure: CI must test the pages for real.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from threaded_server import served

from trialdesk.web.app import create_app

CHROMIUM = Path("/usr/bin/chromium")
# Flags for a sandboxed machine with a closed network: no background traffic, no GPU.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} not found: install Debian's chromium package to run browser tests"
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The trial desk served by uvicorn in a thread, on SQLite in a temporary folder."""
    database = tmp_path_factory.mktemp("live") / "desk.sqlite3"
    app = create_app(database_url=f"sqlite:///{database}")
    with served(app) as base:
        yield base


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()
