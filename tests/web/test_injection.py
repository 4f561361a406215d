"""SQL and HTML injection in the free-text fields: each classic string is stored exactly as typed
(the statements are parameterised, so the SQL is inert: the tables are still there and hold the
rows they should) and every page that shows it — the desk pages, the audit trail, the safety
report, the public pre-screen thanks page — shows it escaped, never as markup."""

from __future__ import annotations

import re
from typing import Any

import pytest
from desk_seed import enrolled_patient
from fastapi.testclient import TestClient
from markupsafe import escape
from public_form import ask_to_be_contacted
from sqlalchemy import text
from web_accounts import add_people, as_user, log_in, manual_clock

from trialdesk.store.session import unit_of_work
from trialdesk.trial.clock import ManualClock
from trialdesk.web.app import create_app

HOSTILE = [
    pytest.param("'; DROP TABLE participants; --", id="sql-drop"),
    pytest.param("1 OR 1=1", id="sql-tautology"),
    pytest.param("<script>alert(1)</script>", id="html-script"),
    pytest.param('"><img src=x onerror=alert(1)>', id="html-attribute-break"),
]
MARKUP = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
"""What must never reach a page unescaped."""


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def count(client: TestClient, table: str) -> int:
    """Rows of ``table`` by plain SQL (fails if the table was dropped)."""
    with unit_of_work(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def shown_escaped(html: str, value: str) -> bool:
    """Whether ``value`` appears on the page as escaped text, and none of MARKUP as markup."""
    for markup in MARKUP:
        assert markup not in html, f"unescaped {markup!r} on the page"
    return str(escape(value)) in html


def with_version(row: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    """A PATCH body, with the record's version when the API keeps one."""
    return {**body, "version": row["version"]} if "version" in row else body


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_text_is_stored_verbatim_and_shown_escaped(coord: TestClient, hostile: str) -> None:
    monitor = as_user(coord, "mon")
    # API: a contact note, an infusion's product lot and a correction reason, a data query's
    # question, answer and closing note, a withdrawal reason.
    contact = ok(coord.post("/api/participants", json={"contact_note": hostile}), 201)
    treated = enrolled_patient(coord)
    infusion = next(
        row
        for row in ok(coord.get(f"/api/participants/{treated}"))["infusions"]
        if row["number"] == 1
    )
    corrected = ok(
        coord.patch(
            f"/api/infusions/{infusion['id']}",
            json=with_version(infusion, {"changes": {"product_lot": hostile}, "reason": hostile}),
        )
    )
    query = ok(
        monitor.post(
            "/api/queries",
            json={
                "entity": "infusion",
                "entity_id": infusion["id"],
                "field": "product_lot",
                "question": hostile,
            },
        ),
        201,
    )
    ok(coord.post(f"/api/queries/{query['id']}/answer", json={"answer": hostile}))
    closed = ok(monitor.post(f"/api/queries/{query['id']}/close", json={"note": hostile}))
    ok(coord.post(f"/api/participants/{contact['id']}/withdrawal", json={"reason": hostile}))
    # Desk form: a new contact's note.
    posted = coord.post(
        "/desk/participants",
        data={"contact_note": hostile, "csrf_token": coord.headers["X-CSRF-Token"]},
        follow_redirects=False,
    )
    assert posted.status_code == 303, posted.text

    # Stored verbatim, and the SQL did nothing: three participants, every table still there.
    assert count(coord, "participants") == 3
    assert count(coord, "infusions") == 4  # desk_seed schedules the protocol's four infusions
    assert count(coord, "data_queries") == 1
    assert count(coord, "audit_log") > 0
    read_contact = ok(coord.get(f"/api/participants/{contact['id']}"))
    assert read_contact["contact_note"] == hostile
    assert corrected["product_lot"] == hostile
    assert (closed["question"], closed["answer"]) == (hostile, hostile)
    assert hostile in [entry["reason"] for entry in closed["audit"]]
    listed = ok(coord.get("/api/participants"))["items"]
    assert sorted(row["contact_note"] or "" for row in listed) == sorted(
        [hostile, hostile, "clinic"]
    )

    # Shown escaped wherever a page shows it.
    desk_contact = posted.headers["location"]
    assert re.fullmatch(r"/desk/participants/\d+", desk_contact)
    assert shown_escaped(coord.get(desk_contact).text, hostile)
    assert shown_escaped(coord.get(f"/desk/participants/{contact['id']}").text, hostile)
    treated_page = coord.get(f"/desk/participants/{treated}").text
    assert shown_escaped(treated_page, hostile)  # the product lot
    audit_page = monitor.get(f"/desk/participants/{treated}").text
    assert shown_escaped(audit_page, hostile)  # the lot and the reason in the audit trail
    for page in ("/desk", "/desk/decisions", "/desk/reports/safety"):
        response = coord.get(page)
        assert response.status_code == 200, page
        shown_escaped(response.text, hostile)


@pytest.mark.parametrize("hostile", HOSTILE)
def test_a_hostile_name_on_the_public_contact_form_is_kept_and_shown_escaped(
    database_url: str, hostile: str
) -> None:
    app = create_app(database_url=database_url)
    with TestClient(app) as public:
        add_people(public)
        clock = ManualClock(manual_clock(public).now())
        app.state.clock = clock
        contact = {"name": hostile, "phone": "+86 138 0000 0000", "preferred_language": "en"}
        thanks = ask_to_be_contacted(public, {**contact, "consent": "yes"})
        assert thanks.status_code == 200, thanks.text
        assert shown_escaped(thanks.text, hostile)
        assert count(public, "prescreen_contacts") == 1
        assert count(public, "participants") == 0
        with unit_of_work(app.state.runtime.engine) as session:
            stored = session.execute(text("SELECT name FROM prescreen_contacts")).scalar_one()
        assert stored == hostile
        log_in(public, "coord")
        assert shown_escaped(public.get("/desk").text, hostile)  # the dashboard's contact list
