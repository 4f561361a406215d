"""The public trial page and pre-screening: no login, both languages, consent before storing,
signed form tokens, limits, and the accessibility basics a screen reader relies on."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from public_form import LIKELY, token_of
from web_accounts import add_people, log_in

from trialdesk.protocol import builtin_protocol
from trialdesk.trial.clock import ManualClock
from trialdesk.web.app import create_app
from trialdesk.web.i18n import translate

TODAY = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
CONTACT = {"name": "Zhang Wei", "phone": "+86 138 0000 0000", "preferred_language": "zh"}


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    app = create_app(database_url=database_url)
    app.state.clock = ManualClock(TODAY)
    with TestClient(app) as test_client:
        yield test_client


def answer(client: TestClient, answers: dict[str, str], lang: str = "en") -> str:
    token = token_of(client.get(f"/?lang={lang}").text)
    response = client.post("/prescreen", data={**answers, "token": token, "lang": lang})
    assert response.status_code == 200, response.text
    return response.text


def contacts(client: TestClient) -> list[sa.Row[tuple[object, ...]]]:
    engine = client.app.state.runtime.engine  # type: ignore[attr-defined]
    with engine.connect() as connection:
        return list(connection.execute(sa.text("SELECT * FROM prescreen_contacts")).all())


def visible_text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_public_page_needs_no_login_and_tells_the_trial_in_plain_words(client: TestClient) -> None:
    page = client.get("/?lang=en")
    assert page.status_code == 200
    text = visible_text(page.text)
    # NCT06021067.md: ages 18-75; 4 infusions, one every 3 days; 4-6 weeks; DLT window 30 days.
    for words in (
        "18 to 75 years",
        "4 infusions into a vein, one every 3 days",
        "4 to 6 weeks",
        "For 30 days after the first infusion",
        "about 15",
        "Who may join",
        "Who may not join",
        "How to take part",
    ):
        assert words in text
    assert 'lang="en"' in page.text


def test_public_page_in_simplified_chinese(client: TestClient) -> None:
    page = client.get("/", headers={"accept-language": "zh-CN,zh;q=0.9"})
    html = page.text
    assert '<html lang="zh-Hans">' in html
    for words in (
        "谁可以参加",
        "谁不能参加",
        "在医院静脉输注 4 次，每 3 天一次。",
        "您针对肺损伤的常规治疗（糖皮质激素）按医生的处方继续进行。",
        "查看我的结果",
    ):
        assert words in html
    prescreen = builtin_protocol().protocol.prescreen
    assert prescreen is not None
    assert all(q.text.zh in html for q in prescreen.questions)
    assert "Who may join" not in html


def test_every_form_control_has_a_label_and_every_radio_group_a_legend(
    client: TestClient,
) -> None:
    for html in (client.get("/?lang=en").text, answer(client, LIKELY)):
        checker = _Labels()
        checker.feed(html)
        assert checker.unlabelled == [], f"inputs without a label: {checker.unlabelled}"
        assert checker.radios_outside_fieldset == []


def test_a_likely_candidate_may_be_eligible_and_nothing_is_stored(client: TestClient) -> None:
    html = answer(client, LIKELY)
    assert "You may be eligible" in html
    assert contacts(client) == []


def test_ruled_out_answers_name_each_reason_in_the_chosen_language(client: TestClient) -> None:
    html = answer(client, {**LIKELY, "age": "80", "lung_surgery": "yes"}, lang="zh")
    assert "您可能不符合参加条件" in html
    assert "本研究只招募 18 至 75 岁的人。" in html
    assert "做过肺切除手术的人不能参加。" in html


def test_no_contact_is_stored_without_the_consent_box(client: TestClient) -> None:
    result = answer(client, LIKELY)
    refused = client.post(
        "/prescreen/contact", data={**LIKELY, **CONTACT, "token": token_of(result), "lang": "en"}
    )
    assert refused.status_code == 422
    assert "Tick the box to agree to be contacted" in refused.text
    assert contacts(client) == []
    # The consent box is never ticked for the person.
    assert re.search(r'<input type="checkbox" name="consent"[^>]*checked', result) is None


def test_contact_with_consent_is_stored_with_answers_and_result(client: TestClient) -> None:
    result = answer(client, {**LIKELY, "stem_cell_study": "yes"}, lang="zh")
    thanks = client.post(
        "/prescreen/contact",
        data={
            **LIKELY,
            "stem_cell_study": "yes",
            **CONTACT,
            "consent": "yes",
            "token": token_of(result),
            "lang": "zh",
        },
    )
    assert thanks.status_code == 200
    assert "谢谢您，Zhang Wei" in thanks.text
    [row] = contacts(client)
    assert (row.name, row.phone, row.email, row.preferred_language) == (
        "Zhang Wei",
        "+86 138 0000 0000",
        None,
        "zh",
    )
    assert row.result == "probably_not_eligible"
    assert '"stem_cell_study"' in row.reasons_json
    assert '"age": "63"' in row.answers_json
    assert row.consent_text == translate(
        "I agree that the study team may contact me about this study by phone or email, "
        "using the details above.",
        "zh",
    )


def test_the_result_is_judged_again_not_taken_from_the_form(client: TestClient) -> None:
    result = answer(client, LIKELY)
    client.post(
        "/prescreen/contact",
        data={
            **LIKELY,
            "age": "90",
            **CONTACT,
            "consent": "yes",
            "result": "may_be_eligible",
            "token": token_of(result),
            "lang": "en",
        },
    )
    [row] = contacts(client)
    assert row.result == "probably_not_eligible"


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"phone": "", "email": ""}, "Give a phone number or an email address"),
        ({"phone": "call me"}, "Write the phone number with digits only"),
        ({"email": "no-at-sign"}, "Write the email address like name@example.com"),
        ({"name": "  "}, "Write your name."),
        ({"preferred_language": "fr"}, "Choose a language."),
    ],
)
def test_bad_contact_details_are_refused_beside_the_field(
    client: TestClient, changes: dict[str, str], problem: str
) -> None:
    result = answer(client, LIKELY)
    response = client.post(
        "/prescreen/contact",
        data={**LIKELY, **CONTACT, "consent": "yes", **changes, "token": token_of(result)},
    )
    assert response.status_code == 422
    assert problem in response.text
    assert contacts(client) == []


def test_a_missing_answer_is_asked_again_with_the_given_answers_kept(client: TestClient) -> None:
    token = token_of(client.get("/").text)
    partial = {k: v for k, v in LIKELY.items() if k not in ("lung_surgery", "stem_cell_study")}
    response = client.post("/prescreen", data={**partial, "token": token, "lang": "en"})
    assert response.status_code == 422
    assert 'href="#q-lung_surgery"' in response.text
    assert 'href="#q-stem_cell_study"' in response.text
    assert 'value="63"' in response.text


def test_a_logged_in_coordinator_can_try_the_public_form(client: TestClient) -> None:
    add_people(client)
    log_in(client, "coord")
    del client.headers["X-CSRF-Token"]  # a browser sends only what the form holds
    html = answer(client, LIKELY)
    assert 'name="csrf_token"' in html
    assert "You may be eligible" in html


def test_posts_without_a_signed_token_are_refused(client: TestClient) -> None:
    for token in ("", "forged.token.value"):
        response = client.post("/prescreen", data={**LIKELY, "token": token})
        assert response.status_code == 400
        assert "could not be checked" in response.text


def test_a_contact_token_works_once(client: TestClient) -> None:
    token = token_of(answer(client, LIKELY))
    data = {**LIKELY, **CONTACT, "consent": "yes", "token": token}
    assert client.post("/prescreen/contact", data=data).status_code == 200
    assert client.post("/prescreen/contact", data=data).status_code == 400
    assert len(contacts(client)) == 1


def test_a_post_from_another_site_is_refused(client: TestClient) -> None:
    token = token_of(client.get("/").text)
    response = client.post(
        "/prescreen",
        data={**LIKELY, "token": token},
        headers={"origin": "https://elsewhere.example"},
    )
    assert response.status_code == 403


def test_too_many_posts_from_one_address_are_slowed_down(client: TestClient) -> None:
    guards = client.app.state.public_guards  # type: ignore[attr-defined]
    codes = []
    for _ in range(guards.answers.limit + 1):
        token = token_of(client.get("/").text)
        codes.append(client.post("/prescreen", data={**LIKELY, "token": token}).status_code)
    assert codes[:-1] == [200] * guards.answers.limit
    assert codes[-1] == 429


class _Labels(HTMLParser):
    """Inputs that a screen reader could not name, and radios outside a fieldset."""

    def __init__(self) -> None:
        super().__init__()
        self.label_for: set[str] = set()
        self.inputs: list[tuple[str, str | None, bool]] = []
        self.open_labels = 0
        self.open_fieldsets = 0
        self.radios_outside_fieldset: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "label":
            self.open_labels += 1
            if values.get("for"):
                self.label_for.add(str(values["for"]))
        elif tag == "fieldset":
            self.open_fieldsets += 1
        elif tag == "input" and values.get("type") != "hidden":
            self.inputs.append((str(values.get("name")), values.get("id"), self.open_labels > 0))
            if values.get("type") == "radio" and not self.open_fieldsets:
                self.radios_outside_fieldset.append(str(values.get("name")))

    def handle_endtag(self, tag: str) -> None:
        if tag == "label":
            self.open_labels -= 1
        elif tag == "fieldset":
            self.open_fieldsets -= 1

    @property
    def unlabelled(self) -> list[str]:
        return [
            name
            for name, ident, wrapped in self.inputs
            if not wrapped and (ident is None or ident not in self.label_for)
        ]
