"""Take the screenshots of the public trial page in headless Debian chromium.

    .venv/bin/python scripts/screenshot_public.py [--out docs/screenshots]

Serves the trial desk on a temporary SQLite database and writes public-en.png and public-zh.png
(desktop), public-phone.png (the page on a 390 px wide phone) and prescreen-phone.png (the
answer a phone user gets after the questionnaire).
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

import uvicorn
from playwright.sync_api import Page, ViewportSize, sync_playwright

from trialdesk.web.app import create_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE: ViewportSize = {"width": 390, "height": 844}


def answer_questionnaire(page: Page) -> None:
    """A likely candidate's answers, through the labels."""
    page.get_by_label("1. How old are you? (years)").fill("63")
    for number, answer in ((2, "Yes"), (3, "Yes"), (5, "No"), (6, "No"), (7, "No"), (8, "No")):
        group = page.locator(f"fieldset:has(legend:text-matches('^{number}\\\\.'))")
        group.get_by_label(answer, exact=True).check()
    onset = (date.today() - timedelta(days=20)).isoformat()
    page.get_by_label("4. When did the lung injury begin?").fill(onset)
    page.get_by_role("button", name="See my result").click()
    page.get_by_role("heading", name="You may be eligible").wait_for()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(database_url=f"sqlite:///{Path(folder) / 'desk.sqlite3'}")
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = int(probe.getsockname()[1])
        server = uvicorn.Server(uvicorn.Config(app, port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        base = f"http://127.0.0.1:{port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                desktop = browser.new_page(viewport={"width": 1280, "height": 1000})
                for lang in ("en", "zh"):
                    desktop.goto(f"{base}/?lang={lang}")
                    shot(desktop, args.out / f"public-{lang}.png")
                phone = browser.new_page(viewport=PHONE, is_mobile=True, device_scale_factor=2)
                phone.goto(f"{base}/?lang=en")
                shot(phone, args.out / "public-phone.png")
                phone.goto(f"{base}/?lang=en#prescreen")
                answer_questionnaire(phone)
                shot(phone, args.out / "prescreen-phone.png")
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def shot(page: Page, target: Path) -> None:
    page.screenshot(path=str(target), full_page=False)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
