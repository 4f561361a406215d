"""Mixed load from many signed-in clients against the real server (issue 8, item 5). Not a test.

For each backend (a fresh SQLite file in a temporary folder; a fresh PostgreSQL database made
on the server at ``--postgres-admin-url`` and dropped afterwards) the benchmark:

1. seeds the demo trial in progress (``trialdesk.trial.demo_seed``: two dose levels, six
   enrolled participants, a confirmed DLT) and adds one coordinator account per client; every
   tenth client logs in as the demo's investigator instead (its own session);
2. starts ``trialdesk serve`` on a free loopback port in a separate process (uvicorn; one
   process unless ``--workers``) and waits for ``/healthz``;
3. logs every client in through ``POST /api/session`` (argon2 check; timed apart, not part of
   the targets), sends one untimed request of each kind from each of 8 clients (warm-up), then
   lets all clients loose at once. Each client is an ``httpx2.AsyncClient`` with its own cookie
   jar and connections, and works through a fixed round of operations
   (dashboard, participant pages, API reads, screenings, adverse events, a new contact), waiting
   a random pause (uniform 0 to twice ``--think-ms``) before each request;
4. stops the server and reconciles: every acknowledged write (2xx with the new id) must be a new
   row, every new row must have been acknowledged, each with exactly one audit entry, no other
   audit entries, and the audit hash chain intact.

Latency is measured by the client, from sending the request to having the whole body. CPU
time (the server's, PostgreSQL's, the clients') and how busy the cores were are read from
Linux's /proc over the timed load only. Before any backend, a fixed single-threaded Python
workload is timed (``host speed``): the same code on this kind of host can run tens of per
cent slower from one hour to the next, and that figure makes runs of different days
comparable. The run is bounded by ``--requests`` (in all, split over the clients) and by
``--max-seconds`` per backend (clients start no new request after it). Exit status 1 when any
request failed or the database does not reconcile.

With ``--runs N`` every backend runs N times, one after another, each run with its own
``host speed``, and a summary table says in how many runs each target was met.

Run: .venv/bin/python benchmarks/load_mixed.py [--clients 50] [--requests 3000] [--think-ms 500]
     [--backends sqlite,postgresql] [--max-seconds 120] [--workers 1] [--threads N]
     [--runs 1] [--keep-logs DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import random
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Final

import httpx2
import psycopg
import yaml
from psycopg import sql
from sqlalchemy import Engine, func, select
from sqlalchemy.engine import make_url

from trialdesk.protocol import load_protocol
from trialdesk.store.audit_verify import verify_audit_log
from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import upgrade_to_head
from trialdesk.store.models import AdverseEvent, AuditEntry, Enrolment, Participant, Screening
from trialdesk.store.session import unit_of_work
from trialdesk.trial.clock import SystemClock
from trialdesk.trial.demo_seed import PEOPLE, seed_demo
from trialdesk.trial.roles import Role
from trialdesk.trial.users import add_user

EXAMPLES: Final = Path(__file__).resolve().parent.parent / "docs" / "examples"
EXAMPLE_DATE: Final = date(2026, 3, 10)
"""The screening date of docs/examples/screening-eligible.yaml; its dates are moved to today."""
DEFAULT_POSTGRES_ADMIN_URL: Final = "postgresql://postgres@127.0.0.1:5432/test"
P95_TARGET_MS: Final = 150.0
KEEPALIVE_S: Final = 4.0
"""Clients keep an idle connection this long; uvicorn closes one after 5 s."""
INVESTIGATOR_EVERY: Final = 10
"""Every tenth client logs in as the investigator; the others as coordinators."""
WARM_UP_CLIENTS: Final = 8
"""Clients that warm the server up at once (each its own connection, so every worker is hit)."""

DASHBOARD: Final = "dashboard GET /desk"
PARTICIPANT_PAGE: Final = "participant page GET /desk/participants/{id}"
PARTICIPANT_API: Final = "participant GET /api/participants/{id}"
LIST_API: Final = "list GET /api/{participants,adverse-events,screenings}"
SCREENING: Final = "screening POST /api/screenings"
ADVERSE_EVENT: Final = "adverse event POST /api/participants/{id}/adverse-events"
NEW_CONTACT: Final = "new contact POST /api/participants"
LOGIN: Final = "log in POST /api/session (setup, not in targets)"

ROUND: Final = (
    SCREENING,
    DASHBOARD,
    PARTICIPANT_PAGE,
    ADVERSE_EVENT,
    LIST_API,
    DASHBOARD,
    SCREENING,
    PARTICIPANT_API,
    LIST_API,
    ADVERSE_EVENT,
    DASHBOARD,
    PARTICIPANT_PAGE,
    SCREENING,
    LIST_API,
    ADVERSE_EVENT,
    NEW_CONTACT,
    DASHBOARD,
    PARTICIPANT_API,
    LIST_API,
    PARTICIPANT_PAGE,
)
"""One client's operations in order: 35 % writes. Client c starts at position 7c (mod 20), so
that at any moment the clients are spread over the whole round."""

WRITES: Final = {SCREENING: "screening", ADVERSE_EVENT: "adverse_event", NEW_CONTACT: "participant"}
"""Write operation -> the audit entity (and reconciliation row) of what it creates."""
EXPECTED_STATUS: Final = {SCREENING: 201, ADVERSE_EVENT: 201, NEW_CONTACT: 201}
LISTS: Final = ("/api/participants", "/api/adverse-events", "/api/screenings")
AE_TERMS: Final = ("Fatigue", "Nausea", "Headache", "Cough")
"""CTCAE v5.0 terms, sent at grade 1 or 2: below every DLT rule of NCT06021067 (grade >= 3)."""


@dataclass(frozen=True, slots=True)
class Config:
    clients: int = 50
    requests: int = 3000
    think_ms: float = 500.0
    max_seconds: float = 120.0
    seed: int = 0
    workers: int = 1
    """Server processes (``trialdesk serve --workers``); 1 is serve's default."""
    threads: int | None = None
    """Requests each process works on at once (``serve --threads``); None: serve's default."""


@dataclass(frozen=True, slots=True)
class Login:
    username: str
    password: str
    role: str


@dataclass(frozen=True, slots=True)
class Seeded:
    logins: list[Login]
    participant_ids: list[int]
    """Enrolled participants (adverse events need an enrolment)."""


@dataclass(frozen=True, slots=True)
class Sample:
    operation: str
    ms: float
    status: int
    """HTTP status, or 0 when no answer came (connection error, time-out)."""


@dataclass
class Outcome:
    """What the clients saw: every timed request, the ids acknowledged, the failures."""

    samples: list[Sample] = field(default_factory=list)
    acknowledged: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))
    failures: list[str] = field(default_factory=list)
    not_started: int = 0
    wall_s: float = 0.0
    client_cpu_s: float = 0.0
    """CPU time of this process (the clients) during the load: it shares the machine."""


@dataclass(frozen=True, slots=True)
class Reconciled:
    entity: str
    acknowledged: int
    new_rows: int
    lost: int
    extra: int
    audit_expected: int
    audit_found: int

    @property
    def ok(self) -> bool:
        return (
            self.lost == 0
            and self.extra == 0
            and self.audit_expected == self.audit_found == self.acknowledged
        )


@dataclass
class Report:
    backend: str
    config: Config
    outcome: Outcome
    logins: list[Sample]
    reconciled: list[Reconciled]
    other_audit: Counter[str]
    audit_entries: int
    audit_intact: bool
    server_errors: Counter[str]
    server_cpu_s: float | None
    """The server's CPU time during the timed load (log-ins and warm-up not counted)."""
    postgres_cpu_s: float | None
    """PostgreSQL's CPU time during the timed load (None on SQLite)."""
    machine_busy: float | None
    """How busy the machine's cores were during the timed load, 0 to 1."""
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]

    @property
    def errors(self) -> int:
        """Failed requests, log-in tries included."""
        return sum(1 for s in [*self.outcome.samples, *self.logins] if not _succeeded(s))

    @property
    def consistent(self) -> bool:
        return all(r.ok for r in self.reconciled) and not self.other_audit and self.audit_intact


# --- Seeding -----------------------------------------------------------------------------


def seed(url: str, clients: int, password: str) -> Seeded:
    """The demo trial plus one coordinator account per client; the clients' logins."""
    loaded = load_protocol(None)
    engine = make_engine(url)
    try:
        upgrade_to_head(engine)
        with unit_of_work(engine) as session:
            demo = seed_demo(session, loaded, datetime.now(UTC))
            investigator = next(x for x in demo.logins if x.role == Role.INVESTIGATOR)
            admin = PEOPLE[Role.ADMINISTRATOR][0]
            logins = []
            for index in range(clients):
                if index % INVESTIGATOR_EVERY == INVESTIGATOR_EVERY - 1:
                    logins.append(Login(investigator.username, investigator.password, "inv"))
                    continue
                username = f"load.coord{index + 1:02d}"
                add_user(
                    session,
                    username=username,
                    printed_name=f"Load Coordinator {index + 1}",
                    role=Role.COORDINATOR.value,
                    password=password,
                    actor=admin,
                    clock=SystemClock(),
                )
                logins.append(Login(username, password, "coord"))
            enrolled = session.scalars(select(Enrolment.participant_id).order_by(Enrolment.id))
            participant_ids = [int(x) for x in enrolled]
    finally:
        engine.dispose()
    return Seeded(logins, participant_ids)


def screening_json(today: date, patient: str) -> bytes:
    """docs/examples/screening-eligible.yaml as JSON, every date moved so it is screened today,
    for the patient numbered ``patient``."""
    return json.dumps({**_screening_record(today), "patient_id": patient}).encode("utf-8")


@functools.cache
def _screening_record(today: date) -> dict[str, Any]:
    """Read and moved once: the clients' own CPU time is on the same machine as the server's."""
    shift = today - EXAMPLE_DATE
    text = re.sub(
        r"\d{4}-\d{2}-\d{2}",
        lambda m: (date.fromisoformat(m.group(0)) + shift).isoformat(),
        (EXAMPLES / "screening-eligible.yaml").read_text(encoding="utf-8"),
    )
    record: dict[str, Any] = json.loads(json.dumps(yaml.safe_load(text), default=str))
    return record


# --- The server --------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def served(
    url: str, log_path: Path, workers: int = 1, threads: int | None = None
) -> Iterator[tuple[str, int]]:
    """``trialdesk serve`` on a free loopback port; (base URL, pid) once /healthz answers 200."""
    port = free_port()
    command = [
        sys.executable,
        "-c",
        "from trialdesk.cli import main; main()",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--database-url",
        url,
        *(["--workers", str(workers)] if workers > 1 else []),
        *(["--threads", str(threads)] if threads is not None else []),
    ]
    with log_path.open("wb") as log:
        # Several workers must sign the public forms with one key (a fresh one per run).
        environment = {"TRIALDESK_SECRET_KEY": secrets.token_urlsafe(32), **os.environ}
        server = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=environment)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_healthy(base, server, log_path)
        yield base, server.pid
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _wait_healthy(base: str, server: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if server.poll() is not None:
            tail = log_path.read_text(encoding="utf-8", errors="replace")[-3000:]
            raise SystemExit(f"the server stopped (exit {server.returncode}):\n{tail}")
        try:
            if httpx2.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except httpx2.HTTPError:
            pass
        time.sleep(0.2)
    raise SystemExit(f"the server did not answer /healthz within 90 s; see {log_path}")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a live process and its live children (uvicorn's workers),
    from Linux's /proc; None elsewhere."""
    return _proc_cpu(lambda own_pid, parent, _name: str(pid) in (own_pid, parent))


def postgres_cpu_seconds() -> float | None:
    """User + system CPU time of the live PostgreSQL processes on this machine (its server
    process and one per connection); None where /proc cannot tell."""
    return _proc_cpu(lambda _pid, _parent, name: name == "postgres")


def _proc_cpu(counted: Callable[[str, str, str], bool]) -> float | None:
    total = 0.0
    try:
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                head, tail = stat.read_text().rsplit(")", 1)
            except (OSError, ValueError):
                continue  # ended meanwhile
            fields = tail.split()
            if counted(stat.parent.name, fields[1], head.split("(", 1)[-1]):
                total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except OSError:
        return None
    return total or None


@dataclass(frozen=True, slots=True)
class CpuMarks:
    """CPU clocks read at one moment: the server's, PostgreSQL's, and the whole machine's busy
    and total time (Linux's /proc/stat), so that a run can say how busy the cores were."""

    server_s: float | None
    postgres_s: float | None
    machine_busy_s: float | None
    machine_total_s: float | None

    @classmethod
    def read(cls, server_pid: int) -> CpuMarks:
        busy = total = None
        try:
            first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
            ticks = [int(value) for value in first]
            idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
            hertz = os.sysconf("SC_CLK_TCK")
            total = sum(ticks[:8]) / hertz
            busy = total - idle / hertz
        except (OSError, ValueError, IndexError):
            pass
        return cls(cpu_seconds(server_pid), postgres_cpu_seconds(), busy, total)


def _spent(start: float | None, end: float | None) -> float | None:
    return None if start is None or end is None else end - start


def server_errors(log_path: Path) -> Counter[str]:
    """The server's errors by text: the last line of each logged exception (with the request's
    method and path when the log is trialdesk's structured JSON), and 5xx access-log lines."""
    access: Counter[str] = Counter()
    other: Counter[str] = Counter()
    lines = log_path.read_text(encoding="utf-8", errors="replace").splitlines()
    for number, line in enumerate(lines):
        text = line.strip()
        try:
            record = json.loads(text)
        except ValueError:
            record = None
        if isinstance(record, dict):
            exception = str(record.get("exception") or "").strip()
            if not exception and record.get("level") not in ("error", "critical"):
                continue
            last = _final_exception(exception) if exception else str(record.get("message"))
            where = f"{record.get('method', '')} {record.get('path', '')}".strip()
            counter = access if where else other
            counter[f"{where}: {last}"[:240] if where else last[:240]] += 1
        elif re.match(r"^[\w.]+(Error|Exception|Violation)\b.*:", text):
            following = [x.strip() for x in lines[number + 1 : number + 5]]
            if not any(x.startswith("The above exception") for x in following):
                other[text[:240]] += 1
        elif re.search(r'" 5\d\d\b', text):
            other[re.sub(r'^.*?"', '"', text)[:240]] += 1
    # The same exception is logged twice, by uvicorn and by the access log (which names the
    # request); count it once.
    return access or other


def _final_exception(traceback: str) -> str:
    """The last ``package.Error: message`` line of a traceback (not SQLAlchemy's notes)."""
    raised = [x for x in traceback.splitlines() if re.match(r"^[A-Za-z_][\w.]*: ", x)]
    return raised[-1] if raised else traceback.splitlines()[-1]


# --- The clients -------------------------------------------------------------------------


def _succeeded(sample: Sample) -> bool:
    return sample.status == EXPECTED_STATUS.get(sample.operation, 200)


class Client:
    """One signed-in user: own cookie jar, own connections, own CSRF token."""

    def __init__(self, index: int, base: str, login: Login, seeded: Seeded, config: Config):
        self.index = index
        self.login = login
        self.participants = seeded.participant_ids
        self.rng = random.Random(config.seed * 1_000_003 + index)
        self.think_s = config.think_ms / 1000
        # Idle connections are dropped before uvicorn's 5 s keep-alive ends, as browsers do,
        # so that a request is never sent on a connection the server is closing.
        self.http = httpx2.AsyncClient(
            base_url=base,
            timeout=60,
            follow_redirects=False,
            limits=httpx2.Limits(keepalive_expiry=KEEPALIVE_S),
        )
        self.csrf = ""
        self.today = datetime.now(UTC).date()
        self.written = 0

    async def log_in(self, outcome: Outcome) -> list[Sample]:
        """Log in, as a person would, again after a failure (up to 3 tries); every try timed.
        A failure is recorded in ``outcome``; False when the client never got in."""
        tries = []
        for _ in range(3):
            began = time.perf_counter()
            credentials = {"username": self.login.username, "password": self.login.password}
            try:
                response = await self.http.post("/api/session", json=credentials)
                status, detail = response.status_code, response.text[:300]
            except httpx2.HTTPError as exc:
                status, detail = 0, f"{type(exc).__name__}: {exc}"
            tries.append(Sample(LOGIN, 1000 * (time.perf_counter() - began), status))
            if status == 200:
                self.csrf = str(response.json()["csrf_token"])
                break
            outcome.failures.append(
                f"POST /api/session ({self.login.username}) -> {status}: {detail}"
            )
            await asyncio.sleep(0.5)
        return tries

    def request(self, operation: str) -> tuple[str, str, bytes | None]:
        participant = self.rng.choice(self.participants)
        if operation == DASHBOARD:
            return "GET", "/desk", None
        if operation == PARTICIPANT_PAGE:
            return "GET", f"/desk/participants/{participant}", None
        if operation == PARTICIPANT_API:
            return "GET", f"/api/participants/{participant}", None
        if operation == LIST_API:
            return "GET", f"{self.rng.choice(LISTS)}?limit=20", None
        self.written += 1
        if operation == SCREENING:
            patient = f"LOAD-{self.index + 1:02d}-{self.written:03d}"
            return "POST", "/api/screenings", screening_json(self.today, patient)
        if operation == ADVERSE_EVENT:
            body = {
                "term": self.rng.choice(AE_TERMS),
                "grade": self.rng.choice((1, 2)),
                "onset_date": self.today.isoformat(),
                "attribution_hdmsc": "unlikely",
                "attribution_standard": "unrelated",
            }
            return "POST", f"/api/participants/{participant}/adverse-events", _json(body)
        if operation == NEW_CONTACT:
            note = f"load test contact {self.index + 1}-{self.written}"
            return "POST", "/api/participants", _json({"contact_note": note})
        raise ValueError(operation)

    async def run(self, plan: Sequence[str], outcome: Outcome, deadline: float) -> None:
        for number, operation in enumerate(plan):
            await asyncio.sleep(self.rng.uniform(0, 2 * self.think_s))
            if time.monotonic() >= deadline:
                outcome.not_started += len(plan) - number
                return
            method, path, body = self.request(operation)
            headers = {"X-CSRF-Token": self.csrf}
            if body is not None:
                headers["Content-Type"] = "application/json"
            began = time.perf_counter()
            try:
                response = await self.http.request(method, path, content=body, headers=headers)
                status = response.status_code
            except httpx2.HTTPError as exc:
                status, response = 0, None
                detail = f"{type(exc).__name__}: {exc}"
            sample = Sample(operation, 1000 * (time.perf_counter() - began), status)
            outcome.samples.append(sample)
            if response is not None and _succeeded(sample):
                if operation in WRITES:
                    outcome.acknowledged[WRITES[operation]].add(int(response.json()["id"]))
                continue
            if response is not None:
                detail = response.text[:300].replace("\n", " ")
            outcome.failures.append(f"{method} {path} -> {status}: {detail}")

    async def close(self) -> None:
        await self.http.aclose()


def _json(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode("utf-8")


def plans(config: Config) -> list[list[str]]:
    """Each client's operations: ``config.requests`` in all, as even as possible."""
    each, rest = divmod(config.requests, config.clients)
    return [
        [ROUND[(7 * c + k) % len(ROUND)] for k in range(each + (1 if c < rest else 0))]
        for c in range(config.clients)
    ]


async def drive(
    base: str, seeded: Seeded, config: Config, snapshot: Callable[[], None]
) -> tuple[list[Sample], Outcome]:
    """Log every client in, warm the server up, call ``snapshot()`` (the database before the
    load), run the load. A client that could not log in counts its plan as not started."""
    outcome = Outcome()
    clients = [Client(i, base, login, seeded, config) for i, login in enumerate(seeded.logins)]
    try:
        tries = await asyncio.gather(*(c.log_in(outcome) for c in clients))
        logins = [sample for client_tries in tries for sample in client_tries]
        ready = [c for c in clients if c.csrf]
        if not ready:
            raise SystemExit(f"no client could log in: {outcome.failures[:3]}")
        # One untimed request of each kind first, from several clients (connections) so that
        # every worker process gets some: templates compiled, caches and pools filled.
        warm_up = Outcome()
        kinds = list(dict.fromkeys(ROUND))
        until = time.monotonic() + 60
        await asyncio.gather(*(c.run(kinds, warm_up, until) for c in ready[:WARM_UP_CLIENTS]))
        if warm_up.failures:
            raise SystemExit(f"the warm-up failed: {warm_up.failures[0]}")
        await asyncio.to_thread(snapshot)
        began = time.monotonic()
        cpu_began = time.process_time()
        deadline = began + config.max_seconds
        runs = []
        for client, plan in zip(clients, plans(config), strict=True):
            if client.csrf:
                runs.append(client.run(plan, outcome, deadline))
            else:
                outcome.not_started += len(plan)
        await asyncio.gather(*runs)
        outcome.wall_s = time.monotonic() - began
        outcome.client_cpu_s = time.process_time() - cpu_began
    finally:
        await asyncio.gather(*(c.close() for c in clients))
    return logins, outcome


# --- Reconciliation ----------------------------------------------------------------------

TABLES: Final[dict[str, type[Screening] | type[AdverseEvent] | type[Participant]]] = {
    "screening": Screening,
    "adverse_event": AdverseEvent,
    "participant": Participant,
}


@dataclass
class Before:
    """The highest ids before the load: every row above them was written during it."""

    max_ids: dict[str, int] = field(default_factory=dict)
    max_audit_id: int = 0


def take_before(engine: Engine, before: Before) -> None:
    with unit_of_work(engine) as session:
        for entity, model in TABLES.items():
            before.max_ids[entity] = int(session.scalar(select(func.max(model.id))) or 0)
        before.max_audit_id = int(session.scalar(select(func.max(AuditEntry.id))) or 0)


def reconcile(
    engine: Engine, before: Before, acknowledged: dict[str, set[int]]
) -> tuple[list[Reconciled], Counter[str], int, bool]:
    """Per record kind: acknowledged ids against new rows and their audit entries; the audit
    entries of anything else written meanwhile; the chain's length and whether it is intact."""
    results = []
    with unit_of_work(engine) as session:
        audit = session.execute(
            select(AuditEntry.entity, AuditEntry.entity_id, AuditEntry.field).where(
                AuditEntry.id > before.max_audit_id
            )
        ).all()
        created: dict[str, Counter[str]] = defaultdict(Counter)
        other: Counter[str] = Counter()
        for entity, entity_id, changed in audit:
            if entity in TABLES and changed is None:
                created[entity][entity_id] += 1
            else:
                other[f"{entity}.{changed}" if changed else entity] += 1
        for entity, model in TABLES.items():
            rows = {
                int(x)
                for x in session.scalars(select(model.id).where(model.id > before.max_ids[entity]))
            }
            acked = acknowledged.get(entity, set())
            audited = created[entity]
            results.append(
                Reconciled(
                    entity=entity,
                    acknowledged=len(acked),
                    new_rows=len(rows),
                    lost=len(acked - rows),
                    extra=len(rows - acked),
                    audit_expected=len(acked),
                    audit_found=sum(n for key, n in audited.items() if int(key) in acked),
                )
            )
            stray = sum(n for key, n in audited.items() if int(key) not in acked)
            if stray:
                other[f"{entity} (not acknowledged)"] += stray
        verification = verify_audit_log(session)
    return results, other, verification.entries, verification.intact


# --- One backend -------------------------------------------------------------------------


@contextmanager
def postgres_database(admin_url: str) -> Iterator[str]:
    """A new, uniquely named database on the admin URL's server, dropped afterwards."""
    name = f"trialdesk_load_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield (
            make_url(admin_url)
            .set(drivername="postgresql+psycopg", database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with psycopg.connect(admin_url, autocommit=True, connect_timeout=5) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def backend_url(backend: str, folder: Path, admin_url: str) -> Iterator[str]:
    if backend == "sqlite":
        yield f"sqlite:///{folder / 'load.sqlite3'}"
    elif backend == "postgresql":
        with postgres_database(admin_url) as url:
            yield url
    else:
        raise SystemExit(f"unknown backend {backend!r}; use sqlite or postgresql")


def run_backend(
    backend: str,
    config: Config,
    admin_url: str = DEFAULT_POSTGRES_ADMIN_URL,
    keep_log: Path | None = None,
) -> Report:
    """Seed, serve, load and reconcile one backend; the report (nothing printed)."""
    with (
        tempfile.TemporaryDirectory(prefix="trialdesk-load-") as home,
        backend_url(backend, Path(home), admin_url) as url,
    ):
        seeded = seed(url, config.clients, f"load-{secrets.token_urlsafe(12)}")
        before = Before()
        log_path = Path(home) / "server.log"
        engine = make_engine(url)
        try:
            load_before = os.getloadavg()
            with served(url, log_path, config.workers, config.threads) as (base, pid):
                marks: list[CpuMarks] = []

                def before_load() -> None:
                    take_before(engine, before)
                    marks.append(CpuMarks.read(pid))

                logins, outcome = asyncio.run(drive(base, seeded, config, before_load))
                marks.append(CpuMarks.read(pid))
            load_after = os.getloadavg()
            reconciled, other, entries, intact = reconcile(engine, before, outcome.acknowledged)
        finally:
            engine.dispose()
        errors = server_errors(log_path)
        if keep_log is not None:
            keep_log.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(log_path, keep_log)
    start, end = marks
    return Report(
        backend=backend,
        config=config,
        outcome=outcome,
        logins=logins,
        reconciled=reconciled,
        other_audit=other,
        audit_entries=entries,
        audit_intact=intact,
        server_errors=errors,
        server_cpu_s=_spent(start.server_s, end.server_s),
        postgres_cpu_s=_spent(start.postgres_s, end.postgres_s) if backend != "sqlite" else None,
        machine_busy=_busy(start, end),
        load_before=load_before,
        load_after=load_after,
    )


def _busy(start: CpuMarks, end: CpuMarks) -> float | None:
    busy = _spent(start.machine_busy_s, end.machine_busy_s)
    total = _spent(start.machine_total_s, end.machine_total_s)
    return None if busy is None or not total else busy / total


# --- Printing ----------------------------------------------------------------------------


def _cpu_line(report: Report, requests: int) -> str:
    """CPU time during the timed load, in all and per request, and how busy the cores were."""
    parts = []
    for who, seconds in (
        ("server", report.server_cpu_s),
        ("PostgreSQL", report.postgres_cpu_s),
        ("load clients", report.outcome.client_cpu_s),
    ):
        if seconds is not None:
            parts.append(f"{who} {seconds:.1f} s ({1000 * seconds / requests:.1f} ms a request)")
    busy = "" if report.machine_busy is None else f"; cores {100 * report.machine_busy:.0f} % busy"
    return "CPU during the load (log-ins and warm-up not counted): " + ", ".join(parts) + busy


def percentile(times: Sequence[float], p: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def _row(name: str, samples: Sequence[Sample], wall_s: float) -> str:
    times = [s.ms for s in samples]
    errors = sum(1 for s in samples if not _succeeded(s))
    rate = f"{len(samples) / wall_s:.1f}" if wall_s > 0 else "-"
    return (
        f"| {name} | {len(samples)} | {errors} | {percentile(times, 50):.1f} | "
        f"{percentile(times, 95):.1f} | {percentile(times, 99):.1f} | {rate} |"
    )


def _load(values: tuple[float, float, float]) -> str:
    return " ".join(f"{v:.2f}" for v in values)


def worst_operation(samples: Sequence[Sample]) -> tuple[float, str]:
    """The highest p95 of any operation (ms) and that operation's name."""
    by_operation: dict[str, list[float]] = defaultdict(list)
    for sample in samples:
        by_operation[sample.operation].append(sample.ms)
    return max(
        ((percentile(times, 95), name) for name, times in by_operation.items()),
        default=(0.0, "-"),
    )


def targets_met(report: Report) -> tuple[bool, bool, bool]:
    """Whether the run met each target: p95 of every operation, zero errors, zero lost writes."""
    return (
        worst_operation(report.outcome.samples)[0] <= P95_TARGET_MS,
        report.errors == 0 and report.outcome.not_started == 0,
        report.consistent,
    )


def render(report: Report) -> tuple[str, bool]:
    """The report as Markdown tables, and whether every target was met."""
    out = report.outcome
    config = report.config
    samples = out.samples
    lines = [
        f"### {report.backend}",
        "",
        f"{config.clients} clients, {len(samples)} requests timed"
        + (f" ({out.not_started} not started: time limit or no login)" if out.not_started else "")
        + f", think time uniform 0-{2 * config.think_ms:.0f} ms; load phase {out.wall_s:.1f} s; "
        f"load average {_load(report.load_before)} before, {_load(report.load_after)} after",
        "",
        "| operation | count | errors | p50 ms | p95 ms | p99 ms | req/s |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    by_operation: dict[str, list[Sample]] = defaultdict(list)
    for sample in samples:
        by_operation[sample.operation].append(sample)
    for operation in dict.fromkeys(ROUND):
        if by_operation[operation]:
            lines.append(_row(operation, by_operation[operation], out.wall_s))
    if samples:
        lines.append(_row("**all**", samples, out.wall_s))
    if report.logins:
        lines.append(_row(LOGIN, report.logins, 0))
    if samples:
        lines.append("\n" + _cpu_line(report, len(samples)))
    lines += [
        "",
        "| written | acknowledged (2xx) | new rows | lost | extra | audit entries "
        "(expected / found) |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in report.reconciled:
        lines.append(
            f"| {r.entity} | {r.acknowledged} | {r.new_rows} | {r.lost} | {r.extra} | "
            f"{r.audit_expected} / {r.audit_found} |"
        )
    lines.append(
        f"\naudit chain: {report.audit_entries} entries, "
        + ("intact" if report.audit_intact else "BROKEN")
        + (
            f"; other audit entries during the load: {dict(report.other_audit)}"
            if report.other_audit
            else ""
        )
    )
    if out.failures:
        kinds = Counter(re.sub(r"/\d+", "/{id}", f) for f in out.failures)
        lines.append(f"\nfailed requests ({len(out.failures)}):")
        lines += [f"- {n} x {text}" for text, n in kinds.most_common(10)]
    if report.server_errors:
        lines.append("\nserver log (errors, by count):")
        lines += [f"- {n} x {text}" for text, n in report.server_errors.most_common(10)]
    worst = worst_operation(samples)
    met_latency, met_errors, met_writes = targets_met(report)
    lines += [
        "",
        f"- p95 ≤ {P95_TARGET_MS:.0f} ms for every operation: "
        + ("met" if met_latency else "NOT met")
        + f" (worst: {worst[1]}, {worst[0]:.1f} ms; all requests "
        + (f"{percentile([s.ms for s in samples], 95):.1f} ms)" if samples else "-)"),
        f"- zero errors: {'met' if met_errors else 'NOT met'} ({report.errors} failed"
        + (f", {out.not_started} not started" if out.not_started else "")
        + ")",
        "- zero lost writes (and none extra, audit matching, chain intact): "
        + ("met" if met_writes else "NOT met"),
    ]
    return "\n".join(lines), met_latency and met_errors and met_writes


@dataclass(frozen=True, slots=True)
class RunLine:
    """One backend's run, as the summary of several runs shows it."""

    run: int
    started: datetime
    host_speed_ms: float
    report: Report


def summary(lines: Sequence[RunLine]) -> str:
    """Every run in one table, then per backend in how many runs each target was met: on a
    shared host the same code gives different tails from one minute to the next."""
    table = [
        "## Summary of the runs",
        "",
        "| run | started (UTC) | host speed ms | backend | req/s | p95 ms (all) | worst "
        "operation, p95 ms | server CPU ms/req | p95 target | errors | writes reconcile |",
        "|---:|---|---:|---|---:|---:|---|---:|---|---:|---|",
    ]
    for line in lines:
        out = line.report.outcome
        times = [s.ms for s in out.samples]
        worst_ms, worst_name = worst_operation(out.samples)
        latency, _, writes = targets_met(line.report)
        cpu = line.report.server_cpu_s
        table.append(
            f"| {line.run} | {line.started:%H:%M} | {line.host_speed_ms:.0f} | "
            f"{line.report.backend} | "
            + (f"{len(times) / out.wall_s:.1f}" if out.wall_s > 0 else "-")
            + f" | {percentile(times, 95) if times else 0:.1f} | {worst_name} {worst_ms:.1f} | "
            + (f"{1000 * cpu / len(times):.1f}" if cpu is not None and times else "-")
            + f" | {'met' if latency else 'NOT met'} | {line.report.errors} | "
            + ("yes" if writes else "NO")
            + " |"
        )
    table.append("")
    for backend in dict.fromkeys(line.report.backend for line in lines):
        met = [targets_met(line.report) for line in lines if line.report.backend == backend]
        counts = [sum(1 for m in met if m[i]) for i in range(3)]
        table.append(
            f"- {backend}: p95 ≤ {P95_TARGET_MS:.0f} ms for every operation in {counts[0]} of "
            f"{len(met)} runs; zero errors in {counts[1]}; zero lost writes in {counts[2]}"
        )
    return "\n".join(table)


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        memory = next(
            int(line.split()[1]) / 1024**2
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
    except (OSError, StopIteration):
        memory = 0.0
    return (
        f"{os.cpu_count()} cores ({model}), {memory:.0f} GB RAM, Python "
        f"{platform.python_version()}, {platform.system()} {platform.release()}"
    )


def host_speed_ms(tries: int = 5) -> float:
    """Milliseconds a fixed single-threaded Python workload takes (best of ``tries``): the
    same code on the same host varies by tens of per cent from hour to hour, and this figure
    tells a slow host from a slow server when runs of different days are compared."""
    best = float("inf")
    for _ in range(tries):
        began = time.perf_counter()
        rows = [
            {"id": n, "term": f"term {n % 97}", "grade": n % 5, "at": str(n)} for n in range(20_000)
        ]
        text = json.dumps(rows, sort_keys=True)
        decoded = json.loads(text)
        decoded.sort(key=lambda row: (row["term"], -row["id"]))
        "".join(f"<td>{row['term']}</td><td>{row['grade']}</td>" for row in decoded)
        best = min(best, time.perf_counter() - began)
    return 1000 * best


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--clients", type=int, default=50, help="concurrent signed-in clients")
    parser.add_argument("--requests", type=int, default=3000, help="requests in all, per backend")
    parser.add_argument(
        "--think-ms", type=float, default=500.0, help="mean pause before each request (0: none)"
    )
    parser.add_argument(
        "--max-seconds", type=float, default=120.0, help="time limit of the load per backend"
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument(
        "--workers", type=int, default=1, help="server processes (trialdesk serve --workers)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="requests each server process works on at once (serve --threads; default: serve's)",
    )
    parser.add_argument("--postgres-admin-url", default=DEFAULT_POSTGRES_ADMIN_URL)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--runs",
        type=int,
        default=1,
        help="run every backend this many times, one after another, and summarise (the host's "
        "speed varies from minute to minute)",
    )
    parser.add_argument(
        "--keep-logs", type=Path, help="copy each server's output here (BACKEND-server.log)"
    )
    args = parser.parse_args(argv)
    if args.clients < 1 or args.requests < 1 or args.runs < 1:
        parser.error("--clients, --requests and --runs must be at least 1")
    config = Config(
        args.clients,
        args.requests,
        args.think_ms,
        args.max_seconds,
        args.seed,
        args.workers,
        args.threads,
    )
    print(f"machine: {machine()}")
    print(
        f"date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; server: trialdesk serve (uvicorn, "
        f"{args.workers} process{'es' if args.workers > 1 else ''}, "
        f"{'--threads ' + str(args.threads) if args.threads else 'default threads'}) on 127.0.0.1\n"
    )
    all_met = True
    failed = False
    runs: list[RunLine] = []
    for run in range(1, args.runs + 1):
        speed = host_speed_ms()
        print(
            (f"## Run {run} of {args.runs}\n\n" if args.runs > 1 else "")
            + f"host speed: a fixed Python workload takes {speed:.0f} ms on one core "
            "(best of 5; lower is faster)\n",
            flush=True,
        )
        for backend in args.backends.split(","):
            name = backend.strip()
            log_name = f"{name}-server.log" if args.runs == 1 else f"{name}-{run}-server.log"
            kept = None if args.keep_logs is None else args.keep_logs / log_name
            started = datetime.now(UTC)
            report = run_backend(name, config, args.postgres_admin_url, kept)
            text, met = render(report)
            print(text, "\n", flush=True)
            runs.append(RunLine(run, started, speed, report))
            all_met = all_met and met
            failed = failed or report.errors > 0 or not report.consistent
    if args.runs > 1:
        print(summary(runs), "\n")
    print("all targets met" if all_met else "some targets NOT met")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
