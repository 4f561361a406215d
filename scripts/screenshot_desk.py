"""Take the screenshots of the signed-in desk pages in headless Debian chromium.

    .venv/bin/python scripts/screenshot_desk.py [--out docs/screenshots]

Seeds the synthetic demo trial (``trialdesk demo``: two dose levels, one confirmed DLT, windows
open) on a temporary SQLite database, serves it, logs in through the login page and writes
desk-dashboard.png (coordinator), desk-dashboard-zh.png, desk-screening.png (an earlier
screening loaded into the form, with its checklist), desk-participant.png (the patient with the
DLT: timeline, forms, audit trail) and desk-decisions.png (investigator).
"""

from __future__ import annotations

import argparse
import socket
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import uvicorn
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import select

from trialdesk.store.models import Participant, ParticipantScreening
from trialdesk.store.session import unit_of_work
from trialdesk.trial.demo_seed import DemoSeeded, seed_demo
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


def log_in(browser: Browser, base: str, seeded: DemoSeeded, role: str) -> Page:
    login = next(x for x in seeded.logins if x.role == role)
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{base}/login?next=/desk")
    page.get_by_label("User name").fill(login.username)
    page.get_by_label("Password").fill(login.password)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(f"{base}/desk")
    return page


def shot(page: Page, target: Path) -> None:
    page.screenshot(path=str(target), full_page=False)
    print(f"wrote {target}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("docs/screenshots"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        app = create_app(database_url=f"sqlite:///{Path(folder) / 'desk.sqlite3'}")
        with unit_of_work(app.state.runtime.engine) as session:
            seeded = seed_demo(session, app.state.runtime.loaded, datetime.now(UTC))
            dlt_patient = session.scalars(
                select(Participant.id).where(Participant.study_id == seeded.dlt_study_ids[0])
            ).one()
            screening = session.scalars(
                select(ParticipantScreening.screening_id).where(
                    ParticipantScreening.participant_id == dlt_patient
                )
            ).first()
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
                coord = log_in(browser, base, seeded, "coordinator")
                shot(coord, args.out / "desk-dashboard.png")
                coord.goto(f"{base}/desk?lang=zh")
                shot(coord, args.out / "desk-dashboard-zh.png")
                coord.goto(f"{base}/desk/screening?from_screening={screening}&lang=en")
                coord.locator("#checklist .verdict").wait_for()
                shot(coord, args.out / "desk-screening.png")
                coord.set_viewport_size({"width": 1280, "height": 1400})
                coord.goto(f"{base}/desk/participants/{dlt_patient}")
                shot(coord, args.out / "desk-participant.png")
                doctor = log_in(browser, base, seeded, "investigator")
                doctor.goto(f"{base}/desk/decisions")
                shot(doctor, args.out / "desk-decisions.png")
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)


if __name__ == "__main__":
    main()
