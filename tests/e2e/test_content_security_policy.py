"""The pages work in a real browser under the Content-Security-Policy the desk sends: no CSP
violation on the public pages, the desk pages (with their script), the safety report and the
API docs (/docs and /redoc, from fastapi_offline), and each of those still renders."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from threaded_server import served

from trialdesk.store.session import unit_of_work
from trialdesk.trial.demo_seed import DemoLogin, seed_demo
from trialdesk.web.app import create_app

pytestmark = pytest.mark.browser

WATCH_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', function (e) {
  window.__csp.push(e.violatedDirective + ' ' + (e.blockedURI || 'inline'));
});
"""
"""Run before the page's own scripts (init scripts are not subject to the page's policy)."""


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, DemoLogin]]:
    """The demo trial (levels, DLT windows, a signed decision) served on a free port."""
    database = tmp_path_factory.mktemp("csp") / "desk.sqlite3"
    app = create_app(database_url=f"sqlite:///{database}")
    with unit_of_work(app.state.runtime.engine) as session:
        seeded = seed_demo(session, app.state.runtime.loaded, datetime.now(UTC))
    coordinator = next(login for login in seeded.logins if login.role == "coordinator")
    with served(app) as base:
        yield base, coordinator


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


def test_public_and_desk_pages_render_without_csp_violations(
    desk: tuple[str, DemoLogin], browser: Any
) -> None:
    base, coordinator = desk
    page, console = watched_page(browser)
    for path, heading in (("/?lang=en", "h1"), ("/?lang=zh", "h1"), ("/protocol", "h1")):
        page.goto(f"{base}{path}")
        page.locator(heading).first.wait_for()
        assert violations(page, console) == [], path
    page.goto(f"{base}/login?next=/desk")
    assert violations(page, console) == []
    page.get_by_label("User name").fill(coordinator.username)
    page.get_by_label("Password").fill(coordinator.password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(f"{base}/desk")
    for path in ("/desk", "/desk/participants", "/desk/participants/1", "/desk/decisions"):
        page.goto(f"{base}{path}")
        page.locator("main h1").first.wait_for()
        assert violations(page, console) == [], path
    # The DLT-window bars (an SVG, not an inline style) are as long as the window has run.
    page.goto(f"{base}/desk")
    bars = page.locator(".bar")
    assert bars.count() > 0
    for index in range(bars.count()):
        bar = bars.nth(index)
        done = float(bar.locator("rect").get_attribute("width") or "nan")
        outer, inner = bar.bounding_box(), bar.locator("rect").bounding_box()
        assert outer is not None and inner is not None
        assert abs(inner["width"] - outer["width"] * done / 100) < 2, (index, done)
    # The screening form's script runs: the checklist answers typing without a reload.
    page.goto(f"{base}/desk/screening")
    with page.expect_response(lambda r: r.url.endswith("/desk/screening/check")) as checked:
        page.locator("#screening-form input[inputmode=decimal]").first.fill("58")
    assert checked.value.status == 200
    assert violations(page, console) == []
    page.goto(f"{base}/desk/reports/safety")
    page.locator("h1").first.wait_for()
    assert violations(page, console) == []
    page.close()


def test_the_api_docs_render_under_their_policy(desk: tuple[str, DemoLogin], browser: Any) -> None:
    base, _ = desk
    page, console = watched_page(browser)
    page.goto(f"{base}/docs")
    page.locator(".swagger-ui .info .title").wait_for()
    page.get_by_text("/api/participants").first.wait_for()
    assert violations(page, console) == []
    page.goto(f"{base}/redoc")
    page.locator("h1", has_text="trialdesk").first.wait_for()
    page.get_by_text("Log in; sets the session cookie").first.wait_for(state="attached")
    # ReDoc's "powered by" badge asks a CDN for its logo; the policy keeps the page offline.
    blocked = [v for v in violations(page, console) if "cdn.redoc.ly" not in v]
    assert blocked == []
    page.close()
