"""Starting a screening from a pre-screen contact on the dashboard: the coordinator's form makes
a participant that points at the request (name and phone stay with the request), the started
request then links to its participant; a monitor is refused, and a post without the session's
security token changes nothing."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from public_form import stored_contact
from web_accounts import as_user

from trialdesk.store.models import AuditEntry, Participant
from trialdesk.store.session import unit_of_work

NAME = "ZHAO Lei"
PHONE = "+86 138 0000 1234"


def left_contact(client: TestClient) -> int:
    """A contact request as the public page stores it; its id."""
    return stored_contact(client, NAME, PHONE)


def participants(client: TestClient) -> list[Participant]:
    with unit_of_work(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        found = list(session.query(Participant).order_by(Participant.id))
        session.expunge_all()
        return found


def audit_text(client: TestClient) -> str:
    with unit_of_work(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        return "\n".join(
            f"{e.entity} {e.field} {e.old_value} {e.new_value}" for e in session.query(AuditEntry)
        )


def test_a_contact_becomes_a_participant_on_its_screening_page(coord: TestClient) -> None:
    contact = left_contact(coord)
    dashboard = coord.get("/desk").text
    assert f'action="/desk/contacts/{contact}/screening"' in dashboard
    assert "Start screening" in dashboard

    started = coord.post(f"/desk/contacts/{contact}/screening", follow_redirects=False)
    assert started.status_code == 303
    [person] = participants(coord)
    assert started.headers["location"] == f"/desk/screening?participant_id={person.id}"
    assert person.screening_number == "S-001" and person.status == "prescreened"
    assert f"pre-screen contact #{contact}" in (person.contact_note or "")
    # The clinical side names the request, never the person: no name or phone copied.
    assert NAME not in audit_text(coord) and PHONE not in audit_text(coord)
    assert NAME not in (person.contact_note or "")

    screening = coord.get(started.headers["location"]).text
    assert re.search(rf'<option value="{person.id}" selected>S-001', screening)

    dashboard = coord.get("/desk").text
    assert f'href="/desk/participants/{person.id}">Screening started: S-001</a>' in dashboard
    assert f'action="/desk/contacts/{contact}/screening"' not in dashboard
    assert "已开始筛选：S-001" in coord.get("/desk?lang=zh").text


def test_a_started_contact_is_not_started_twice(coord: TestClient) -> None:
    contact = left_contact(coord)
    coord.post(f"/desk/contacts/{contact}/screening")
    again = coord.post(f"/desk/contacts/{contact}/screening", follow_redirects=False)
    assert again.status_code == 400
    assert f"pre-screen contact #{contact} is already participant #1" in again.text
    assert len(participants(coord)) == 1


def test_an_unknown_contact_is_refused(coord: TestClient) -> None:
    response = coord.post("/desk/contacts/99/screening", follow_redirects=False)
    assert response.status_code == 400
    assert participants(coord) == []


def test_a_monitor_sees_no_start_form_and_is_refused(coord: TestClient) -> None:
    contact = left_contact(coord)
    monitor = as_user(coord, "mon")
    dashboard = monitor.get("/desk").text
    # The request by number; who to call is for the roles that call (docs/roles.md).
    assert NAME not in dashboard and f"Request {contact}" in dashboard
    assert "Start screening" not in dashboard
    refused = monitor.post(f"/desk/contacts/{contact}/screening", follow_redirects=False)
    assert refused.status_code == 403
    assert "may record or correct clinical data" in refused.text
    assert participants(coord) == []


def test_the_form_needs_the_sessions_security_token(coord: TestClient) -> None:
    contact = left_contact(coord)
    del coord.headers["X-CSRF-Token"]
    missing = coord.post(f"/desk/contacts/{contact}/screening", follow_redirects=False)
    assert missing.status_code == 403 and "security token" in missing.text
    stale = coord.post(
        f"/desk/contacts/{contact}/screening", data={"csrf_token": "stale"}, follow_redirects=False
    )
    assert stale.status_code == 403
    assert participants(coord) == []
    # The token the dashboard's form carries is accepted.
    page = coord.get("/desk").text
    token = re.search(
        rf'action="/desk/contacts/{contact}/screening".*?name="csrf_token" value="([^"]+)"',
        page,
        re.S,
    )
    assert token is not None
    sent = coord.post(
        f"/desk/contacts/{contact}/screening",
        data={"csrf_token": token.group(1)},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert len(participants(coord)) == 1
