"""The pages work in a real browser under the Content-Security-Policy the desk sends: no CSP
violation on the public pages, the desk pages (with their script), the safety report and the
API docs (/docs and /redoc, from fastapi_offline), and each of those still renders."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn

from trialdesk.store.models import User
from trialdesk.store.session import unit_of_work
from trialdesk.trial.clock import ManualClock
from trialdesk.trial.context import TrialContext
from trialdesk.trial.participants import register_contact
from trialdesk.trial.passwords import hash_password
from trialdesk.web.app import create_app

pytestmark = pytest.mark.browser

PASSWORD = "correct horse battery"
WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""
"""Run before the page's own scripts (init scripts are not subject to the page's policy)."""


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    database = tmp_path_factory.mktemp("csp") / "desk.sqlite3"
    app = create_app(database_url=f"sqlite:///{database}")
    clock = ManualClock(datetime(2026, 3, 10, 1, 0, tzinfo=UTC))
    app.state.clock = clock
    runtime = app.state.runtime
    with unit_of_work(runtime.engine) as session:
        session.add(
            User(
                username="coord",
                display_name="Coordinator",
                role="coordinator",
                active=True,
                password_hash=hash_password(PASSWORD),
            )
        )
        session.flush()
        ctx = TrialContext.open(session, runtime.loaded, clock)
        register_contact(session, ctx, actor="coord", contact_note="clinic")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = int(probe.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("the trial desk did not start within 20 s", pytrace=False)
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def watched_page(browser: Any) -> tuple[Any, list[str]]:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.add_init_script(WATCH_CSP)
    console: list[str] = []
    page.on(
        "console",
        lambda message: (
            console.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return page, console


def violations(page: Any, console: list[str]) -> list[str]:
    found: list[str] = page.evaluate("window.__csp")
    return found + console


def test_public_and_desk_pages_render_without_csp_violations(desk: str, browser: Any) -> None:
    page, console = watched_page(browser)
    for path, heading in (("/?lang=en", "h1"), ("/?lang=zh", "h1"), ("/protocol", "h1")):
        page.goto(f"{desk}{path}")
        page.locator(heading).first.wait_for()
        assert violations(page, console) == [], path
    page.goto(f"{desk}/login?next=/desk")
    assert violations(page, console) == []
    page.get_by_label("User name").fill("coord")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(f"{desk}/desk")
    for path in ("/desk", "/desk/participants", "/desk/participants/1", "/desk/decisions"):
        page.goto(f"{desk}{path}")
        page.locator("main h1").first.wait_for()
        assert violations(page, console) == [], path
    # The screening form's script runs: the checklist answers typing without a reload.
    page.goto(f"{desk}/desk/screening")
    with page.expect_response(lambda r: r.url.endswith("/desk/screening/check")) as checked:
        page.locator("#screening-form input[inputmode=decimal]").first.fill("58")
    assert checked.value.status == 200
    assert violations(page, console) == []
    page.goto(f"{desk}/desk/reports/safety")
    page.locator("h1").first.wait_for()
    assert violations(page, console) == []
    page.close()


def test_the_api_docs_render_under_their_policy(desk: str, browser: Any) -> None:
    page, console = watched_page(browser)
    page.goto(f"{desk}/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    page.get_by_text("/api/participants").first.wait_for()
    assert violations(page, console) == []
    page.goto(f"{desk}/redoc")
    page.locator("h1", has_text="trialdesk").first.wait_for()
    page.get_by_text("Log in; sets the session cookie").first.wait_for(state="attached")
    # ReDoc's "powered by" badge asks a CDN for its logo; the policy keeps the page offline.
    blocked = [v for v in violations(page, console) if "cdn.redoc.ly" not in v]
    assert blocked == []
    page.close()
