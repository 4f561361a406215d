"""The desk in a real browser: a visitor of the public page pre-screens and leaves a phone
number; the coordinator starts the screening from that contact on the dashboard and screens
from a FHIR Bundle, consents, enrols, records an infusion and an adverse event (CTCAE term
looked up as typed), the investigator confirms the DLT and signs the dose decision it makes
possible; a monitor is refused when writing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from threaded_server import served

from trialdesk.store.models import AdverseEvent, Infusion, User
from trialdesk.store.session import unit_of_work
from trialdesk.trial.adverse_events import record_adverse_event
from trialdesk.trial.clock import ManualClock
from trialdesk.trial.context import TrialContext
from trialdesk.trial.dlt_review import adjudicate_dlt
from trialdesk.trial.enrolment import enrol
from trialdesk.trial.infusions import record_infusion, schedule_infusions
from trialdesk.trial.participants import link_screening, record_consent, register_contact
from trialdesk.trial.passwords import hash_password
from trialdesk.trial.screening import screen_and_record
from trialdesk.web.app import create_app

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
BUNDLE = ROOT / "docs" / "examples" / "fhir-bundle-eligible.json"
RECORD = ROOT / "docs" / "examples" / "screening-eligible.yaml"
START = datetime(2026, 3, 10, 1, 0, tzinfo=UTC)
"""The examples' screening date (docs/examples), 09:00 at the site."""
PASSWORD = "correct horse battery"
VISITOR_PHONE = "+86 138 0000 0310"
PEOPLE = {
    "coord": ("coordinator", "WANG Fang"),
    "dr.li": ("investigator", "LI Ming, MD"),
    "mon": ("monitor", "CHEN Jing"),
}


def seed(app: FastAPI) -> None:
    """The team, and a first patient at level 1 whose grade 3 pneumonitis is a confirmed DLT."""
    runtime = app.state.runtime
    clock: ManualClock = app.state.clock
    with unit_of_work(runtime.engine) as session:
        for username, (role, printed) in PEOPLE.items():
            session.add(
                User(
                    username=username,
                    display_name=printed,
                    printed_name=printed,
                    role=role,
                    active=True,
                    password_hash=hash_password(PASSWORD),
                )
            )
        session.flush()
        ctx = TrialContext.open(session, runtime.loaded, clock)
        person = register_contact(session, ctx, actor="coord", contact_note="first patient")
        screening = screen_and_record(
            session,
            loaded=runtime.loaded,
            protocol_version_id=ctx.protocol_version_id,
            input_text=RECORD.read_text(encoding="utf-8"),
            on=None,
            screened_by="dr.li",
            clock=clock,
        )
        link_screening(session, ctx, person.id, screening.id, actor="coord")
        today = clock.today()
        record_consent(
            session,
            ctx,
            person.id,
            consent_date=today,
            form_version="1.0",
            obtained_by="Dr Li",
            actor="coord",
        )
        enrol(session, ctx, person.id, enrolled_on=today, baseline_weight_kg=58, actor="coord")
        schedule_infusions(
            session, person.id, first_on=today, protocol=ctx.protocol, actor="coord", clock=clock
        )
        first = session.query(Infusion).filter_by(participant_id=person.id, number=1).one()
        record_infusion(
            session,
            person.id,
            1,
            given_at=clock.now(),
            cells_given=first.planned_cells,
            product_lot="LOT-0",
            protocol=ctx.protocol,
            actor="coord",
            clock=clock,
        )
        event = record_adverse_event(
            session,
            person.id,
            term="Pneumonitis",
            grade=3,
            onset_date=today,
            attribution_hdmsc="possible",
            attribution_standard="possible",
            protocol=ctx.protocol,
            actor="coord",
            clock=clock,
        )
        assert event.dlt is not None
        adjudicate_dlt(
            session, event.dlt.id, confirm=True, reason="grade 3", actor="dr.li", clock=clock
        )


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, FastAPI]]:
    database = tmp_path_factory.mktemp("desk") / "desk.sqlite3"
    app = create_app(database_url=f"sqlite:///{database}")
    app.state.clock = ManualClock(START)
    seed(app)
    with served(app) as base:
        yield base, app


def log_in(browser: Any, base: str, username: str) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{base}/desk")
    page.get_by_label("User name").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Password").press("Enter")
    page.wait_for_url(f"{base}/desk")
    return page


def leave_a_contact_request(browser: Any, base: str) -> None:
    """A visitor answers the public pre-screening, agrees to be contacted, leaves a phone."""
    visitor = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    visitor.goto(f"{base}/?lang=en")
    visitor.get_by_label("1. How old are you? (years)").fill("58")
    for number, question, answer in (
        (2, "Have you had radiotherapy", "Yes"),
        (3, "Has a doctor told you", "Yes"),
        (5, "Are you pregnant", "No"),
        (6, "Have you ever had an operation", "No"),
        (7, "Has a doctor ever told you", "No"),
        (8, "Have you taken part", "No"),
    ):
        group = visitor.get_by_role("group", name=f"{number}. {question}")
        group.get_by_label(answer, exact=True).check()
    onset = (START.date() - timedelta(days=20)).isoformat()
    visitor.get_by_label("4. When did the lung injury begin?").fill(onset)
    visitor.get_by_role("button", name="See my result").click()
    visitor.get_by_role("heading", name="You may be eligible").wait_for()
    visitor.get_by_label("Your name").fill("ZHOU Min")
    visitor.get_by_label("Phone number").fill(VISITOR_PHONE)
    visitor.get_by_role("checkbox").check()
    visitor.get_by_role("button", name="Send my contact request").click()
    visitor.get_by_role("heading", name="Thank you, ZHOU Min").wait_for()
    visitor.close()


def test_prescreen_to_a_signed_decision(desk: tuple[str, FastAPI], browser: Any) -> None:
    base, app = desk
    leave_a_contact_request(browser, base)
    coord = log_in(browser, base, "coord")
    assert "RLI-001" in coord.inner_text("main")

    # The request is on the dashboard; starting it makes participant S-002, ready to screen.
    contacts = coord.locator("section[aria-labelledby=contacts-h]")
    assert VISITOR_PHONE in contacts.inner_text()
    contacts.get_by_role("button", name="Start screening").click()
    coord.wait_for_url("**/desk/screening?participant_id=2")
    assert coord.get_by_label("Participant").input_value() == "2"

    # Screening: the facts come from a FHIR Bundle; the checklist follows the form as typed.
    coord.get_by_label("Bundle file (.json)").set_input_files(str(BUNDLE))
    coord.get_by_role("button", name="Load into the form").click()
    checklist = coord.locator("#checklist")
    checklist.get_by_text("Verdict: eligible").wait_for()  # the Bundle carries every answer
    platelets = coord.locator("input[name='lab.platelets.value']")
    kept = platelets.input_value()
    platelets.fill("40")  # below the protocol's I4 limit (platelets >= 75 x10^9/L)
    checklist.get_by_text("Verdict: ineligible").wait_for()  # re-checked without a reload
    platelets.fill(kept)
    checklist.get_by_text("Verdict: eligible").wait_for()
    assert coord.get_by_label("Participant").input_value() == "2"  # kept through the load
    coord.get_by_label("Hospital number").fill("H-2026-0310")
    coord.get_by_role("button", name="Save screening").click()
    coord.wait_for_url("**/desk/participants/2#timeline")
    assert "#2: eligible" in coord.inner_text("#timeline")
    assert "pre-screen contact #1" in coord.inner_text("#timeline")
    assert "ZHOU Min" not in coord.inner_text("main")  # the name stays with the request
    doctor = log_in(browser, base, "dr.li")

    # Consent and enrolment: the design puts the second patient in cohort 1 at level 1.
    assert "The design assigns level 1, cohort 1." in coord.inner_text("#consent")
    coord.get_by_role("button", name="Record consent").click()
    coord.wait_for_url("**#consent")
    coord.get_by_label("Baseline weight (kg)").fill("60")
    coord.get_by_role("button", name="Enrol").click()
    coord.get_by_role("heading", name="RLI-002").wait_for()

    # Infusion 1 (the dose for 60 kg at level 1 is prefilled: 2.0×10^7 cells, NCT06021067.md).
    coord.get_by_role("button", name="Schedule").click()
    form = coord.locator("#form-infusion")
    assert form.get_by_label("Cells given").input_value() == "2e+07"
    form.get_by_label("Product lot").fill("LOT-7")
    form.get_by_role("button", name="Save infusion").click()
    coord.wait_for_url("**#infusions")
    assert "LOT-7" in coord.inner_text("#infusions")

    # The adverse event: the term looked up as typed, each grade's text beside its choice.
    ae = coord.locator("#form-ae")
    ae.get_by_label("CTCAE term (name or MedDRA code)").press_sequentially("pneumon", delay=30)
    ae.get_by_label("Pneumonitis", exact=False).first.click()
    ae.get_by_text("Severe symptoms; limiting self care ADL; oxygen indicated").wait_for()
    ae.locator("input[name=grade][value='3']").check()
    ae.get_by_label("Related to hDMSC").select_option("possible")
    ae.get_by_label("Related to the standard treatment").select_option("possible")
    ae.get_by_label("Onset").fill(START.date().isoformat())
    ae.get_by_role("button", name="Save adverse event").click()
    coord.wait_for_url("**#adverse-events")
    assert "DLT candidate" in coord.inner_text("#adverse-events")

    # The investigator confirms the DLT; two DLTs at level 1 decide the 3+3 at once.
    doctor.goto(coord.url.split("#")[0])
    dlt = doctor.locator("#dlt")
    dlt.get_by_label("Confirm as DLT").check()
    dlt.get_by_label("Reason").fill("grade 3 pneumonitis on day 0, possibly related")
    dlt.get_by_role("button", name="Adjudicate").click()
    doctor.wait_for_url("**#dlt")
    doctor.get_by_role("link", name="Decisions").click()
    doctor.get_by_role("button", name="Compute the decision").click()
    doctor.get_by_label("Re-enter your password to sign").fill(PASSWORD)
    doctor.get_by_role("button", name="Sign the decision").click()
    doctor.wait_for_url("**#history")
    history = doctor.inner_text("#history")
    assert "Signed by LI Ming, MD on 2026-03-10 01:00:00 UTC" in history
    assert "stop" in history
    with unit_of_work(app.state.runtime.engine) as session:
        assert session.query(AdverseEvent).count() == 2
    coord.goto(f"{base}/desk")
    contacts.get_by_role("link", name="Screening started: S-002").click()
    coord.get_by_role("heading", name="RLI-002").wait_for()
    coord.close()
    doctor.close()


def test_monitor_sees_everything_and_is_refused_when_writing(
    desk: tuple[str, FastAPI], browser: Any
) -> None:
    base, _ = desk
    monitor = log_in(browser, base, "mon")
    monitor.goto(f"{base}/desk/participants/1")
    assert "your role records no clinical data" in monitor.inner_text("main")
    assert monitor.locator("#form-ae").count() == 0
    assert "Audit trail" in monitor.inner_text("main")
    token = monitor.locator("input[name=csrf_token]").first.input_value()
    response = monitor.request.post(
        f"{base}/desk/participants/1/measurements",
        form={"csrf_token": token, "code": "spo2", "value": "95", "measured_on": "2026-03-10"},
    )
    assert response.status == 403
    assert "may record or correct clinical data" in response.text()
    monitor.close()
