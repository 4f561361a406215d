"""The protocol page in a real browser: what a newcomer sees, in English and Simplified Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.browser


def test_newcomer_reads_the_protocol_and_switches_language(
    live_server: str, browser: Any, tmp_path: Path
) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    try:
        page.goto(f"{live_server}/protocol?lang=en")
        assert "NCT06021067" in page.title() or "NCT06021067" in page.inner_text("header")
        doses = page.locator("#doses ~ table tbody tr")
        assert doses.count() == 3
        # NCT06021067.md: 3.3×10^5 cells/kg at level 1; 2.0×10^7 cells for a 60 kg patient.
        assert "2.0×107" in doses.nth(0).inner_text().replace("\u200b", "")
        assert page.get_by_role("heading", name="Inclusion criteria").is_visible()

        page.get_by_role("link", name="简体中文").click()
        page.wait_for_url("**lang=zh")
        assert page.get_by_role("heading", name="入选标准").is_visible()
        assert page.locator("html").get_attribute("lang") == "zh-Hans"

        page.screenshot(path=str(tmp_path / "home.png"), full_page=True)
        assert (tmp_path / "home.png").stat().st_size > 10_000
    finally:
        page.close()


def test_api_documentation_opens(live_server: str, browser: Any) -> None:
    page = browser.new_page()
    try:
        page.goto(f"{live_server}/docs")
        # Swagger UI renders one block per operation once its (locally served) assets load.
        operation = page.locator(".opblock-summary-path", has_text="/api/protocol").first
        operation.wait_for(state="visible", timeout=15_000)
        assert page.locator(".opblock-summary-path", has_text="/healthz").count() == 1
    finally:
        page.close()
