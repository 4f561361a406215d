"""Server cost of the mixed load's hot paths, in process (issue 8, item 5). Not a test.

Seeds the demo trial (``trial.demo_seed``) into a fresh SQLite file (or the PostgreSQL URL
given), logs in one coordinator through ``POST /api/session`` with FastAPI's ``TestClient``
and sends each hot path ``--repeat`` times after one warm-up request. Prints, per path, the
wall and process CPU milliseconds per request (client included: TestClient runs the app in the
same process) and the SQL statements per request (SQLAlchemy ``before_cursor_execute``).
``--profile DIR`` writes a pyinstrument HTML profile of each path there.

``--adverse-events N`` first records N more adverse events for the participant whose page and
record are read, as a long mixed load does.

Run: ``.venv/bin/python benchmarks/hot_paths.py [--repeat 200] [--database-url URL]
[--adverse-events N] [--only NAMES] [--profile DIR]``
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient
from httpx2 import Response
from sqlalchemy import event, select

from trialdesk.protocol import load_protocol
from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import upgrade_to_head
from trialdesk.store.models import Enrolment
from trialdesk.store.session import unit_of_work
from trialdesk.trial.demo_seed import DemoSeeded, seed_demo
from trialdesk.trial.roles import Role
from trialdesk.web.app import create_app

EXAMPLE = Path(__file__).resolve().parents[1] / "docs" / "examples" / "screening-eligible.yaml"
EXAMPLE_DATE = date(2026, 3, 10)  # the screening date written in the example


def seed(url: str) -> tuple[DemoSeeded, list[int]]:
    engine = make_engine(url)
    try:
        upgrade_to_head(engine)
        with unit_of_work(engine) as session:
            demo = seed_demo(session, load_protocol(None), datetime.now(UTC))
            ids = [int(x) for x in session.scalars(select(Enrolment.participant_id))]
    finally:
        engine.dispose()
    return demo, ids


def screening_body(today: date, number: int) -> dict[str, Any]:
    """The eligible example record with every date moved so it is screened today."""
    return {**_moved_example(today), "patient_id": f"HOT-{number:04d}"}


@functools.cache
def _moved_example(today: date) -> dict[str, Any]:
    """Read once: the client runs in the same process, its CPU time counts too."""
    shift = today - EXAMPLE_DATE
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    text = json.dumps(data, default=str)
    for day in sorted(set(_dates(text)), reverse=True):
        text = text.replace(day, (date.fromisoformat(day) + shift).isoformat())
    record: dict[str, Any] = json.loads(text)
    return record


def _dates(text: str) -> list[str]:
    return re.findall(r"\d{4}-\d{2}-\d{2}", text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=200)
    parser.add_argument("--database-url", default=None, help="an empty database (default: SQLite)")
    parser.add_argument("--profile", type=Path, default=None, help="pyinstrument HTML here")
    parser.add_argument("--only", default=None, help="comma-separated path names to run")
    parser.add_argument(
        "--adverse-events",
        type=int,
        default=0,
        help="record this many more adverse events for the participant whose page is read "
        "(the mixed load adds about 75 to each enrolled participant)",
    )
    args = parser.parse_args(argv)

    folder = tempfile.TemporaryDirectory()
    url = args.database_url or f"sqlite:///{folder.name}/hot.sqlite3"
    demo, participants = seed(url)
    coord = next(x for x in demo.logins if x.role == Role.COORDINATOR)
    app = create_app(database_url=url)
    statements = [0]

    @event.listens_for(app.state.runtime.engine, "before_cursor_execute")
    def _count(*_: object) -> None:
        statements[0] += 1

    with TestClient(app) as client:
        login = client.post(
            "/api/session", json={"username": coord.username, "password": coord.password}
        )
        login.raise_for_status()
        csrf = {"X-CSRF-Token": str(login.json()["csrf_token"])}
        counter = [0]

        def screening() -> Response:
            counter[0] += 1
            body = screening_body(demo.today, counter[0])
            return client.post("/api/screenings", json=body, headers=csrf)

        def adverse_event(participant: int = participants[1]) -> Response:
            body = {
                "term": "Headache",
                "grade": 1,
                "onset_date": demo.today.isoformat(),
                "attribution_hdmsc": "unlikely",
                "attribution_standard": "unrelated",
            }
            path = f"/api/participants/{participant}/adverse-events"
            return client.post(path, json=body, headers=csrf)

        for _ in range(args.adverse_events):
            adverse_event(participants[3]).raise_for_status()

        paths: dict[str, Callable[[], Response]] = {
            "dashboard GET /desk": lambda: client.get("/desk"),
            "participant page": lambda: client.get(f"/desk/participants/{participants[3]}"),
            "GET /api/participants/{id}": lambda: client.get(
                f"/api/participants/{participants[3]}"
            ),
            "GET /api/status": lambda: client.get("/api/status"),
            "POST /api/screenings": screening,
            "POST adverse event": adverse_event,
        }
        chosen = set(args.only.split(",")) if args.only else None
        print(
            f"{args.repeat} requests each, {len(participants)} enrolled, {url.split(':')[0]}, "
            f"{args.adverse_events} more adverse events on the page read"
        )
        print("| path | ms/request (wall) | ms/request (CPU) | statements/request |")
        print("|---|---:|---:|---:|")
        for name, send in paths.items():
            if chosen is not None and not any(c in name for c in chosen):
                continue
            first = send()
            if first.status_code >= 400:
                raise SystemExit(f"{name}: {first.status_code} {first.text[:300]}")
            profiler = None
            if args.profile is not None:
                from pyinstrument import Profiler

                profiler = Profiler(interval=0.0005)
                profiler.start()
            statements[0] = 0
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(args.repeat):
                send().raise_for_status()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            if profiler is not None:
                profiler.stop()
                args.profile.mkdir(parents=True, exist_ok=True)
                slug = "".join(c if c.isalnum() else "_" for c in name)
                (args.profile / f"{slug}.html").write_text(profiler.output_html())
                (args.profile / f"{slug}.txt").write_text(profiler.output_text(show_all=False))
            n = args.repeat
            per = f"{1000 * wall / n:.1f} | {1000 * cpu / n:.1f} | {statements[0] / n:.1f}"
            print(f"| {name} | {per} |")
    app.state.runtime.close()
    folder.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
