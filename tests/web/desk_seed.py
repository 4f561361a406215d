"""A trial in progress for the desk page tests, made with the use-cases on the app's clock."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from trialdesk.store.models import Infusion
from trialdesk.store.session import unit_of_work
from trialdesk.trial.clock import ManualClock
from trialdesk.trial.context import TrialContext
from trialdesk.trial.enrolment import enrol
from trialdesk.trial.infusions import record_infusion, schedule_infusions
from trialdesk.trial.participants import link_screening, record_consent, register_contact
from trialdesk.trial.screening import screen_and_record

EXAMPLES = Path(__file__).resolve().parents[2] / "docs" / "examples"
EXAMPLE_DATE = date(2026, 3, 10)


def example_text(name: str, on: date) -> str:
    """A docs/examples file with every date moved so that it is screened on ``on``."""
    shift = on - EXAMPLE_DATE
    return re.sub(
        r"\d{4}-\d{2}-\d{2}",
        lambda m: (date.fromisoformat(m.group(0)) + shift).isoformat(),
        (EXAMPLES / name).read_text(encoding="utf-8"),
    )


def clock_of(client: TestClient) -> ManualClock:
    clock: ManualClock = client.app.state.clock  # type: ignore[attr-defined]
    return clock


def consented_person(client: TestClient, note: str = "clinic") -> int:
    """Contact -> eligible screening -> consent, not yet enrolled; the participant id."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    clock = clock_of(client)
    with unit_of_work(runtime.engine) as session:
        ctx = TrialContext.open(session, runtime.loaded, clock)
        today = clock.today()
        person = register_contact(session, ctx, actor="coord", contact_note=note)
        screening = screen_and_record(
            session,
            loaded=runtime.loaded,
            protocol_version_id=ctx.protocol_version_id,
            input_text=example_text("screening-eligible.yaml", today),
            on=None,
            screened_by="coord",
            clock=clock,
        )
        link_screening(session, ctx, person.id, screening.id, actor="coord")
        record_consent(
            session,
            ctx,
            person.id,
            consent_date=today,
            form_version="1.0",
            obtained_by="Dr Li",
            actor="coord",
        )
        return person.id


def enrolled_patient(client: TestClient, note: str = "clinic", *, infused: int = 1) -> int:
    """Contact -> eligible screening -> consent -> enrolment -> schedule -> ``infused``
    infusions given today; the participant id."""
    person_id = consented_person(client, note)
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    clock = clock_of(client)
    with unit_of_work(runtime.engine) as session:
        ctx = TrialContext.open(session, runtime.loaded, clock)
        today = clock.today()
        enrol(session, ctx, person_id, enrolled_on=today, baseline_weight_kg=60, actor="coord")
        schedule_infusions(
            session, person_id, first_on=today, protocol=ctx.protocol, actor="coord", clock=clock
        )
        for number in range(1, infused + 1):
            planned = session.query(Infusion).filter_by(participant_id=person_id, number=number)
            record_infusion(
                session,
                person_id,
                number,
                given_at=clock.now(),
                cells_given=planned.one().planned_cells,
                product_lot="LOT-1",
                protocol=ctx.protocol,
                actor="coord",
                clock=clock,
            )
        return person_id


def give_infusion(client: TestClient, participant_id: int, number: int) -> None:
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    clock = clock_of(client)
    with unit_of_work(runtime.engine) as session:
        ctx = TrialContext.open(session, runtime.loaded, clock)
        planned = session.query(Infusion).filter_by(participant_id=participant_id, number=number)
        record_infusion(
            session,
            participant_id,
            number,
            given_at=clock.now(),
            cells_given=planned.one().planned_cells,
            product_lot="LOT-1",
            protocol=ctx.protocol,
            actor="coord",
            clock=clock,
        )


def treated_cohort(client: TestClient) -> list[int]:
    """Three patients given all four infusions, three days apart (the protocol's schedule)."""
    ids = [enrolled_patient(client, f"p{n}") for n in range(1, 4)]
    for number in range(2, 5):
        clock_of(client).advance(days=3)
        for participant_id in ids:
            give_infusion(client, participant_id, number)
    return ids


def pneumonitis(client: TestClient, pid: int, grade: int = 3) -> dict[str, Any]:
    """A possibly related pneumonitis on the day of the first infusion, through the API: at
    grade 3 a candidate DLT (protocol dlt rule: grade >= 3, at least possibly related, within
    30 days). The stored event as the API answers it."""
    response = client.post(
        f"/api/participants/{pid}/adverse-events",
        json={
            "term": "Pneumonitis",
            "grade": grade,
            "onset_date": clock_of(client).today().isoformat(),
            "attribution_hdmsc": "possible",
            "attribution_standard": "unlikely",
        },
    )
    assert response.status_code == 201, response.text
    event: dict[str, Any] = response.json()
    return event
