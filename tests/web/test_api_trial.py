"""The trial API end to end, on SQLite and PostgreSQL: a cohort from screening to a signed
decision, the role matrix enforced on every write, and a data query's whole life."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from web_accounts import PASSWORD, START, as_user, log_in

from trialdesk.store.audit import audit_trail
from trialdesk.store.session import unit_of_work
from trialdesk.trial.clock import ManualClock

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples" / "screening-eligible.yaml"
EXAMPLE_DATE = date(2026, 3, 10)


def clock_of(client: TestClient) -> ManualClock:
    clock: ManualClock = client.app.state.clock  # type: ignore[attr-defined]
    return clock


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def screening_record(on: date) -> str:
    """docs/examples/screening-eligible.yaml with every date moved so it is screened on ``on``."""
    shift = on - EXAMPLE_DATE
    return re.sub(
        r"\d{4}-\d{2}-\d{2}",
        lambda m: (date.fromisoformat(m.group(0)) + shift).isoformat(),
        EXAMPLE.read_text(encoding="utf-8"),
    )


def enrolled(client: TestClient) -> dict[str, Any]:
    """Contact -> screening (eligible) -> consent -> enrolment, through the API only."""
    today = clock_of(client).today()
    person = ok(client.post("/api/participants", json={"contact_note": "clinic"}), 201)
    screening = ok(
        client.post(
            "/api/screenings",
            content=screening_record(today).encode(),
            headers={"Content-Type": "application/yaml"},
        ),
        201,
    )
    assert screening["verdict"] == "eligible"
    pid = person["id"]
    ok(
        client.post(f"/api/participants/{pid}/screenings", json={"screening_id": screening["id"]}),
        201,
    )
    ok(
        client.post(
            f"/api/participants/{pid}/consents",
            json={"consent_date": today.isoformat(), "form_version": "1.0", "obtained_by": "Dr Li"},
        ),
        201,
    )
    enrolment: dict[str, Any] = ok(
        client.post(
            f"/api/participants/{pid}/enrolment",
            json={"enrolled_on": today.isoformat(), "baseline_weight_kg": 60},
        ),
        201,
    )
    return enrolment


def test_a_cohort_from_screening_to_a_signed_decision(coord: TestClient) -> None:
    clock = clock_of(coord)
    enrolments = [enrolled(coord) for _ in range(3)]
    # NCT06021067.md: 3+3, level 1 first; study ids RLI-001 ...
    assert [e["dose_level"] for e in enrolments] == [1, 1, 1]
    assert [e["study_id"] for e in enrolments] == ["RLI-001", "RLI-002", "RLI-003"]
    fourth = ok(coord.post("/api/participants", json={"contact_note": "waiting"}), 201)
    refused = coord.post(
        f"/api/participants/{fourth['id']}/enrolment",
        json={"enrolled_on": clock.today().isoformat(), "baseline_weight_kg": 60},
    )
    assert refused.status_code == 400  # not eligible yet (and the cohort is full)
    first_day = clock.today()
    pids = [e["participant_id"] for e in enrolments]
    for pid in pids:
        plan = ok(
            coord.post(
                f"/api/participants/{pid}/infusions/schedule",
                json={"first_on": first_day.isoformat()},
            ),
            201,
        )
        assert [row["number"] for row in plan] == [1, 2, 3, 4]
    for number in range(1, 5):
        for pid in pids:
            planned = next(
                row["planned_cells"]
                for row in ok(coord.get(f"/api/participants/{pid}"))["infusions"]
                if row["number"] == number
            )
            given = ok(
                coord.post(
                    f"/api/participants/{pid}/infusions/{number}",
                    json={
                        "given_at": clock.now().isoformat(),
                        "cells_given": planned,
                        "product_lot": "LOT-1",
                    },
                )
            )
            assert given["status"] == "given"
        if number < 4:
            clock.advance(days=3)
            log_in(coord, "coord")  # days later: the session has ended, log in again
    # A grade 3 pneumonitis, possibly related, on day 5 is a candidate DLT (protocol dlt rule).
    event = ok(
        coord.post(
            f"/api/participants/{pids[1]}/adverse-events",
            json={
                "term": "Pneumonitis",
                "grade": 3,
                "onset_date": (first_day + timedelta(days=5)).isoformat(),
                "attribution_hdmsc": "possible",
                "attribution_standard": "unlikely",
            },
        ),
        201,
    )
    assert event["dlt"]["status"] == "candidate" and event["grade_text"]
    investigator = as_user(coord, "dr.li")
    assert (
        coord.post(
            f"/api/dlt-assessments/{event['dlt']['id']}/confirm", json={"reason": "coordinator"}
        ).status_code
        == 403
    )
    confirmed = ok(
        investigator.post(
            f"/api/dlt-assessments/{event['dlt']['id']}/confirm",
            json={"reason": "grade 3 pneumonitis in the window, possibly related"},
        )
    )
    assert confirmed["status"] == "confirmed"
    waiting = coord.post("/api/decisions/compute")
    assert waiting.status_code == 400  # windows still open: the design cannot decide yet
    clock.set(datetime.combine(first_day + timedelta(days=31), START.timetz()))
    log_in(coord, "coord")
    log_in(investigator, "dr.li")
    decision = ok(coord.post("/api/decisions/compute"), 201)
    # 3+3 with 1 DLT in 3: treat 3 more at the same level (NCT06021067.md, design).
    assert decision["decision"]["action"] == "stay"
    assert decision["decision"]["next_level"] == 1
    wrong = investigator.post(f"/api/decisions/{decision['id']}/sign", json={"password": "nope"})
    assert wrong.status_code == 400 and wrong.json()["field"] == "password"
    signed = ok(
        investigator.post(f"/api/decisions/{decision['id']}/sign", json={"password": PASSWORD})
    )
    assert signed["signed_by"] == "dr.li" and signed["signer_name"] == "DR.LI, MD"
    status = ok(coord.get("/api/status"))
    assert status["summary"]["current_level"] == 1
    page = ok(coord.get("/api/participants", params={"limit": 2}))
    assert page["total"] == 4 and len(page["items"]) == 2 and page["next"]
    rest = ok(coord.get(page["next"]))
    assert [p["id"] for p in page["items"] + rest["items"]] == sorted(
        [p["id"] for p in page["items"] + rest["items"]], reverse=True
    )
    assert rest["next_cursor"] is None and len(rest["items"]) == 2
    decisions = ok(coord.get("/api/decisions"))
    assert decisions["items"][0]["signed_by"] == "dr.li"


def test_the_role_matrix_is_enforced_on_the_api(coord: TestClient, database_url: str) -> None:
    enrolment = enrolled(coord)
    pid = enrolment["participant_id"]
    monitor = as_user(coord, "mon")
    board = as_user(coord, "board")
    admin = as_user(coord, "admin")
    event = {
        "term": "Fatigue",
        "grade": 1,
        "onset_date": clock_of(coord).today().isoformat(),
        "attribution_hdmsc": "unlikely",
        "attribution_standard": "unrelated",
    }
    for client, role in ((monitor, "monitor"), (board, "dsmb"), (admin, "administrator")):
        refused = client.post(f"/api/participants/{pid}/adverse-events", json=event)
        assert refused.status_code == 403, role
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert f"has the role '{role}'" in refused.json()["detail"]
        assert client.post("/api/participants", json={}).status_code == 403
        assert client.post("/api/decisions/compute").status_code == 403
    assert ok(coord.get("/api/adverse-events"))["total"] == 0  # nothing was stored
    # The monitor reads everything; the DSMB only the aggregate safety summary.
    assert ok(monitor.get(f"/api/participants/{pid}"))["study_id"] == "RLI-001"
    assert board.get(f"/api/participants/{pid}").status_code == 403
    assert board.get("/api/status").status_code == 403
    summary = ok(board.get("/api/safety-summary"))
    assert summary["enrolled"] == 1 and "participants" not in summary
    assert "RLI-001" not in str(summary)


def test_a_data_query_is_opened_answered_with_a_correction_and_closed(coord: TestClient) -> None:
    enrolment = enrolled(coord)
    pid = enrolment["participant_id"]
    onset = clock_of(coord).today().isoformat()
    event = ok(
        coord.post(
            f"/api/participants/{pid}/adverse-events",
            json={
                "term": "Fatigue",
                "grade": 1,
                "onset_date": onset,
                "attribution_hdmsc": "unlikely",
                "attribution_standard": "unrelated",
            },
        ),
        201,
    )
    monitor = as_user(coord, "mon")
    question = {
        "entity": "adverse_event",
        "entity_id": event["id"],
        "field": "grade",
        "question": "The source notes say grade 2; please check.",
    }
    assert coord.post("/api/queries", json=question).status_code == 403  # site may not open
    bad = monitor.post("/api/queries", json={**question, "field": "colour"})
    assert bad.status_code == 400 and "has no field 'colour'" in bad.json()["detail"]
    query = ok(monitor.post("/api/queries", json=question), 201)
    assert query["status"] == "open" and query["participant_id"] == pid
    assert (
        monitor.post(
            f"/api/queries/{query['id']}/answer", json={"answer": "x", "corrected_value": 2}
        ).status_code
        == 403
    )  # the monitor writes no clinical data
    answered = ok(
        coord.post(
            f"/api/queries/{query['id']}/answer",
            json={"answer": "Transcription error; grade 2 per source", "corrected_value": 2},
        )
    )
    assert (answered["status"], answered["corrected"], answered["answered_by"]) == (
        "answered",
        True,
        "coord",
    )
    corrected = ok(coord.get(f"/api/participants/{pid}"))["adverse_events"][0]
    assert corrected["grade"] == 2
    assert coord.post(f"/api/queries/{query['id']}/close", json={}).status_code == 403
    closed = ok(monitor.post(f"/api/queries/{query['id']}/close", json={"note": "verified"}))
    assert closed["status"] == "closed" and closed["closed_by"] == "mon"
    assert [step["reason"] for step in closed["audit"]] == [
        "query opened",
        "query answered",
        "verified",
    ]
    assert ok(coord.get("/api/queries", params={"status": "open"}))["total"] == 0
    again = coord.post(f"/api/queries/{query['id']}/answer", json={"answer": "late"})
    assert again.status_code == 400 and "closed" in again.json()["detail"]
    # The correction is in the AE's own audit trail, naming the query and who made it.
    with unit_of_work(coord.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        trail = audit_trail(session, "adverse_event", str(event["id"]))
    grade_change = next(entry for entry in trail if entry.field == "grade")
    assert grade_change.actor == "coord"
    assert grade_change.reason.startswith(f"data query #{query['id']}: Transcription error")


def test_a_query_answered_without_correction_and_one_closed_unanswered(coord: TestClient) -> None:
    pid = enrolled(coord)["participant_id"]
    monitor = as_user(coord, "mon")
    consent_id = ok(coord.get(f"/api/participants/{pid}"))["consents"][0]["id"]
    first = ok(
        monitor.post(
            "/api/queries",
            json={
                "entity": "consent",
                "entity_id": consent_id,
                "field": "form_version",
                "question": "Which form version was signed?",
            },
        ),
        201,
    )
    answered = ok(coord.post(f"/api/queries/{first['id']}/answer", json={"answer": "1.0, seen"}))
    assert answered["corrected"] is False
    second = ok(
        monitor.post(
            "/api/queries",
            json={"entity": "participant", "entity_id": pid, "field": "sex", "question": "?"},
        ),
        201,
    )
    no_note = monitor.post(f"/api/queries/{second['id']}/close", json={})
    assert no_note.status_code == 400 and no_note.json()["field"] == "note"
    ok(monitor.post(f"/api/queries/{second['id']}/close", json={"note": "raised in error"}))


def test_openapi_lists_the_trial_api_with_its_problems(coord: TestClient) -> None:
    paths = coord.get("/openapi.json").json()["paths"]
    for path in (
        "/api/session",
        "/api/participants",
        "/api/participants/{participant_id}/enrolment",
        "/api/participants/{participant_id}/infusions/{number}",
        "/api/adverse-events/{adverse_event_id}",
        "/api/dlt-assessments/{assessment_id}/confirm",
        "/api/decisions/{decision_id}/sign",
        "/api/queries/{query_id}/answer",
        "/api/safety-summary",
    ):
        assert path in paths, path
    assert {"401", "403"} <= set(paths["/api/participants"]["post"]["responses"])
