"""The desk pages (dashboard, screening, participant, decisions) with a logged-in browser-like
client: what each role sees, every form's happy path, and refusals that keep what was typed."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import TypeVar

from desk_seed import clock_of, enrolled_patient, example_text, treated_cohort
from fastapi.testclient import TestClient
from web_accounts import PASSWORD, as_user, log_in

from trialdesk.eligibility import screen
from trialdesk.eligibility.loading import parse_record_text
from trialdesk.eligibility.record import ScreeningRecord
from trialdesk.eligibility.screening_input import read_screening_input
from trialdesk.protocol import builtin_protocol
from trialdesk.store.models import AdverseEvent, Consent, Infusion, Participant
from trialdesk.store.session import unit_of_work
from trialdesk.web.app import create_app
from trialdesk.web.screening_form import form_from_record, layout, record_data

T = TypeVar("T")
EXAMPLE_DAY = date(2026, 3, 10)  # the screening date of docs/examples
FHIR_BUNDLE = (
    Path(__file__).resolve().parents[2] / "docs" / "examples" / "fhir-bundle-eligible.json"
)


def rows(client: TestClient, model: type[T]) -> list[T]:
    with unit_of_work(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        found: list[T] = list(session.query(model))
        session.expunge_all()
        return found


def eligible_form(client: TestClient) -> dict[str, str]:
    """The form values of docs/examples/screening-eligible.yaml screened today."""
    text = example_text("screening-eligible.yaml", clock_of(client).today())
    record = ScreeningRecord.from_data(parse_record_text(text))
    return form_from_record(record, layout(builtin_protocol().protocol))


def test_a_page_without_login_goes_to_the_login_page_and_back(database_url: str) -> None:
    with TestClient(create_app(database_url=database_url)) as client:
        response = client.get("/desk/decisions", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Fdesk%2Fdecisions"


def test_dashboard_shows_level_cohort_window_and_todays_work(coord: TestClient) -> None:
    patient = enrolled_patient(coord, "ward 3")
    clock_of(coord).advance(days=5)
    log_in(coord, "coord")
    coord.post(
        f"/desk/participants/{patient}/adverse-events",
        data={
            "term": "Pneumonitis",
            "grade": "3",
            "onset_date": clock_of(coord).today().isoformat(),
            "attribution_hdmsc": "possible",
            "attribution_standard": "unlikely",
            "serious": "on",
            "serious_criteria": "hospitalisation",
        },
    )
    html = coord.get("/desk").text
    assert "RLI-001" in html and "Level 1" in html and "cohort 1" in html
    # DLT window: 30 days from the first infusion (protocol dlt.window_days); 5 days in.
    assert 'aria-label="day 5 of 30"' in html
    # Infusion 2 is due 3 days after the first (every 3 days) with the protocol's window.
    assert "infusion 2" in html
    # The grade 3 pneumonitis possibly related to hDMSC matches the protocol's DLT rule, and
    # as an SAE its 24-hour reporting clock runs.
    assert "Candidate DLTs to adjudicate" in html and "Pneumonitis (grade 3)" in html
    assert "24.0 h left" in html


def test_dashboard_speaks_chinese(coord: TestClient) -> None:
    html = coord.get("/desk?lang=zh").text
    assert 'lang="zh-Hans"' in html and "工作台" in html and "DLT 观察期" in html
    assert "工作台" in coord.get("/desk").text  # the choice is remembered


def test_screening_checklist_follows_the_form(coord: TestClient) -> None:
    values = eligible_form(coord)
    partial = coord.post("/desk/screening/check", data=values, headers={"X-Desk-Partial": "1"})
    assert partial.status_code == 200
    assert "Verdict: eligible" in partial.text and 'id="crit-I1"' in partial.text
    # Platelets 40 x10^9/L fails the organ-function inclusion (protocol I4: platelets >= 75).
    low = {**values, "lab.platelets.value": "40"}
    partial = coord.post("/desk/screening/check", data=low, headers={"X-Desk-Partial": "1"})
    assert "Verdict: ineligible" in partial.text
    # Without JavaScript the Check button shows the whole page with the values kept.
    page = coord.post("/desk/screening/check", data=low)
    assert 'value="40"' in page.text and "Verdict: ineligible" in page.text


def test_coordinator_cannot_answer_a_judgement_item_and_loses_nothing(coord: TestClient) -> None:
    values = {k: v for k, v in eligible_form(coord).items() if not k.startswith("j.I6.")}
    values |= {"j.I6.answer": "yes", "participant_id": "new", "patient_id": "H-77"}
    response = coord.post("/desk/screening", data=values)
    assert response.status_code == 400
    assert "only an investigator answers judgement items" in response.text
    assert 'value="H-77"' in response.text and 'value="3.2"' in response.text
    assert rows(coord, Participant) == []


def test_a_saved_screening_is_linked_to_a_new_contact(coord: TestClient) -> None:
    values = {**eligible_form(coord), "participant_id": "new", "patient_id": "H-12"}
    response = coord.post("/desk/screening", data=values, follow_redirects=False)
    assert response.status_code == 303
    person = rows(coord, Participant)[0]
    assert response.headers["location"] == f"/desk/participants/{person.id}#timeline"
    assert person.status == "screening" and person.contact_note == "H-12"
    page = coord.get(f"/desk/participants/{person.id}").text
    assert "#1: eligible" in page


def test_investigator_answers_judgements_on_an_earlier_screening(coord: TestClient) -> None:
    values = {k: v for k, v in eligible_form(coord).items() if not k.startswith("j.")}
    coord.post("/desk/screening", data={**values, "participant_id": "new"})
    assert rows(coord, Participant)[0].status == "screening"
    doctor = as_user(coord, "dr.li")
    form = doctor.get("/desk/screening?from_screening=1&participant_id=1").text
    assert 'name="j.I6.answer" value="yes"' in form  # radio buttons for the investigator
    answers = {f"j.{item}.answer": "yes" for item in layout(builtin_protocol().protocol).questions}
    for negative in ("E2.investigator", "E3.investigator", "E4", "E5", "E6", "E7.nyha_3_4"):
        answers[f"j.{negative}.answer"] = "no"
    for item in ("E7.investigator", "E9.investigator", "E10.investigator", "E11.investigator"):
        answers[f"j.{item}.answer"] = "no"
    for item in ("E12.investigator", "E13", "E14", "E15"):
        answers[f"j.{item}.answer"] = "no"
    check = doctor.post(
        "/desk/screening/check",
        data={**values, **answers},
        headers={"X-Desk-Partial": "1"},
    )
    assert "Verdict: eligible" in check.text, check.text
    saved = doctor.post(
        "/desk/screening", data={**values, **answers, "participant_id": "1"}, follow_redirects=False
    )
    assert saved.status_code == 303
    assert rows(coord, Participant)[0].status == "screening"
    assert "#2: eligible" in coord.get("/desk/participants/1").text


def test_a_fhir_bundle_fills_the_form(coord: TestClient) -> None:
    with FHIR_BUNDLE.open("rb") as bundle:
        page = coord.post(
            "/desk/screening/import",
            data={"screening_date": "2026-03-10", "participant_id": "new"},
            files={"bundle": ("patient.json", bundle, "application/json")},
        )
    assert page.status_code == 200
    data = json.loads(FHIR_BUNDLE.read_text(encoding="utf-8"))
    assert data["resourceType"] == "Bundle"
    assert 'name="lab.platelets.value" value="' in page.text
    assert 'name="lab.platelets.value" value=""' not in page.text
    assert '<option value="new" selected>' in page.text
    refused = coord.post(
        "/desk/screening/import",
        data={"screening_date": "2026-03-10"},
        files={"bundle": ("x.json", b'{"resourceType": "Patient"}', "application/json")},
    )
    assert refused.status_code == 400 and "Bundle" in refused.text


def test_consent_in_the_future_is_refused_with_the_values_kept(coord: TestClient) -> None:
    coord.post("/desk/participants", data={"contact_note": "phone 555", "sex": "female"})
    response = coord.post(
        "/desk/participants/1/consent",
        data={"consent_date": "2026-04-01", "form_version": "1.0", "obtained_by": "Dr Zhao"},
    )
    assert response.status_code == 400
    assert "is in the future" in response.text
    assert 'value="2026-04-01"' in response.text and 'value="Dr Zhao"' in response.text
    assert rows(coord, Consent) == []


def test_infusion_ae_correction_and_audit_trail(coord: TestClient) -> None:
    patient = enrolled_patient(coord, infused=0)
    today = clock_of(coord).today().isoformat()
    page = coord.get(f"/desk/participants/{patient}").text
    assert "Record an infusion" in page and "RLI-001" in page
    given = coord.post(
        f"/desk/participants/{patient}/infusions",
        data={
            "number": "1",
            "given_at": f"{today}T00:30",
            "cells_given": "2.0e7",
            "product_lot": "L7",
        },
        follow_redirects=False,
    )
    assert given.status_code == 303, given.text
    # Febrile neutropenia has no grade 1 in CTCAE v5.0: refused, the typed values stay.
    refused = coord.post(
        f"/desk/participants/{patient}/adverse-events",
        data={
            "term": "Febrile neutropenia",
            "grade": "1",
            "onset_date": today,
            "attribution_hdmsc": "unlikely",
            "attribution_standard": "possible",
        },
    )
    assert refused.status_code == 400 and "has no grade 1" in refused.text
    assert 'value="Febrile neutropenia"' in refused.text
    assert "Fever of 38.5" in refused.text or "ANC" in refused.text  # its grade texts shown
    recorded = coord.post(
        f"/desk/participants/{patient}/adverse-events",
        data={
            "term": "Cough",
            "grade": "1",
            "onset_date": today,
            "attribution_hdmsc": "unlikely",
            "attribution_standard": "unrelated",
        },
        follow_redirects=False,
    )
    assert recorded.status_code == 303
    event = rows(coord, AdverseEvent)[0]
    correction = {
        "term": "Cough",
        "grade": "2",
        "onset_date": today,
        "attribution_hdmsc": "unlikely",
        "attribution_standard": "unrelated",
    }
    url = f"/desk/participants/{patient}/adverse-events/{event.id}/correct"
    without_reason = coord.post(url, data=correction)
    assert (
        without_reason.status_code == 400 and "say why the record is changed" in without_reason.text
    )
    assert rows(coord, AdverseEvent)[0].grade == 1
    coord.post(url, data={**correction, "reason": "grade read again from the notes"})
    page = coord.get(f"/desk/participants/{patient}").text
    assert "<del>1</del> → <ins>2</ins>" in page
    assert "grade read again from the notes" in page
    # CTCAE v5.0 Cough grade 2, shown beside the corrected grade.
    assert "Moderate symptoms, medical intervention indicated; limiting instrumental ADL" in page


def test_ctcae_lookup_shows_terms_and_grade_texts(coord: TestClient) -> None:
    found = coord.get("/desk/ctcae", params={"q": "pneumon"}).text
    assert 'value="Pneumonitis"' in found
    grades = coord.get("/desk/ctcae/grades", params={"term_name": "Pneumonitis"}).text
    # CTCAE v5.0 Pneumonitis grade 1: "Asymptomatic; clinical or diagnostic observations only".
    assert "Asymptomatic; clinical or diagnostic observations only" in grades
    assert grades.count('name="grade"') == 5


def test_investigator_adjudicates_a_candidate_dlt(coord: TestClient) -> None:
    patient = enrolled_patient(coord)
    coord.post(
        f"/desk/participants/{patient}/adverse-events",
        data={
            "term": "Pneumonitis",
            "grade": "3",
            "onset_date": clock_of(coord).today().isoformat(),
            "attribution_hdmsc": "probable",
            "attribution_standard": "possible",
        },
    )
    assert "Confirm as DLT" not in coord.get(f"/desk/participants/{patient}").text
    refused = coord.post(
        f"/desk/participants/{patient}/dlt/1", data={"decision": "confirm", "reason": "x"}
    )
    assert refused.status_code == 403 and "investigator" in refused.text
    doctor = as_user(coord, "dr.li")
    assert "Confirm as DLT" in doctor.get(f"/desk/participants/{patient}").text
    no_reason = doctor.post(f"/desk/participants/{patient}/dlt/1", data={"decision": "confirm"})
    assert no_reason.status_code == 400 and 'value="confirm" required checked' in no_reason.text
    done = doctor.post(
        f"/desk/participants/{patient}/dlt/1",
        data={"decision": "confirm", "reason": "grade 3 within the window"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "DLT confirmed" in doctor.get(f"/desk/participants/{patient}").text


def test_a_full_cohort_pauses_enrolment_with_the_reason_named_once(coord: TestClient) -> None:
    for note in ("p1", "p2", "p3"):
        enrolled_patient(coord, note)
    added = coord.post("/desk/participants", data={"contact_note": "p4"}, follow_redirects=False)
    assert added.status_code == 303
    reason = "cohort 1 at level 1 is full and its DLT outcomes are not all known"
    for page in (coord.get(added.headers["location"]).text, coord.get("/desk").text):
        assert reason in page
        assert "dose_level:" not in page


def test_monitor_reads_but_writes_nothing(coord: TestClient) -> None:
    patient = enrolled_patient(coord)
    monitor = as_user(coord, "mon")
    page = monitor.get(f"/desk/participants/{patient}").text
    assert "your role records no clinical data" in page
    assert "Record an infusion" not in page and "Record an adverse event" not in page
    assert "Audit trail" in page
    refused = monitor.post(
        f"/desk/participants/{patient}/adverse-events",
        data={
            "term": "Cough",
            "grade": "1",
            "onset_date": clock_of(coord).today().isoformat(),
            "attribution_hdmsc": "unlikely",
            "attribution_standard": "unrelated",
        },
    )
    assert refused.status_code == 403 and "monitor" in refused.text
    assert rows(coord, AdverseEvent) == []
    screening = monitor.post(
        "/desk/screening", data={**eligible_form(coord), "participant_id": "new"}
    )
    assert screening.status_code == 403


def test_decision_computed_then_signed_with_the_password(coord: TestClient) -> None:
    treated_cohort(coord)
    clock_of(coord).advance(days=31)
    log_in(coord, "coord")
    page = coord.get("/desk/decisions").text
    assert "Compute the decision" in page
    assert coord.post("/desk/decisions/compute", follow_redirects=False).status_code == 303
    page = coord.get("/desk/decisions").text
    # 3+3: 0 DLTs among 3 evaluable patients at level 1 -> escalate to level 2.
    assert "escalate → level 2" in page and "An investigator signs this decision." in page
    doctor = as_user(coord, "dr.li")
    wrong = doctor.post("/desk/decisions/1/sign", data={"password": "not it"})
    assert wrong.status_code == 400 and "re-enter your own password" in wrong.text
    assert "not it" not in wrong.text
    signed = doctor.post(
        "/desk/decisions/1/sign", data={"password": PASSWORD}, follow_redirects=False
    )
    assert signed.status_code == 303
    history = doctor.get("/desk/decisions").text
    assert "Signed by DR.LI, MD on 2026-" in history
    assert "I approve this dose-escalation decision" in history


def test_the_form_keeps_every_fact_of_a_fhir_bundle() -> None:
    """A Bundle loaded into the form and screened from the form gives every criterion the same
    status as the Bundle screened directly (units as reported, a ULN in another unit)."""
    protocol = builtin_protocol().protocol
    read = read_screening_input(
        FHIR_BUNDLE.read_text(encoding="utf-8"), protocol=protocol, screening_date=EXAMPLE_DAY
    )
    form = layout(protocol)
    again = ScreeningRecord.from_data(
        record_data(form_from_record(read.record, form), form, answerer=None, today=EXAMPLE_DAY)
    )
    direct = screen(protocol, read.record, on=EXAMPLE_DAY)
    via_form = screen(protocol, again, on=EXAMPLE_DAY)
    assert direct.verdict == via_form.verdict == "eligible"
    assert [(c.id, c.status) for c in direct.criteria] == [
        (c.id, c.status) for c in via_form.criteria
    ]


def test_dsmb_gets_a_page_saying_the_desk_is_not_for_its_role(coord: TestClient) -> None:
    board = as_user(coord, "board")
    response = board.get("/desk")
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("text/html")
    assert "This page is not for your role" in response.text
    assert "only the roles" in response.text  # the role matrix's own words


def test_an_infusion_corrected_with_a_reason(coord: TestClient) -> None:
    patient = enrolled_patient(coord)
    given = next(row for row in rows(coord, Infusion) if row.number == 1)
    url = f"/desk/participants/{patient}/infusions/{given.id}/correct"
    page = coord.get(f"/desk/participants/{patient}").text
    assert f'href="?edit=infusion-correct-{given.id}#form-infusion-correct-{given.id}"' in page
    assert f'action="{url}"' not in page  # drawn only when asked for
    page = coord.get(f"/desk/participants/{patient}?edit=infusion-correct-{given.id}").text
    assert f'action="{url}"' in page
    typed = {"given_at": "2026-03-10T01:00", "cells_given": "1.9e7", "product_lot": "LOT-1b"}
    refused = coord.post(url, data=typed)
    assert refused.status_code == 400 and 'value="LOT-1b"' in refused.text
    assert (
        coord.post(url, data={**typed, "reason": "lot misread"}, follow_redirects=False).status_code
        == 303
    )
    page = coord.get(f"/desk/participants/{patient}").text
    assert "<del>LOT-1</del> → <ins>LOT-1b</ins>" in page and "lot misread" in page
