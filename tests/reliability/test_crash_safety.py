"""Crash safety: the desk server is killed (SIGKILL) in the middle of a burst of writes.

What the test does, on SQLite and on PostgreSQL: a demo trial in progress (``trialdesk demo``)
and a coordinator account (``trialdesk user add``) are made with the real CLI; the real server
(``trialdesk serve``, the process that runs uvicorn, not a shell around it) is started; eight
threads post follow-up measurements and grade 3 adverse events over HTTP, each measurement with
a value no other request uses (its marker); once a set number of writes were answered 2xx (not
after a sleep), the server gets SIGKILL while the threads wait for answers. It is started
again on the same database, and after each of two such rounds:

- every acknowledged write (2xx received) is stored, exactly once, as it was answered;
- a write whose answer was lost in the kill is stored whole or not at all: a measurement with its
  audit entry; an adverse event with its audit entry and, inside the DLT window, its
  candidate-DLT assessment with its own audit entry. Checked over the whole database: no
  measurement, adverse event or DLT assessment without its creation entry in the audit log, no
  creation entry without its row;
- a write that was refused (an answer other than 2xx) or never sent is not stored;
- ``trialdesk audit verify`` exits 0 (hash chain and checkpoint intact);
- the restarted server answers normally: health check, login, a new write that can be read back.

Which guarantees these are, and which not. A write is answered only after its transaction has
committed (the route's unit of work commits before the route returns). Killing the
application process loses only what was not committed:

- PostgreSQL: the server process is not touched; it rolls back the transactions of the killed
  client's connections. ``synchronous_commit=on`` (the default) makes a commit durable against a
  crash of PostgreSQL itself and of the machine too.
- SQLite: the engine runs WAL with ``synchronous=FULL``. A commit is written to the WAL file
  and synced to the disk before it returns, so it survives the death of the process, which is
  what this test checks, and also a power failure or an operating-system crash, which a test
  cannot cause; on restart SQLite replays the WAL and ignores a transaction whose commit record
  was not written.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any, Final

import httpx2
import pytest
from sqlalchemy import create_engine, text

from trialdesk.web.auth import SESSION_COOKIE

TRIALDESK: Final = Path(sys.executable).with_name("trialdesk")
"""The console script of this environment: what `pip install` gives an operator."""
WRITER: Final = "burst"
PASSWORD: Final = "crash safety password 1"
THREADS: Final = 8
KILL_AFTER: Final = (20, 40)
"""One round per entry: SIGKILL once this many writes of the round were answered 2xx."""
MARKER_STEP: Final = 1 / 256
"""Measurement markers are multiples of this: exact in binary, so equal after the round trip."""
START_TIMEOUT_S: Final = 90.0
"""Generous: a start takes 3 s on an idle machine, 30 s on a busy one."""
BURST_TIMEOUT_S: Final = 40.0


# --- The server as an operating-system process ----------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(TRIALDESK), *args],
        capture_output=True,
        text=True,
        timeout=180,
        env=env,
        check=False,
    )


class DeskServer:
    """`trialdesk serve` on a free port, its output in a log file."""

    def __init__(self, database_url: str, folder: Path) -> None:
        self.database_url = database_url
        self.folder = folder
        self.process: subprocess.Popen[bytes] | None = None
        self.base_url = ""
        self.starts = 0

    def start(self) -> None:
        assert self.process is None
        self.starts += 1
        port = _free_port()
        log = self.folder / f"serve-{self.starts}.log"
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [str(TRIALDESK), "serve", "--database-url", self.database_url, "--port", str(port)],
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        self.base_url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"trialdesk serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx2.get(f"{self.base_url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx2.TransportError:
                pass
            time.sleep(0.1)
        else:
            self.stop()
            pytest.fail(f"no 200 from /healthz within {START_TIMEOUT_S:.0f} s:\n{self.log()}")
        # uvicorn names the process that serves; SIGKILL must hit that one, not a wrapper.
        assert f"Started server process [{self.process.pid}]" in self.log(), self.log()

    def log(self) -> str:
        return (self.folder / f"serve-{self.starts}.log").read_text(errors="replace")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        assert self.process.wait(timeout=10) == -signal.SIGKILL
        self.process = None

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[DeskServer]:
    """A demo trial and the coordinator ``burst``, made with the CLI on each backend in turn;
    the server not started yet."""
    if not TRIALDESK.exists():
        pytest.fail(f"{TRIALDESK} not found: install the package (pip install -e .)")
    seeded = _run_cli("demo", "--database-url", database_url, "--quiet")
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    added = _run_cli(
        "user",
        "add",
        WRITER,
        "--name",
        "Burst Writer",
        "--role",
        "coordinator",
        "--as",
        "admin",
        "--database-url",
        database_url,
        env={**os.environ, "TRIALDESK_PASSWORD": PASSWORD},
    )
    assert added.returncode == 0, added.stdout + added.stderr
    server = DeskServer(database_url, tmp_path)
    try:
        yield server
    finally:
        server.stop()


# --- The burst -------------------------------------------------------------------------------

ACKNOWLEDGED = "acknowledged"
REFUSED = "refused"
IN_FLIGHT = "in flight"
NOT_SENT = "not sent"


@dataclass
class Attempt:
    """One write request and what the client learnt of it."""

    kind: str  # "measurement" or "adverse_event"
    participant_id: int
    body: dict[str, Any]
    outcome: str = ""
    status: int | None = None
    answer: dict[str, Any] = field(default_factory=dict)
    error: str = ""
    before_kill: bool = False

    @property
    def marker(self) -> float | None:
        return float(self.body["value"]) if self.kind == "measurement" else None


@dataclass
class Logged:
    """A logged-in API client's headers (cookie sent by hand: the jar would keep a Secure
    cookie from plain http)."""

    base_url: str
    headers: dict[str, str]

    def client(self) -> httpx2.Client:
        # No retries (httpx's default): a retried post could store a write twice.
        return httpx2.Client(base_url=self.base_url, headers=self.headers, timeout=30)


def log_in(base_url: str) -> Logged:
    response = httpx2.post(
        f"{base_url}/api/session", json={"username": WRITER, "password": PASSWORD}, timeout=20
    )
    assert response.status_code == 200, response.text
    cookie = re.search(rf"{SESSION_COOKIE}=([^;]+)", response.headers["set-cookie"])
    assert cookie is not None, response.headers["set-cookie"]
    return Logged(
        base_url,
        {
            "Cookie": f"{SESSION_COOKIE}={cookie.group(1)}",
            "X-CSRF-Token": str(response.json()["csrf_token"]),
        },
    )


def enrolled_participants(logged: Logged) -> list[int]:
    with logged.client() as client:
        response = client.get("/api/participants", params={"limit": 200})
    assert response.status_code == 200, response.text
    ids = [int(p["id"]) for p in response.json()["items"] if p["status"] == "enrolled"]
    assert len(ids) >= 3, response.text
    return ids


class Burst:
    """Writers that post until the server dies; ``kill_now`` is set at the ``kill_after``-th
    acknowledged write."""

    def __init__(self, logged: Logged, participants: list[int], round_no: int, kill_after: int):
        self.logged = logged
        self.participants = participants
        self.kill_after = kill_after
        self.attempts: list[Attempt] = []
        self.kill_now = threading.Event()
        self.killed = threading.Event()
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._acknowledged = 0
        self._first_marker = 1 + 30 * round_no
        # Two days back: never in the future on the server's calendar, whatever its time zone.
        self._day = (date.today() - timedelta(days=2)).isoformat()

    def _next(self) -> Attempt:
        with self._lock:
            n = len(self.attempts)
            participant = self.participants[n % len(self.participants)]
            if n % 3 == 2:
                attempt = Attempt(
                    "adverse_event",
                    participant,
                    {
                        "term": "Cough",
                        "grade": 3,
                        "onset_date": self._day,
                        "attribution_hdmsc": "possible",
                        "attribution_standard": "unlikely",
                    },
                )
            else:
                value = self._first_marker + n * MARKER_STEP
                assert value < self._first_marker + 29, "more writes than markers"
                attempt = Attempt(
                    "measurement",
                    participant,
                    {"code": "ct_score", "value": value, "measured_on": self._day},
                )
            self.attempts.append(attempt)
            return attempt

    def _write(self) -> None:
        with self.logged.client() as client:
            while not self.stop.is_set():
                attempt = self._next()
                path = f"/api/participants/{attempt.participant_id}/" + (
                    "measurements" if attempt.kind == "measurement" else "adverse-events"
                )
                try:
                    response = client.post(path, json=attempt.body)
                except httpx2.TransportError as exc:
                    lost = NOT_SENT if isinstance(exc, httpx2.ConnectError) else IN_FLIGHT
                    attempt.outcome, attempt.error = lost, repr(exc)
                    attempt.before_kill = not self.killed.is_set()
                    return
                attempt.status = response.status_code
                if not response.is_success:
                    attempt.outcome, attempt.error = REFUSED, response.text[:300]
                    continue
                attempt.outcome, attempt.answer = ACKNOWLEDGED, response.json()
                with self._lock:
                    self._acknowledged += 1
                    if self._acknowledged == self.kill_after:
                        self.kill_now.set()

    def run_and_kill(self, server: DeskServer) -> None:
        writers = [threading.Thread(target=self._write, daemon=True) for _ in range(THREADS)]
        for writer in writers:
            writer.start()
        reached = self.kill_now.wait(BURST_TIMEOUT_S)
        self.killed.set()
        server.kill()
        self.stop.set()
        for writer in writers:
            writer.join(timeout=30)
        assert reached, (
            f"only {self._acknowledged} of {self.kill_after} writes acknowledged in "
            f"{BURST_TIMEOUT_S:.0f} s: {self.summary()}"
        )
        assert not any(w.is_alive() for w in writers), "a writer hangs after the kill"

    def lost_before_kill(self) -> list[Attempt]:
        """Requests that got no answer while the server was still running (timeouts)."""
        return [a for a in self.attempts if a.before_kill]

    def summary(self) -> str:
        counts: dict[str, int] = {}
        for attempt in self.attempts:
            counts[attempt.outcome or "unfinished"] = (
                counts.get(attempt.outcome or "unfinished", 0) + 1
            )
        refused = [f"{a.status}: {a.error}" for a in self.attempts if a.outcome == REFUSED][:3]
        return f"{counts}; first refusals: {refused}"


# --- What the database holds -----------------------------------------------------------------


@dataclass
class Stored:
    """The clinical rows the burst writes and their creation entries in the audit log."""

    measurements: dict[int, tuple[int, float]]  # id -> (participant, value)
    events: dict[int, tuple[int, str]]  # id -> (participant, term)
    dlts: dict[int, int]  # dlt assessment id -> adverse event id
    created: dict[str, dict[str, list[dict[str, Any]]]]  # entity -> id -> creation entries

    def creation_problems(self) -> list[str]:
        """Rows without exactly one creation entry, and creation entries without their row."""
        problems: list[str] = []
        for entity, rows in (
            ("measurement", self.measurements),
            ("adverse_event", self.events),
            ("dlt_assessment", self.dlts),
        ):
            entries = self.created.get(entity, {})
            for row_id in rows:
                found = len(entries.get(str(row_id), []))
                if found != 1:
                    problems.append(f"{entity} #{row_id} has {found} creation audit entries")
            for entity_id in entries:
                if int(entity_id) not in rows:
                    problems.append(f"audit entry creates {entity} #{entity_id}, which is absent")
        for row_id, (_, value) in self.measurements.items():
            for entry in self.created.get("measurement", {}).get(str(row_id), []):
                if entry["value"] != value:
                    problems.append(f"measurement #{row_id} is {value}, audited as {entry}")
        return problems

    def by_marker(self, value: float) -> list[int]:
        return [i for i, (_, stored) in self.measurements.items() if stored == value]

    def dlts_of(self, event_id: int) -> list[int]:
        return [i for i, ae in self.dlts.items() if ae == event_id]


def read_stored(database_url: str) -> Stored:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            measurements = {
                int(r.id): (int(r.participant_id), float(r.value))
                for r in connection.execute(
                    text("SELECT id, participant_id, value FROM measurements")
                )
            }
            events = {
                int(r.id): (int(r.participant_id), str(r.term))
                for r in connection.execute(
                    text("SELECT id, participant_id, term FROM adverse_events")
                )
            }
            dlts = {
                int(r.id): int(r.adverse_event_id)
                for r in connection.execute(
                    text("SELECT id, adverse_event_id FROM dlt_assessments")
                )
            }
            created: dict[str, dict[str, list[dict[str, Any]]]] = {}
            for r in connection.execute(
                text(
                    "SELECT entity, entity_id, new_value FROM audit_log WHERE field IS NULL AND "
                    "entity IN ('measurement', 'adverse_event', 'dlt_assessment')"
                )
            ):
                created.setdefault(r.entity, {}).setdefault(r.entity_id, []).append(
                    json.loads(r.new_value)
                )
    finally:
        engine.dispose()
    return Stored(measurements, events, dlts, created)


def check_round(
    burst: Burst, before: Stored, after: Stored, dlt_expected: dict[int, bool]
) -> list[str]:
    """Every way in which the database after the restart breaks the promise to the client.

    ``dlt_expected``: whether an adverse event of the burst makes a candidate DLT, by
    participant, as learnt from the acknowledged ones (updated here).
    """
    for attempt in burst.attempts:
        if attempt.kind == "adverse_event" and attempt.outcome == ACKNOWLEDGED:
            dlt_expected[attempt.participant_id] = attempt.answer["dlt"] is not None
    problems = after.creation_problems()
    new_events = [i for i in after.events if i not in before.events]
    for event_id in new_events:
        # Every adverse event of the burst is grade 3, possibly related, with the same onset: a
        # candidate DLT if the participant's DLT window is open (as its acknowledged ones say).
        participant = after.events[event_id][0]
        expected = {0, 1} if participant not in dlt_expected else {int(dlt_expected[participant])}
        if len(after.dlts_of(event_id)) not in expected:
            problems.append(
                f"adverse event #{event_id} has DLT assessments {after.dlts_of(event_id)}, "
                f"expected {expected}"
            )
    for attempt in burst.attempts:
        if attempt.kind == "measurement":
            assert attempt.marker is not None
            ids = after.by_marker(attempt.marker)
            if attempt.outcome == ACKNOWLEDGED:
                if ids != [attempt.answer["id"]]:
                    problems.append(f"acknowledged measurement {attempt.answer} stored as {ids}")
                elif after.measurements[ids[0]][0] != attempt.participant_id:
                    problems.append(f"measurement #{ids[0]} moved to another participant")
            elif attempt.outcome == IN_FLIGHT:
                if len(ids) > 1:
                    problems.append(
                        f"measurement {attempt.marker} in flight stored {len(ids)} times"
                    )
            elif ids:
                problems.append(f"{attempt.outcome} measurement {attempt.body} stored as {ids}")
        elif attempt.outcome == ACKNOWLEDGED:
            event_id = int(attempt.answer["id"])
            stored = after.events.get(event_id)
            if stored != (attempt.participant_id, "Cough"):
                problems.append(f"acknowledged adverse event #{event_id} stored as {stored}")
            dlt = attempt.answer["dlt"]
            if after.dlts_of(event_id) != ([] if dlt is None else [dlt["id"]]):
                problems.append(
                    f"acknowledged adverse event #{event_id}: DLT assessment {dlt} stored as "
                    f"{after.dlts_of(event_id)}"
                )
    unanswered_events = sum(
        a.kind == "adverse_event" and a.outcome == IN_FLIGHT for a in burst.attempts
    )
    acknowledged_events = sum(
        a.kind == "adverse_event" and a.outcome == ACKNOWLEDGED for a in burst.attempts
    )
    if not acknowledged_events <= len(new_events) <= acknowledged_events + unanswered_events:
        problems.append(
            f"{len(new_events)} new adverse events for {acknowledged_events} acknowledged and "
            f"{unanswered_events} unanswered"
        )
    return problems


def audit_verify(database_url: str) -> subprocess.CompletedProcess[str]:
    return _run_cli("audit", "verify", "--database-url", database_url)


# --- The test --------------------------------------------------------------------------------


def test_sigkill_mid_burst_keeps_every_acknowledged_write_and_no_half_write(
    desk: DeskServer,
) -> None:
    desk.start()
    in_flight = 0
    dlt_expected: dict[int, bool] = {}
    for round_no, kill_after in enumerate(KILL_AFTER):
        logged = log_in(desk.base_url)
        participants = enrolled_participants(logged)
        before = read_stored(desk.database_url)
        burst = Burst(logged, participants, round_no, kill_after)
        burst.run_and_kill(desk)

        desk.start()
        after = read_stored(desk.database_url)
        problems = check_round(burst, before, after, dlt_expected)
        assert not problems, f"round {round_no + 1}: {problems}; burst: {burst.summary()}"
        refused = [a for a in burst.attempts if a.outcome == REFUSED]
        assert not refused, f"round {round_no + 1}: writes refused: {burst.summary()}"
        unanswered = [a.error for a in burst.lost_before_kill()]
        assert not unanswered, f"round {round_no + 1}: no answer before the kill: {unanswered}"
        verified = audit_verify(desk.database_url)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert verified.stdout.startswith("audit log intact"), verified.stdout
        in_flight += sum(a.outcome == IN_FLIGHT for a in burst.attempts)
    # The kill landed while requests were on the wire, not between bursts.
    assert in_flight >= 1

    # The restarted server works as before: a new write is stored and can be read back.
    logged = log_in(desk.base_url)
    participant = enrolled_participants(logged)[0]
    with logged.client() as client:
        written = client.post(
            f"/api/participants/{participant}/measurements",
            json={
                "code": "spo2",
                "value": 97,
                "unit": "%",
                "measured_on": (date.today() - timedelta(days=1)).isoformat(),
            },
        )
        assert written.status_code == 201, written.text
        read = client.get(f"/api/participants/{participant}")
    assert read.status_code == 200, read.text
    assert written.json()["id"] in [m["id"] for m in read.json()["measurements"]]
    assert audit_verify(desk.database_url).returncode == 0


# --- The checks themselves must be able to fail ----------------------------------------------


def _checked_burst() -> tuple[Burst, Stored]:
    """A finished burst on participant 7 and a database that keeps every promise to it."""
    burst = Burst(Logged("http://127.0.0.1:9", {}), [7], round_no=0, kill_after=2)
    burst.attempts = [
        Attempt("measurement", 7, {"value": 1.0}, ACKNOWLEDGED, 201, {"id": 1}),
        Attempt("measurement", 7, {"value": 1.5}, IN_FLIGHT, error="ReadError()"),
        Attempt("measurement", 7, {"value": 2.0}, REFUSED, 500, error="Internal Server Error"),
        Attempt(
            "adverse_event", 7, {"term": "Cough"}, ACKNOWLEDGED, 201, {"id": 1, "dlt": {"id": 1}}
        ),
    ]
    stored = Stored(
        measurements={1: (7, 1.0)},
        events={1: (7, "Cough")},
        dlts={1: 1},
        created={
            "measurement": {"1": [{"value": 1.0}]},
            "adverse_event": {"1": [{"term": "Cough"}]},
            "dlt_assessment": {"1": [{"status": "candidate"}]},
        },
    )
    return burst, stored


def _lose_acknowledged(stored: Stored) -> None:
    del stored.measurements[1]
    del stored.created["measurement"]["1"]


def _row_without_audit(stored: Stored) -> None:
    stored.measurements[2] = (7, 1.5)


def _audit_without_row(stored: Stored) -> None:
    stored.created["measurement"]["2"] = [{"value": 1.5}]


def _store_refused(stored: Stored) -> None:
    stored.measurements[2] = (7, 2.0)
    stored.created["measurement"]["2"] = [{"value": 2.0}]


def _store_twice(stored: Stored) -> None:
    for row_id in (2, 3):
        stored.measurements[row_id] = (7, 1.5)
        stored.created["measurement"][str(row_id)] = [{"value": 1.5}]


def _event_without_dlt(stored: Stored) -> None:
    stored.dlts.clear()
    stored.created["dlt_assessment"].clear()


def _audited_as_other_value(stored: Stored) -> None:
    stored.created["measurement"]["1"] = [{"value": 9.0}]


@pytest.mark.parametrize(
    ("defect", "named"),
    [
        (_lose_acknowledged, "acknowledged measurement"),
        (_row_without_audit, "measurement #2 has 0 creation audit entries"),
        (_audit_without_row, "creates measurement #2, which is absent"),
        (_store_refused, "refused measurement"),
        (_store_twice, "stored 2 times"),
        (_event_without_dlt, "adverse event #1: DLT assessment"),
        (_audited_as_other_value, "audited as"),
    ],
)
def test_the_checks_name_a_lost_a_half_and_a_doubled_write(
    defect: Callable[[Stored], None], named: str
) -> None:
    """Without a crash that breaks a promise the test above could pass for a wrong reason; here
    each kind of broken promise is made by hand and must be named."""
    burst, stored = _checked_burst()
    assert check_round(burst, Stored({}, {}, {}, {}), stored, {}) == []
    defect(stored)
    problems = check_round(burst, Stored({}, {}, {}, {}), stored, {})
    assert any(named in problem for problem in problems), problems
