"""The public pre-screening form as a member of the public fills it in: answers the page judges
'may be eligible', the signed token each of its forms carries, and a request to be contacted."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from trialdesk.store.prescreen_contacts import PrescreenContact, add_contact
from trialdesk.store.session import unit_of_work

LIKELY = {
    "age": "63",
    "chest_radiotherapy": "yes",
    "lung_injury": "yes",
    "injury_began": "2026-02-01",
    "pregnant_or_breastfeeding": "no",
    "lung_surgery": "no",
    "chronic_lung_disease": "no",
    "stem_cell_study": "no",
}
"""Answers to every question that leave the person 'may be eligible' (no exclusion answered)."""


def token_of(html: str) -> str:
    """The signed ``token`` of the public form on ``html``."""
    found = re.search(r'name="token" value="([^"]+)"', html)
    assert found, "the public form carries a signed token"
    return found.group(1)


def ask_to_be_contacted(client: TestClient, contact: dict[str, str], lang: str = "en") -> Any:
    """Answer LIKELY on the public page, then send the contact form with ``contact`` (name,
    phone, preferred language, consent); the answer to that last post, unchecked."""
    token = token_of(client.get(f"/?lang={lang}").text)
    result = client.post("/prescreen", data={**LIKELY, "token": token, "lang": lang})
    assert result.status_code == 200, result.text
    return client.post(
        "/prescreen/contact",
        data={**LIKELY, **contact, "token": token_of(result.text), "lang": lang},
    )


def stored_contact(
    client: TestClient, name: str, phone: str, *, email: str | None = None, language: str = "zh"
) -> int:
    """A 'may be eligible' contact request with consent to be contacted, stored as the public
    form stores it, at the app clock's now; its id."""
    runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with unit_of_work(runtime.engine) as session:
        row = add_contact(
            session,
            PrescreenContact(
                created_at=client.app.state.clock.now(),  # type: ignore[attr-defined]
                name=name,
                phone=phone,
                email=email,
                preferred_language=language,
                answers_json="{}",
                result="may_be_eligible",
                reasons_json="[]",
                consent_to_contact=True,
                consent_text="I agree to be contacted about this study.",
                protocol_version_id=runtime.protocol_version_id,
            ),
        )
        return row.id
