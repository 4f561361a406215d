"""Corrections (PATCH) and voids of the trial API, on SQLite and PostgreSQL: a change needs a
reason and leaves an audit entry old -> new; a void keeps the row but takes it out of the
active lists; the monitor may not write; an unknown record is named; an AE corrected below
the DLT rule takes its DLT assessment with it."""

from __future__ import annotations

from typing import Any

import pytest
from desk_seed import clock_of, enrolled_patient, pneumonitis
from fastapi.testclient import TestClient
from web_accounts import as_user

from trialdesk.store.audit import audit_trail, from_json_text
from trialdesk.store.models import AuditEntry
from trialdesk.store.session import unit_of_work
from trialdesk.trial.follow_up import measurements_of

REASON = "transcription error corrected from the source document"


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def refused(response: Any, status: int = 400) -> dict[str, Any]:
    """The problem+json body of a refusal with ``status``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    return problem


def trail(client: TestClient, entity: str, record_id: int) -> list[AuditEntry]:
    with unit_of_work(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        return audit_trail(session, entity, str(record_id))


def audit_size(client: TestClient) -> int:
    """How many entries the whole audit log holds."""
    with unit_of_work(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        return len(audit_trail(session))


def participant(client: TestClient, pid: int) -> dict[str, Any]:
    found: dict[str, Any] = ok(client.get(f"/api/participants/{pid}"))
    return found


def first_infusion(client: TestClient, pid: int) -> dict[str, Any]:
    return next(row for row in participant(client, pid)["infusions"] if row["number"] == 1)


def spo2(client: TestClient, pid: int, value: float = 92) -> dict[str, Any]:
    measured: dict[str, Any] = ok(
        client.post(
            f"/api/participants/{pid}/measurements",
            json={
                "code": "spo2",
                "value": value,
                "measured_on": clock_of(client).today().isoformat(),
            },
        ),
        201,
    )
    return measured


def test_an_infusion_correction_changes_the_value_and_audits_old_to_new(
    coord: TestClient,
) -> None:
    pid = enrolled_patient(coord)
    given = first_infusion(coord, pid)
    assert given["product_lot"] == "LOT-1"
    corrected = ok(
        coord.patch(
            f"/api/infusions/{given['id']}",
            json={
                "version": given["version"],
                "changes": {"product_lot": "LOT-2"},
                "reason": REASON,
            },
        )
    )
    assert corrected["product_lot"] == "LOT-2"
    assert first_infusion(coord, pid)["product_lot"] == "LOT-2"
    change = next(
        entry for entry in trail(coord, "infusion", given["id"]) if entry.reason == REASON
    )
    assert (change.field, change.actor, change.reason) == ("product_lot", "coord", REASON)
    assert (from_json_text(change.old_value), from_json_text(change.new_value)) == (
        "LOT-1",
        "LOT-2",
    )


def test_a_measurement_correction_changes_the_value_and_audits_old_to_new(
    coord: TestClient,
) -> None:
    pid = enrolled_patient(coord)
    measured = spo2(coord, pid, 92)
    corrected = ok(
        coord.patch(
            f"/api/measurements/{measured['id']}",
            json={"version": measured["version"], "changes": {"value": 95}, "reason": REASON},
        )
    )
    assert corrected["value"] == 95
    assert [m["value"] for m in participant(coord, pid)["measurements"]] == [95]
    changes = [
        e
        for e in trail(coord, "measurement", measured["id"])
        if e.reason == REASON and e.field != "version"
    ]
    assert [
        (e.field, from_json_text(e.old_value), from_json_text(e.new_value)) for e in changes
    ] == [("value", 92, 95)]
    assert changes[0].reason == REASON


@pytest.mark.parametrize(
    ("body_reason", "why"),
    [(None, "left out"), ("   ", "blank")],
)
def test_a_correction_without_a_reason_is_refused_and_changes_nothing(
    coord: TestClient, body_reason: str | None, why: str
) -> None:
    pid = enrolled_patient(coord)
    infusion = first_infusion(coord, pid)
    measured = spo2(coord, pid, 92)
    event = pneumonitis(coord, pid, grade=2)
    attempts = (
        (f"/api/infusions/{infusion['id']}", infusion["version"], {"product_lot": "LOT-2"}),
        (f"/api/measurements/{measured['id']}", measured["version"], {"value": 95}),
        (f"/api/adverse-events/{event['id']}", event["version"], {"grade": 1}),
    )
    audited = audit_size(coord)
    for path, version, changes in attempts:
        body: dict[str, Any] = {"version": version, "changes": changes}
        if body_reason is not None:
            body["reason"] = body_reason
        problem = refused(coord.patch(path, json=body))
        # A left-out reason is named "body.reason" (request validation), a blank one "reason".
        assert problem["field"].split(".")[-1] == "reason", (path, why)
        if body_reason is not None:
            assert "say why the record is changed" in problem["detail"]
    stored = participant(coord, pid)
    assert stored["infusions"][0]["product_lot"] == "LOT-1"
    assert [m["value"] for m in stored["measurements"]] == [92]
    assert [e["grade"] for e in stored["adverse_events"]] == [2]
    assert audit_size(coord) == audited  # nothing was written to the audit log either


def test_a_voided_infusion_stays_stored_and_its_number_can_be_given_again(
    coord: TestClient,
) -> None:
    pid = enrolled_patient(coord)
    given = first_infusion(coord, pid)
    again = {
        "given_at": clock_of(coord).now().isoformat(),
        "cells_given": given["planned_cells"],
        "product_lot": "LOT-3",
    }
    blocked = refused(coord.post(f"/api/participants/{pid}/infusions/1", json=again))
    assert "already recorded as given" in blocked["detail"]
    no_reason = refused(
        coord.post(
            f"/api/infusions/{given['id']}/void", json={"version": given["version"], "reason": ""}
        )
    )
    assert no_reason["field"] == "reason"
    assert first_infusion(coord, pid)["voided_at"] is None
    voided = ok(
        coord.post(
            f"/api/infusions/{given['id']}/void",
            json={"version": given["version"], "reason": "entered for the wrong patient"},
        )
    )
    assert voided["voided_at"] and voided["void_reason"] == "entered for the wrong patient"
    kept = [row for row in participant(coord, pid)["infusions"] if row["id"] == given["id"]]
    assert kept and kept[0]["voided_at"]  # still stored, marked
    # No longer the active infusion 1: the number can be recorded as given anew.
    anew = ok(coord.post(f"/api/participants/{pid}/infusions/1", json=again))
    assert anew["id"] != given["id"] and anew["product_lot"] == "LOT-3"
    twice = refused(
        coord.post(
            f"/api/infusions/{given['id']}/void",
            json={"version": voided["version"], "reason": "again"},
        )
    )
    assert "already voided" in twice["detail"]
    late = refused(
        coord.patch(
            f"/api/infusions/{given['id']}",
            json={
                "version": voided["version"],
                "changes": {"product_lot": "LOT-9"},
                "reason": REASON,
            },
        )
    )
    assert "cannot be corrected" in late["detail"]


def test_a_voided_measurement_stays_stored_and_leaves_the_active_values(
    coord: TestClient,
) -> None:
    pid = enrolled_patient(coord)
    kept = spo2(coord, pid, 96)
    mistake = spo2(coord, pid, 70)
    voided = ok(
        coord.post(
            f"/api/measurements/{mistake['id']}/void",
            json={"version": 1, "reason": "entered twice"},
        )
    )
    assert voided["voided_at"] and voided["void_reason"] == "entered twice"
    stored = {m["id"]: m for m in participant(coord, pid)["measurements"]}
    assert stored[mistake["id"]]["voided_at"] and stored[kept["id"]]["voided_at"] is None
    with unit_of_work(coord.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        assert [m.id for m in measurements_of(session, pid)] == [kept["id"]]
    void_entry, version_step = trail(coord, "measurement", mistake["id"])[-2:]
    assert (void_entry.field, void_entry.reason) == ("voided_at", "entered twice")
    assert (version_step.field, version_step.old_value, version_step.new_value) == (
        "version",
        "1",
        "2",
    )


def test_a_voided_adverse_event_leaves_the_safety_counts_and_its_dlt_is_rejected(
    coord: TestClient,
) -> None:
    pid = enrolled_patient(coord)
    event = pneumonitis(coord, pid, grade=3)
    assert event["dlt"]["status"] == "candidate"
    board = as_user(coord, "board")
    before = ok(board.get("/api/safety-summary"))["levels"][0]["adverse_events_by_grade"]
    assert before["3"] == 1
    assert [a["adverse_event_id"] for a in ok(coord.get("/api/status"))["adjudications"]] == [
        event["id"]
    ]
    voided = ok(
        coord.post(
            f"/api/adverse-events/{event['id']}/void",
            json={"version": 1, "reason": "wrong patient"},
        )
    )
    assert voided["voided_at"] and voided["void_reason"] == "wrong patient"
    stored = participant(coord, pid)["adverse_events"]
    assert [e["id"] for e in stored] == [event["id"]] and stored[0]["voided_at"]
    assert stored[0]["dlt"]["status"] == "rejected"
    assert "adverse event voided (wrong patient)" in stored[0]["dlt"]["reason"]
    assert ok(coord.get("/api/status"))["adjudications"] == []
    after = ok(board.get("/api/safety-summary"))["levels"][0]["adverse_events_by_grade"]
    assert after["3"] == 0


def test_an_adverse_event_corrected_below_the_dlt_rule_is_no_longer_a_candidate(
    coord: TestClient,
) -> None:
    pid = enrolled_patient(coord)
    event = pneumonitis(coord, pid, grade=3)
    assert event["dlt"]["status"] == "candidate"
    lowered = ok(
        coord.patch(
            f"/api/adverse-events/{event['id']}",
            json={"version": event["version"], "changes": {"grade": 2}, "reason": REASON},
        )
    )
    assert lowered["grade"] == 2
    assert lowered["dlt"]["status"] == "rejected"
    assert "no longer meets the DLT definition" in lowered["dlt"]["reason"]
    assert ok(coord.get("/api/status"))["adjudications"] == []
    grade_change = next(e for e in trail(coord, "adverse_event", event["id"]) if e.reason == REASON)
    assert (grade_change.field, grade_change.reason) == ("grade", REASON)
    assert (from_json_text(grade_change.old_value), from_json_text(grade_change.new_value)) == (
        3,
        2,
    )
    # Back to grade 3 (nobody adjudicated it meanwhile): a candidate again for the investigator.
    raised = ok(
        coord.patch(
            f"/api/adverse-events/{event['id']}",
            json={
                "version": lowered["version"],
                "changes": {"grade": 3},
                "reason": "source says grade 3 after all",
            },
        )
    )
    assert raised["dlt"]["status"] == "candidate"
    assert raised["dlt"]["id"] == event["dlt"]["id"]


def test_a_dlt_rejection_needs_an_investigator_and_a_reason(coord: TestClient) -> None:
    pid = enrolled_patient(coord)
    event = pneumonitis(coord, pid, grade=3)
    path = f"/api/dlt-assessments/{event['dlt']['id']}/reject"
    refused(coord.post(path, json={"reason": "not related"}), 403)
    investigator = as_user(coord, "dr.li")
    assert refused(investigator.post(path, json={"reason": " "}))["field"] == "reason"
    assert participant(coord, pid)["adverse_events"][0]["dlt"]["status"] == "candidate"
    rejected = ok(investigator.post(path, json={"reason": "radiation pneumonitis, not hDMSC"}))
    assert (rejected["status"], rejected["adjudicated_by"]) == ("rejected", "dr.li")
    assert ok(coord.get("/api/status"))["adjudications"] == []


def test_the_monitor_may_not_correct_or_void_and_nothing_changes(coord: TestClient) -> None:
    pid = enrolled_patient(coord)
    infusion = first_infusion(coord, pid)
    measured = spo2(coord, pid, 92)
    event = pneumonitis(coord, pid, grade=2)
    monitor = as_user(coord, "mon")
    audited = audit_size(coord)
    writes = (
        ("patch", f"/api/infusions/{infusion['id']}", {"product_lot": "LOT-2"}),
        ("patch", f"/api/measurements/{measured['id']}", {"value": 95}),
        ("patch", f"/api/adverse-events/{event['id']}", {"grade": 1}),
    )
    for _, path, changes in writes:
        problem = refused(
            monitor.patch(path, json={"version": 1, "changes": changes, "reason": REASON}), 403
        )
        assert "has the role 'monitor'" in problem["detail"]
    for path in (
        f"/api/infusions/{infusion['id']}/void",
        f"/api/measurements/{measured['id']}/void",
        f"/api/adverse-events/{event['id']}/void",
    ):
        refused(monitor.post(path, json={"version": 1, "reason": "monitor tried"}), 403)
    stored = participant(coord, pid)
    assert (stored["infusions"][0]["product_lot"], stored["infusions"][0]["voided_at"]) == (
        "LOT-1",
        None,
    )
    assert [(m["value"], m["voided_at"]) for m in stored["measurements"]] == [(92, None)]
    assert [(e["grade"], e["voided_at"]) for e in stored["adverse_events"]] == [(2, None)]
    assert audit_size(coord) == audited  # nothing was written to the audit log either


@pytest.mark.parametrize(
    ("path", "what"),
    [
        ("/api/infusions/9999", "infusion"),
        ("/api/measurements/9999", "measurement"),
        ("/api/adverse-events/9999", "adverse event"),
    ],
)
def test_an_unknown_record_is_named_on_correction_and_void(
    coord: TestClient, path: str, what: str
) -> None:
    corrected = refused(
        coord.patch(path, json={"version": 1, "changes": {"value": 1}, "reason": REASON})
    )
    voided = refused(coord.post(f"{path}/void", json={"version": 1, "reason": REASON}))
    for problem in (corrected, voided):
        assert problem["detail"].endswith(f"there is no {what} #9999; check the number")
        assert problem["field"] == "id"
