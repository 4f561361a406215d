"""POST/GET /api/screenings and `trialdesk screen --replay`, on SQLite and PostgreSQL.

A coordinator screens a patient through the API; the screening is kept exactly as it was done
and replaying it later gives the identical result, even after the protocol file has changed.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_accounts import add_people, log_in

from trialdesk import __version__
from trialdesk.cli import run
from trialdesk.protocol import builtin_protocol
from trialdesk.protocol.loader import builtin_protocol_text
from trialdesk.store.audit import audit_trail, from_json_text
from trialdesk.store.engine import make_engine
from trialdesk.store.migrate import upgrade_to_head
from trialdesk.store.protocols import record_protocol_version
from trialdesk.store.screenings import list_screenings, record_screening
from trialdesk.store.session import unit_of_work
from trialdesk.trial.screening import Replay, evaluate_input, replay_screening, result_json_text
from trialdesk.web.app import create_app

JSON = {"Content-Type": "application/json"}
JUDGED = {"answered_by": "Dr Li", "answered_on": "2026-03-10"}


def eligible_record() -> dict[str, Any]:
    """A 63-year-old woman who meets every NCT06021067 criterion (modelled on
    docs/examples/screening-eligible.yaml: labs within 7 days, every judgement answered)."""
    lab = {"taken_on": "2026-03-06"}
    no = {"answer": "no", **JUDGED}
    return {
        "patient_id": "RLI-0007",
        "screening_date": "2026-03-10",
        "birth_date": "1962-05-14",
        "sex": "female",
        "labs": [
            {"analyte": "anc", "value": 3.2, "unit": "10^9/L", **lab},
            {"analyte": "platelets", "value": 210, "unit": "10^9/L", **lab},
            {"analyte": "haemoglobin", "value": 118, "unit": "g/L", **lab},
            {"analyte": "bilirubin_total", "value": 0.7, "unit": "mg/dL", "uln": 1.2, **lab},
            {"analyte": "alt", "value": 32, "unit": "U/L", "uln": 40, **lab},
            {"analyte": "ast", "value": 28, "unit": "U/L", "uln": 35, **lab},
            {"analyte": "creatinine", "value": 0.8, "unit": "mg/dL", "uln": 1.1, **lab},
            {"analyte": "inr", "value": 1.0, "unit": "1", "uln": 1.2, **lab},
            {"analyte": "pt", "value": 12.1, "unit": "s", "uln": 13.5, **lab},
        ],
        "weight": {"value": 60, "unit": "kg", "measured_on": "2026-03-09"},
        "height": {"value": 160, "unit": "cm", "measured_on": "2026-03-09"},
        "ecog": 1,
        "lvef_percent": 60,
        "ecg": "normal",
        "pneumonitis_grade": 2,
        "consent_signed_on": "2026-03-09",
        "pregnant": False,
        "lactating": False,
        "childbearing_potential": False,
        "history": [
            {
                "system": "icd10",
                "code": "J70.0",
                "display": "Acute radiation pneumonitis",
                "onset": "2026-02-01",
            },
            {
                "system": "local",
                "code": "chest-radiotherapy",
                "display": "Thoracic RT 60 Gy",
                "onset": "2025-10-01",
                "abatement": "2025-11-12",
            },
        ],
        "medications": [],
        "judgements": {
            "I6": {"answer": "yes", **JUDGED},
            **{
                item: no
                for item in (
                    "E2.investigator",
                    "E3.investigator",
                    "E4",
                    "E5",
                    "E6",
                    "E7.investigator",
                    "E9.investigator",
                    "E10.investigator",
                    "E11.investigator",
                    "E12.investigator",
                    "E13",
                    "E14",
                    "E15",
                )
            },
        },
    }


def as_sent(record: dict[str, Any]) -> str:
    """The body as a client might send it: indented, Chinese kept, not how we would write it."""
    return json.dumps({**record, "patient_id": "筛选-07"}, indent=3, ensure_ascii=False) + "\n"


def fhir_bundle() -> dict[str, Any]:
    """A Bundle with only the Patient and an ANC in /µL: screenable, but data are missing."""
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "id": "p1",
                    "birthDate": "1962-05-14",
                    "gender": "female",
                }
            },
            {
                "resource": {
                    "resourceType": "Observation",
                    "status": "final",
                    "subject": {"reference": "Patient/p1"},
                    "code": {"coding": [{"system": "http://loinc.org", "code": "751-8"}]},
                    "effectiveDateTime": "2026-03-06",
                    "valueQuantity": {
                        "value": 3200,
                        "unit": "/uL",
                        "system": "http://unitsofmeasure.org",
                        "code": "/uL",
                    },
                }
            },
        ],
    }


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(database_url=database_url)) as test_client:
        add_people(test_client)
        log_in(test_client, "coord")
        yield test_client


def post(client: TestClient, body: str, **params: str) -> Any:
    return client.post("/api/screenings", content=body.encode(), headers=JSON, params=params)


def stored_count(database_url: str) -> tuple[int, int]:
    """(screenings, audit entries about screenings) in the database."""
    engine = make_engine(database_url)
    try:
        with unit_of_work(engine) as session:
            return (
                list_screenings(session).total,
                len(audit_trail(session, entity="screening")),
            )
    finally:
        engine.dispose()


def test_post_screens_stores_and_points_to_the_screening(client: TestClient) -> None:
    body = as_sent(eligible_record())
    response = client.post(
        "/api/screenings",
        content=body.encode(),
        headers=JSON,
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert response.headers["location"] == f"/api/screenings/{created['id']}"
    assert created["verdict"] == "eligible"
    protocol = builtin_protocol().protocol
    criterion_ids = [item["id"] for item in created["criteria"]]
    for criterion in protocol.criteria:  # every criterion of the protocol is answered
        assert criterion.id in criterion_ids
    assert {"id", "status", "reason", "evidence"} <= set(created["criteria"][0])
    assert created["screening_date"] == "2026-03-10"  # the record's own screening date
    assert created["protocol_sha256"] == builtin_protocol().sha256
    assert created["software_version"] == __version__
    assert created["screened_by"] == "coord"  # the logged-in user

    again = client.get(response.headers["location"])
    assert again.status_code == 200
    stored = again.json()
    assert stored["input"] == {"format": "record", "text": body}  # exactly as received
    assert stored["criteria"] == created["criteria"]
    assert stored["verdict"] == "eligible"


def test_recording_is_audited_with_who_did_it(client: TestClient, database_url: str) -> None:
    created = client.post(
        "/api/screenings",
        content=as_sent(eligible_record()).encode(),
        headers=JSON,
    ).json()
    engine = make_engine(database_url)
    try:
        with unit_of_work(engine) as session:
            (entry,) = audit_trail(session, entity="screening")
    finally:
        engine.dispose()
    assert (entry.entity_id, entry.actor) == (str(created["id"]), "coord")
    assert from_json_text(entry.new_value)["verdict"] == "eligible"


def test_only_a_logged_in_coordinator_or_investigator_screens(
    client: TestClient, database_url: str
) -> None:
    with TestClient(client.app) as anonymous:
        refused = post(anonymous, as_sent(eligible_record()))
        assert refused.status_code == 401 and refused.json()["field"] == "session"
        log_in(anonymous, "mon")
        forbidden = post(anonymous, as_sent(eligible_record()))
        assert forbidden.status_code == 403
        assert (
            "only the roles 'investigator' or 'coordinator' may screen"
            in (forbidden.json()["detail"])
        )
        assert anonymous.get("/api/screenings").status_code == 200  # a monitor reads
    assert stored_count(database_url) == (0, 0)


def test_the_date_parameter_sets_the_screening_date(client: TestClient) -> None:
    # Labs of 6 March are 8 days old on 14 March: more than the 7 days the protocol allows.
    on_time = post(client, as_sent(eligible_record()), date="2026-03-13").json()
    too_late = post(client, as_sent(eligible_record()), date="2026-03-14").json()
    assert (on_time["screening_date"], on_time["verdict"]) == ("2026-03-13", "eligible")
    assert too_late["screening_date"] == "2026-03-14"
    assert too_late["verdict"] != "eligible"


def test_a_fhir_bundle_is_screened_and_kept_as_fhir(client: TestClient) -> None:
    bundle = json.dumps(fhir_bundle())
    response = client.post(
        "/api/screenings",
        content=bundle.encode(),
        headers={"Content-Type": "application/fhir+json"},
        params={"date": "2026-03-10"},
    )
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["input_format"] == "fhir"
    assert created["verdict"] == "incomplete"  # no other labs, no judgements
    anc = next(item for item in created["criteria"] if item["id"].startswith("I4a.anc"))
    assert anc["status"] == "met"  # 3200 /µL = 3.2 × 10^9/L >= 1.5
    assert client.get(response.headers["location"]).json()["input"]["text"] == bundle


@pytest.mark.parametrize(
    ("body", "params", "field"),
    [
        ("{not json", {}, "body"),
        ("", {}, "body"),
        ("[1, 2]", {}, "body"),
        ('{"resourceType": "Patient", "id": "p1"}', {}, "body"),
        ("HAEMOGLOBIN_800", {}, "labs[2].value"),
        ("VALID", {"date": "2026-02-30"}, "date"),
        ("VALID", {"date": (date.today() + timedelta(days=1)).isoformat()}, "date"),
    ],
)
def test_bad_input_is_a_problem_naming_the_field_and_nothing_is_stored(
    client: TestClient, database_url: str, body: str, params: dict[str, str], field: str
) -> None:
    if body == "VALID":
        body = as_sent(eligible_record())
    elif body == "HAEMOGLOBIN_800":
        record = eligible_record()
        record["labs"][2]["value"] = 800  # g/L: not a possible haemoglobin
        body = json.dumps(record)
    response = post(client, body, **params)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["field"] == field, problem
    assert problem["detail"]
    assert stored_count(database_url) == (0, 0)


def test_a_body_of_another_media_type_is_refused_as_such(client: TestClient) -> None:
    response = client.post(
        "/api/screenings", content=b"patient_id=X", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 415
    assert response.json()["field"] == "content-type"


def test_unknown_or_malformed_ids_are_problems(client: TestClient) -> None:
    missing = client.get("/api/screenings/999")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert "there is no screening #999" in missing.json()["detail"]
    malformed = client.get("/api/screenings/abc")
    assert malformed.status_code == 400
    assert malformed.json()["field"] == "screening_id"


def test_the_list_pages_newest_first(client: TestClient) -> None:
    ids = [post(client, as_sent(eligible_record())).json()["id"] for _ in range(3)]
    first = client.get("/api/screenings", params={"limit": 2}).json()
    assert [item["id"] for item in first["items"]] == ids[::-1][:2]
    assert first["total"] == 3
    assert first["items"][0]["verdict"] == "eligible"
    second = client.get(first["next"]).json()
    assert [item["id"] for item in second["items"]] == ids[:1]
    assert second["next"] is None and second["next_cursor"] is None
    refused = client.get("/api/screenings", params={"limit": 0})
    assert refused.status_code == 400 and refused.json()["field"] == "limit"


def test_openapi_documents_the_screening_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    post_doc = paths["/api/screenings"]["post"]
    assert set(post_doc["requestBody"]["content"]) == {
        "application/json",
        "application/fhir+json",
        "application/yaml",
    }
    assert {p["name"] for p in post_doc["parameters"]} == {"date"}
    assert {"401", "403"} <= set(post_doc["responses"])
    listing = {p["name"] for p in paths["/api/screenings"]["get"]["parameters"]}
    assert listing == {"limit", "cursor"}
    assert "/api/screenings/{screening_id}" in paths


# -- replay (the CLI door is tested in test_screen_replay_cli.py) ------------------------


def replayed(database_url: str, screening_id: int) -> Replay:
    engine = make_engine(database_url)
    try:
        with unit_of_work(engine) as session:
            return replay_screening(session, screening_id)
    finally:
        engine.dispose()


@pytest.mark.parametrize("kind", ["record", "fhir"])
def test_a_posted_screening_replays_to_the_identical_result(
    client: TestClient, database_url: str, kind: str
) -> None:
    if kind == "record":
        created = post(client, as_sent(eligible_record()), date="2026-03-12").json()
    else:
        created = post(client, json.dumps(fhir_bundle()), date="2026-03-10").json()
    replay = replayed(database_url, created["id"])
    assert replay.identical
    assert replay.replayed.screening_date.isoformat() == created["screening_date"]
    assert replay.replayed.result == {
        "verdict": created["verdict"],
        "criteria": created["criteria"],
    }
    assert replay.changed_criteria() == []


def test_replay_uses_the_stored_protocol_text_not_the_current_file(
    database_url: str, tmp_path: Path
) -> None:
    protocol_file = tmp_path / "protocol.yaml"
    protocol_file.write_text(builtin_protocol_text(), encoding="utf-8")
    with TestClient(create_app(protocol_path=protocol_file, database_url=database_url)) as api:
        add_people(api)
        log_in(api, "coord")
        created = post(api, as_sent(eligible_record())).json()
    assert created["verdict"] == "eligible"
    # The file is then edited: an upper age limit of 60 would exclude this 63-year-old.
    original = protocol_file.read_text(encoding="utf-8")
    edited = original.replace(
        'op: "<=", value: 75, unit: years', 'op: "<=", value: 60, unit: years'
    )
    assert edited != original
    protocol_file.write_text(edited, encoding="utf-8")
    with TestClient(create_app(protocol_path=protocol_file, database_url=database_url)) as api:
        log_in(api, "coord")
        assert post(api, as_sent(eligible_record())).json()["verdict"] == "ineligible"
    replay = replayed(database_url, created["id"])
    assert replay.identical
    assert replay.replayed.result["verdict"] == "eligible"


# -- trialdesk screen --replay ---------------------------------------------------------------


def test_cli_replay_reproduces_a_posted_screening_exactly(
    client: TestClient, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    created = post(client, as_sent(eligible_record()), date="2026-03-12").json()
    replay_id = str(created["id"])
    code = run(["screen", "--replay", replay_id, "--database-url", database_url, "--json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert json.loads(out) == {"verdict": created["verdict"], "criteria": created["criteria"]}
    assert "reproduced exactly" in err

    code = run(["screen", "--replay", replay_id, "--database-url", database_url])
    out, _ = capsys.readouterr()
    assert code == 0
    assert f"screening #{replay_id}: screening date 2026-03-12" in out
    assert "reproduced exactly" in out

    assert (
        run(["screen", "--replay", replay_id, "--database-url", database_url, "--lang", "zh"]) == 0
    )
    assert "完全重现" in capsys.readouterr().out


def _stored_by_other_software(database_url: str, software_version: str) -> int:
    """A screening as another trialdesk stored it: same input, date and protocol, but that code
    called the patient ineligible (the first criterion not met)."""
    loaded = builtin_protocol()
    result = evaluate_input(
        loaded, as_sent(eligible_record()), on=None, today=date(2026, 3, 10)
    ).result
    assert result["verdict"] == "eligible"
    result["verdict"] = "ineligible"
    result["criteria"][0]["status"] = "not_met"
    engine = make_engine(database_url)
    try:
        upgrade_to_head(engine)
        with unit_of_work(engine) as session:
            version = record_protocol_version(
                session,
                protocol_id=loaded.protocol.id,
                version=loaded.protocol.version,
                yaml_text=loaded.text,
                sha256=loaded.sha256,
            )
            row = record_screening(
                session,
                protocol_version_id=version.id,
                software_version=software_version,
                input_format="record",
                input_text=as_sent(eligible_record()),
                screening_date=date(2026, 3, 10),
                result_json=result_json_text(result),
                screened_by="coordinator.li",
            )
            return int(row.id)
    finally:
        engine.dispose()


def test_replay_says_clearly_when_newer_software_gives_another_result(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    screening_id = _stored_by_other_software(database_url, "0.0.1")
    code = run(["screen", "--replay", str(screening_id), "--database-url", database_url])
    _, err = capsys.readouterr()
    assert code == 1
    assert "NOT reproduced" in err
    assert "verdict" in err and "I1" in err
    assert f"stored with trialdesk 0.0.1, replayed with {__version__}" in err


def test_a_difference_under_the_same_software_version_is_flagged_as_a_defect(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    screening_id = _stored_by_other_software(database_url, __version__)
    code = run(["screen", "--replay", str(screening_id), "--database-url", database_url])
    _, err = capsys.readouterr()
    assert code == 1
    assert f"with the same trialdesk {__version__}; this should never happen" in err


def test_replay_of_an_unknown_id_exits_2(
    database_url: str, client: TestClient, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(["screen", "--replay", "77", "--database-url", database_url]) == 2
    assert "there is no screening #77" in capsys.readouterr().err


def test_replay_refuses_a_file_or_date_that_it_would_ignore(
    database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["screen", "--replay", "1", "--database-url", database_url]
    assert run([*args, "--date", "2026-03-10"]) == 2
    assert "leave out --date" in capsys.readouterr().err
    assert run([*args, "patient.json"]) == 2
    assert "leave out FILE" in capsys.readouterr().err


def test_replay_of_a_database_without_schema_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    assert run(["screen", "--replay", "1", "--database-url", empty]) == 2
    assert "has no trialdesk schema" in capsys.readouterr().err
