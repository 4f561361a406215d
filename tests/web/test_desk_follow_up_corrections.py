"""Correcting and voiding follow-up records on the participant page: a measurement and a
concomitant medication course, each with a required reason that lands in the audit trail, the
form shown again as typed when refused, and no write forms or writes for a monitor."""

from __future__ import annotations

import html
from datetime import timedelta
from typing import TypeVar

from desk_seed import clock_of, enrolled_patient
from fastapi.testclient import TestClient
from web_accounts import as_user

from trialdesk.store.models import ConcomitantMedication, Measurement
from trialdesk.store.session import unit_of_work

T = TypeVar("T")


def rows(client: TestClient, model: type[T]) -> list[T]:
    with unit_of_work(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        found: list[T] = list(session.query(model).order_by(model.id))  # type: ignore[attr-defined]
        session.expunge_all()
        return found


def page_text(client: TestClient, patient: int, edit: str = "") -> str:
    """The participant page; ``edit`` names the record form to draw open, as its links do."""
    query = f"?edit={edit}" if edit else ""
    return html.unescape(client.get(f"/desk/participants/{patient}{query}").text)


def with_spo2(client: TestClient, patient: int, value: str) -> Measurement:
    saved = client.post(
        f"/desk/participants/{patient}/measurements",
        data={"code": "spo2", "value": value, "unit": "%", "measured_on": today(client)},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    return rows(client, Measurement)[-1]


def with_prednisone(client: TestClient, patient: int) -> ConcomitantMedication:
    saved = client.post(
        f"/desk/participants/{patient}/medications",
        data={"drug": "prednisone", "dose": "30", "dose_unit": "mg", "start_date": today(client)},
        follow_redirects=False,
    )
    assert saved.status_code == 303, saved.text
    return rows(client, ConcomitantMedication)[-1]


def today(client: TestClient) -> str:
    return clock_of(client).today().isoformat()


def test_a_measurement_is_corrected_only_with_a_reason(coord: TestClient) -> None:
    patient = enrolled_patient(coord)
    row = with_spo2(coord, patient, "92")
    page = page_text(coord, patient, edit=f"measurement-correct-{row.id}")
    assert f'action="/desk/participants/{patient}/measurements/{row.id}/correct"' in page
    assert 'name="value" type="text" value="92"' in page  # the form starts from the record
    url = f"/desk/participants/{patient}/measurements/{row.id}/correct"
    typed = {"value": "94", "unit": "%", "measured_on": today(coord), "visit_id": ""}
    refused = coord.post(url, data=typed)
    assert refused.status_code == 400
    assert "say why the record is changed" in refused.text
    assert 'name="value" type="text" value="94"' in refused.text  # kept as typed
    assert rows(coord, Measurement)[0].value == 92
    done = coord.post(url, data={**typed, "reason": "misread the oximeter"}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"].endswith(f"#measurement-{row.id}")
    assert rows(coord, Measurement)[0].value == 94
    page = page_text(coord, patient)
    assert "misread the oximeter" in page
    assert "<del>92.0</del> → <ins>94.0</ins>" in page


def test_a_refused_correction_keeps_every_value_and_names_the_field(coord: TestClient) -> None:
    patient = enrolled_patient(coord)
    row = with_spo2(coord, patient, "92")
    tomorrow = (clock_of(coord).today() + timedelta(days=1)).isoformat()
    refused = coord.post(
        f"/desk/participants/{patient}/measurements/{row.id}/correct",
        data={"value": "93", "unit": "%", "measured_on": tomorrow, "reason": "date fixed"},
    )
    assert refused.status_code == 400
    assert f'value="{tomorrow}"' in refused.text and 'value="date fixed"' in refused.text
    assert 'id="err-measurement-correct-' in refused.text  # beside its field
    assert rows(coord, Measurement)[0].measured_on.isoformat() == today(coord)


def test_a_measurement_is_voided_with_a_reason(coord: TestClient) -> None:
    patient = enrolled_patient(coord)
    row = with_spo2(coord, patient, "92")
    url = f"/desk/participants/{patient}/measurements/{row.id}/void"
    refused = coord.post(url, data={"reason": ""})
    assert refused.status_code == 400 and rows(coord, Measurement)[0].voided_at is None
    done = coord.post(url, data={"reason": "entered for the wrong patient"}, follow_redirects=False)
    assert done.status_code == 303
    voided = rows(coord, Measurement)[0]
    assert voided.voided_at is not None and voided.void_reason == "entered for the wrong patient"
    page = page_text(coord, patient)
    assert "entered for the wrong patient" in page
    assert f"edit=measurement-correct-{row.id}" not in page  # a voided record is not corrected
    asked = page_text(coord, patient, edit=f"measurement-correct-{row.id}")
    assert f"/measurements/{row.id}/correct" not in asked  # not even when asked for


def test_a_medication_course_is_corrected_and_voided_with_a_reason(coord: TestClient) -> None:
    patient = enrolled_patient(coord)
    row = with_prednisone(coord, patient)
    base = f"/desk/participants/{patient}/medications/{row.id}"
    typed = {
        "drug": "prednisone",
        "dose": "40",
        "dose_unit": "mg",
        "start_date": today(coord),
        "end_date": "",
        "route": "oral",
        "indication": "pneumonitis",
    }
    refused = coord.post(f"{base}/correct", data=typed)
    assert refused.status_code == 400 and "say why the record is changed" in refused.text
    assert 'value="40"' in refused.text and 'value="pneumonitis"' in refused.text
    assert rows(coord, ConcomitantMedication)[0].dose == 30
    done = coord.post(
        f"{base}/correct", data={**typed, "reason": "dose from the chart"}, follow_redirects=False
    )
    assert done.status_code == 303
    assert done.headers["location"].endswith(f"#medication-{row.id}")
    corrected = rows(coord, ConcomitantMedication)[0]
    assert (corrected.dose, corrected.route, corrected.indication) == (40, "oral", "pneumonitis")
    assert "dose from the chart" in page_text(coord, patient)
    no_reason = coord.post(f"{base}/void", data={"reason": "  "})
    assert no_reason.status_code == 400
    assert rows(coord, ConcomitantMedication)[0].voided_at is None
    coord.post(f"{base}/void", data={"reason": "duplicate entry"})
    assert rows(coord, ConcomitantMedication)[0].void_reason == "duplicate entry"
    assert f"edit=medication-correct-{row.id}" not in page_text(coord, patient)
    assert f"{base}/correct" not in page_text(coord, patient, edit=f"medication-correct-{row.id}")


def test_another_participants_record_is_refused(coord: TestClient) -> None:
    first = enrolled_patient(coord, "ward 1")
    second = enrolled_patient(coord, "ward 2")
    row = with_spo2(coord, first, "92")
    refused = coord.post(
        f"/desk/participants/{second}/measurements/{row.id}/void", data={"reason": "x"}
    )
    assert refused.status_code == 400
    assert f"measurement #{row.id} is not this participant's" in html.unescape(refused.text)
    assert rows(coord, Measurement)[0].voided_at is None


def test_a_monitor_sees_no_correction_forms_and_is_refused(coord: TestClient) -> None:
    patient = enrolled_patient(coord)
    measurement = with_spo2(coord, patient, "92")
    medication = with_prednisone(coord, patient)
    monitor = as_user(coord, "mon")
    page = page_text(monitor, patient)
    assert "?edit=" not in page
    for asked in (f"measurement-correct-{measurement.id}", f"medication-void-{medication.id}"):
        page = page_text(monitor, patient, edit=asked)
        assert "/correct" not in page and "/void" not in page
    base = f"/desk/participants/{patient}"
    for url, data in (
        (f"{base}/measurements/{measurement.id}/void", {"reason": "x"}),
        (
            f"{base}/measurements/{measurement.id}/correct",
            {"value": "99", "unit": "%", "measured_on": today(coord), "reason": "x"},
        ),
        (f"{base}/medications/{medication.id}/void", {"reason": "x"}),
    ):
        refused = monitor.post(url, data=data)
        assert refused.status_code == 403 and "monitor" in refused.text, url
    assert rows(coord, Measurement)[0].value == 92
    assert rows(coord, Measurement)[0].voided_at is None
    assert rows(coord, ConcomitantMedication)[0].voided_at is None
