"""No lost updates, on SQLite and PostgreSQL, with real concurrent HTTP requests.

- The last slot of a cohort: four coordinators press "enrol" for four consented people at the
  same moment while the 3+3 cohort (NCT06021067: cohorts of 3) has two enrolled. Exactly one is
  enrolled; the others are refused with the reason, and the cohort holds three.
- A stale edit: two people open the same adverse event; the first correction is saved, the
  second (made on the version both read) is refused with 409, names what changed, and saves
  nothing. The same through the desk form.

The server is uvicorn on a real socket in a thread, so the requests overlap for real.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx2 as httpx
import pytest
import uvicorn
from desk_seed import clock_of, consented_person, enrolled_patient, pneumonitis
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from web_accounts import PASSWORD, add_people, log_in, manual_clock

from trialdesk.store.audit import audit_trail, verify_audit_chain
from trialdesk.store.models import AdverseEvent, Enrolment, User
from trialdesk.store.session import unit_of_work
from trialdesk.trial.passwords import hash_password
from trialdesk.web.app import create_app

COORDINATORS = ("coord", "coord2", "coord3", "coord4")


@pytest.fixture
def desk(database_url: str) -> Iterator[TestClient]:
    """A desk on a manual clock with one account per role and three more coordinators."""
    with TestClient(create_app(database_url=database_url)) as client:
        add_people(client)
        manual_clock(client)
        with unit_of_work(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
            for name in COORDINATORS[1:]:
                session.add(
                    User(
                        username=name,
                        display_name=name.title(),
                        role="coordinator",
                        active=True,
                        password_hash=hash_password(PASSWORD),
                    )
                )
        log_in(client, "coord")
        yield client


@pytest.fixture
def served(desk: TestClient) -> Iterator[str]:
    """The same app on a real socket (uvicorn in a thread); its base URL."""
    server = uvicorn.Server(
        uvicorn.Config(desk.app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "uvicorn did not start"
        time.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def signed_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    answer = client.post("/api/session", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


def all_at_once(calls: list[Any]) -> list[httpx.Response]:
    """Run the calls in threads released together; their answers in order."""
    gate = threading.Barrier(len(calls))
    answers: list[httpx.Response | None] = [None] * len(calls)

    def run(index: int) -> None:
        gate.wait()
        answers[index] = calls[index]()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert all(answer is not None for answer in answers), "a request did not finish"
    return [answer for answer in answers if answer is not None]


def test_four_coordinators_enrolling_into_the_last_slot_of_a_cohort_enrol_exactly_one(
    desk: TestClient, served: str
) -> None:
    enrolled_patient(desk, "first")
    enrolled_patient(desk, "second")
    waiting = [consented_person(desk, f"waiting {n}") for n in range(len(COORDINATORS))]
    clients = [signed_in(served, name) for name in COORDINATORS]
    today = clock_of(desk).today().isoformat()
    body = {"enrolled_on": today, "baseline_weight_kg": 60}

    def enrol(client: httpx.Client, pid: int) -> Any:
        return lambda: client.post(f"/api/participants/{pid}/enrolment", json=body)

    answers = all_at_once([enrol(c, pid) for c, pid in zip(clients, waiting, strict=True)])

    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [201, 400, 400, 400], [a.text for a in answers]
    for refusal in (a for a in answers if a.status_code == 400):
        assert refusal.headers["content-type"].startswith("application/problem+json")
        assert refusal.json()["field"] == "dose_level", refusal.text
    with unit_of_work(desk.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        per_cohort = session.execute(
            select(Enrolment.cohort_number, func.count()).group_by(Enrolment.cohort_number)
        ).all()
    assert [tuple(row) for row in per_cohort] == [(1, 3)]
    for client in clients:
        client.close()


def test_a_correction_made_on_a_version_someone_else_changed_is_refused_with_what_changed(
    desk: TestClient, served: str
) -> None:
    pid = enrolled_patient(desk)
    event = pneumonitis(desk, pid, grade=2)
    assert event["version"] == 1
    first, second = signed_in(served, "coord"), signed_in(served, "coord2")
    saved = first.patch(
        f"/api/adverse-events/{event['id']}",
        json={"version": 1, "changes": {"grade": 3}, "reason": "source says grade 3"},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2
    engine = desk.app.state.runtime.engine  # type: ignore[attr-defined]
    with unit_of_work(engine) as session:
        audited = len(audit_trail(session))

    stale = second.patch(
        f"/api/adverse-events/{event['id']}",
        json={"version": 1, "changes": {"outcome": "recovered"}, "reason": "follow-up call"},
    )

    assert stale.status_code == 409, stale.text
    problem = stale.json()
    assert problem["field"] == "version"
    assert "you edited version 1, it is now version 2" in problem["detail"]
    assert "grade 2 -> 3 by coord" in problem["detail"]
    assert "'source says grade 3'" in problem["detail"]
    with unit_of_work(engine) as session:
        stored = session.get(AdverseEvent, event["id"])
        assert stored is not None
        assert (stored.grade, stored.outcome, stored.version) == (3, None, 2)
        assert len(audit_trail(session)) == audited  # nothing of the stale edit was written
    # With the version just read, the same correction goes through.
    again = second.patch(
        f"/api/adverse-events/{event['id']}",
        json={"version": 2, "changes": {"outcome": "recovered"}, "reason": "follow-up call"},
    )
    assert again.status_code == 200, again.text
    assert (again.json()["outcome"], again.json()["version"]) == ("recovered", 3)


def test_two_simultaneous_corrections_of_one_version_save_exactly_one(
    desk: TestClient, served: str
) -> None:
    pid = enrolled_patient(desk)
    event = pneumonitis(desk, pid, grade=2)
    clients = [signed_in(served, name) for name in COORDINATORS]

    def correct(client: httpx.Client, outcome: str) -> Any:
        body = {"version": 1, "changes": {"outcome": outcome}, "reason": "from the source"}
        return lambda: client.patch(f"/api/adverse-events/{event['id']}", json=body)

    outcomes = ("recovered", "recovering", "not_recovered", "unknown")
    answers = all_at_once(
        [correct(client, outcome) for client, outcome in zip(clients, outcomes, strict=True)]
    )

    assert sorted(a.status_code for a in answers) == [200, 409, 409, 409], [a.text for a in answers]
    winner = next(a for a in answers if a.status_code == 200).json()
    with unit_of_work(desk.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        stored = session.get(AdverseEvent, event["id"])
        assert stored is not None
        assert (stored.outcome, stored.version) == (winner["outcome"], 2)


def test_the_desk_form_refuses_a_stale_correction_and_shows_what_changed(
    desk: TestClient,
) -> None:
    pid = enrolled_patient(desk)
    event = pneumonitis(desk, pid, grade=2)
    form = {
        "term": "Pneumonitis",
        "grade": "3",
        "onset_date": event["onset_date"],
        "attribution_hdmsc": "possible",
        "attribution_standard": "unlikely",
        "reason": "source says grade 3",
        "version": "1",
    }
    path = f"/desk/participants/{pid}/adverse-events/{event['id']}/correct"
    token = desk.headers["X-CSRF-Token"]
    first = desk.post(path, data={**form, "csrf_token": token}, follow_redirects=False)
    assert first.status_code in (200, 303), first.text
    stale = desk.post(
        path,
        data={**form, "grade": "4", "reason": "typed in another tab", "csrf_token": token},
        follow_redirects=False,
    )
    assert stale.status_code == 409
    assert "was changed after you opened it" in stale.text
    assert "grade 2 -&gt; 3 by coord" in stale.text
    # The form shown again carries the current version, so a deliberate resubmission is saved.
    assert 'name="version" value="2"' in stale.text
    with unit_of_work(desk.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        stored = session.get(AdverseEvent, event["id"])
        assert stored is not None and stored.grade == 3


def test_simultaneous_new_contacts_and_adverse_events_are_all_saved_and_numbered_once(
    desk: TestClient, served: str
) -> None:
    """On PostgreSQL these writers run side by side (their claims: the next screening number,
    one participant's records); each contact still gets a number of its own, every event is
    stored once, and the audit chain stays whole."""
    patients = [enrolled_patient(desk, "first"), enrolled_patient(desk, "second")]
    clients = [signed_in(served, name) for name in COORDINATORS]
    today = clock_of(desk).today().isoformat()
    event = {
        "term": "Fatigue",
        "grade": 1,
        "onset_date": today,
        "attribution_hdmsc": "unlikely",
        "attribution_standard": "unrelated",
    }

    def contact(client: httpx.Client, n: int) -> Any:
        return lambda: client.post("/api/participants", json={"contact_note": f"walk-in {n}"})

    def adverse_event(client: httpx.Client, pid: int) -> Any:
        return lambda: client.post(f"/api/participants/{pid}/adverse-events", json=event)

    calls = [contact(client, n) for n, client in enumerate(clients * 2)]
    calls += [adverse_event(client, patients[n % 2]) for n, client in enumerate(clients * 2)]
    answers = all_at_once(calls)

    assert [a.status_code for a in answers] == [201] * 16, [a.text for a in answers]
    numbers = [a.json()["screening_number"] for a in answers[:8]]
    assert len(set(numbers)) == 8, numbers
    with Session(desk.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        per_patient = session.execute(
            select(AdverseEvent.participant_id, func.count()).group_by(AdverseEvent.participant_id)
        ).all()
        assert sorted(tuple(row) for row in per_patient) == [(pid, 4) for pid in patients]
        assert verify_audit_chain(session) == []
    for client in clients:
        client.close()
