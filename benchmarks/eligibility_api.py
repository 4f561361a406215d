"""Latency of one eligibility screening through the API (issue 3, item 8). Not a test.

The app runs in-process (FastAPI TestClient, so no network) on a fresh SQLite file in a temporary
directory, or on ``--database-url``. Each request is timed from the client's side; the table
gives p50/p95/p99 in milliseconds. Cases:

- POST record: ``POST /api/screenings`` with docs/examples/screening-eligible.yaml sent as JSON:
  parse, validate, evaluate all NCT06021067 criteria, store input + result + audit entry, commit;
- POST FHIR: the same with docs/examples/fhir-bundle-eligible.json (a FHIR R4 Bundle);
- GET one: ``GET /api/screenings/{id}`` of a stored screening;
- evaluate only: the same screening without HTTP and database (``evaluate_input``), to show
  how the time divides.

Run: .venv/bin/python benchmarks/eligibility_api.py [--requests 500] [--database-url URL]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

import yaml
from fastapi.testclient import TestClient

from trialdesk.protocol import builtin_protocol
from trialdesk.store.engine import make_engine
from trialdesk.store.session import unit_of_work
from trialdesk.trial.clock import SystemClock
from trialdesk.trial.screening import evaluate_input
from trialdesk.trial.users import add_user
from trialdesk.web.app import create_app

EXAMPLES = Path(__file__).resolve().parent.parent / "docs" / "examples"
WARM_UP = 20


def record_json() -> str:
    data = yaml.safe_load((EXAMPLES / "screening-eligible.yaml").read_text(encoding="utf-8"))
    return json.dumps(data, default=str, ensure_ascii=False)


def fhir_json() -> str | None:
    bundle = EXAMPLES / "fhir-bundle-eligible.json"
    return bundle.read_text(encoding="utf-8") if bundle.is_file() else None


def timed(requests: int, call: Callable[[], object]) -> list[float]:
    """Milliseconds per call, after a few untimed calls that warm caches."""
    for _ in range(WARM_UP):
        call()
    times = []
    for _ in range(requests):
        began = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - began))
    return times


def percentile(times: list[float], p: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def machine() -> str:
    model = "unknown CPU"
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
        model = next(
            (line.split(":", 1)[1].strip() for line in lscpu.splitlines() if "Model name" in line),
            model,
        )
    except OSError:
        pass
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    return (
        f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}; "
        f"load average {load} (other work on the machine slows every figure)"
    )


def logged_in(client: TestClient, url: str) -> str:
    """A coordinator account on the benchmark database, logged in; the session's CSRF token."""
    password = "benchmark password"
    engine = make_engine(url)
    with unit_of_work(engine) as session:
        add_user(
            session,
            username="benchmark",
            printed_name="Benchmark",
            role="coordinator",
            password=password,
            actor=None,
            clock=SystemClock(),
        )
    engine.dispose()
    response = client.post("/api/session", json={"username": "benchmark", "password": password})
    if response.status_code != 200:
        raise SystemExit(f"login failed: {response.status_code} {response.text}")
    return str(response.json()["csrf_token"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=500, help="timed requests per case")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temp dir")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="trialdesk-bench-") as home:
        url = args.database_url or f"sqlite:///{Path(home) / 'bench.sqlite3'}"
        record = record_json().encode("utf-8")
        bundle = fhir_json()
        headers = {"Content-Type": "application/json"}
        results: list[tuple[str, list[float]]] = []
        with TestClient(create_app(database_url=url)) as client:
            headers["X-CSRF-Token"] = logged_in(client, url)

            def post(body: bytes, on: str | None = None) -> int:
                params = {"date": on} if on else {}
                response = client.post(
                    "/api/screenings", content=body, headers=headers, params=params
                )
                if response.status_code != 201:
                    raise SystemExit(f"POST failed: {response.status_code} {response.text}")
                return int(response.json()["id"])

            results.append(("POST record (JSON)", timed(args.requests, lambda: post(record))))
            if bundle is not None:
                fhir = bundle.encode("utf-8")
                results.append(("POST FHIR Bundle", timed(args.requests, lambda: post(fhir))))
            stored = post(record)
            results.append(
                ("GET one", timed(args.requests, lambda: client.get(f"/api/screenings/{stored}")))
            )
            backend = client.app.state.runtime.database_label  # type: ignore[attr-defined]
        loaded = builtin_protocol()
        text = record.decode("utf-8")
        today = date.today()
        results.append(
            (
                "evaluate only (no HTTP, no DB)",
                timed(args.requests, lambda: evaluate_input(loaded, text, on=None, today=today)),
            )
        )

    print(f"machine: {machine()}")
    print(f"database: {backend.split('://')[0]}; {args.requests} timed requests per case\n")
    print("| case | p50 ms | p95 ms | p99 ms | mean ms | requests/s (1 client) |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, times in results:
        mean = statistics.fmean(times)
        print(
            f"| {name} | {percentile(times, 50):.1f} | {percentile(times, 95):.1f} | "
            f"{percentile(times, 99):.1f} | {mean:.1f} | {1000 / mean:.0f} |"
        )


if __name__ == "__main__":
    main()
