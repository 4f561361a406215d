"""The safety report page of the desk (/desk/reports/safety and .pdf): who may see it, that it
carries the trial's numbers as the database has them, and that a bad cut-off is refused with
what was typed."""

from __future__ import annotations

import html
import io
import re
from collections.abc import Iterator

import pytest
from desk_seed import clock_of, enrolled_patient, give_infusion
from fastapi.testclient import TestClient
from pypdf import PdfReader
from web_accounts import add_people, as_user, log_in, manual_clock

from trialdesk.trial.roles import MATRIX, Action, Permission, Role
from trialdesk.web.app import create_app

REPORT = "/desk/reports/safety"


@pytest.fixture
def coord(database_url: str) -> Iterator[TestClient]:
    """A coordinator's client on a desk with two patients at level 1: three infusions given."""
    with TestClient(create_app(database_url=database_url)) as client:
        add_people(client)
        manual_clock(client)
        first = enrolled_patient(client, "ward 1")
        enrolled_patient(client, "ward 2")
        clock_of(client).advance(days=3)
        give_infusion(client, first, 2)
        log_in(client, "coord")
        yield client


def cell(text: str, attribute: str) -> str:
    """The text of the first table cell carrying ``attribute`` (e.g. data-key="enrolled")."""
    found = re.search(rf"<td[^>]*{re.escape(attribute)}[^>]*>([^<]*)</td>", text)
    assert found is not None, attribute
    return found.group(1).strip()


def level_row(text: str, level: int) -> str:
    found = re.search(rf'<tr data-level="{level}">(.*?)</tr>', text, re.S)
    assert found is not None
    return found.group(1)


@pytest.mark.parametrize("username", ["dr.li", "board"])
def test_investigator_and_dsmb_see_the_numbers_of_the_database(
    coord: TestClient, username: str
) -> None:
    page = as_user(coord, username).get(REPORT)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    text = page.text
    assert cell(text, 'data-key="enrolled"') == "2"
    level_1 = level_row(text, 1)
    assert cell(level_1, 'data-col="enrolled"') == "2"
    assert cell(level_1, 'data-col="infusions"') == "3"  # 1 + 1 on day 0, 1 more on day 3
    assert '<dd class="cutoff" id="cutoff">2026-03-13</dd>' in text  # today on the manual clock
    assert 'href="/desk">' in text  # the bar back to the desk


def test_the_cutoff_leaves_out_what_came_after_it_and_chinese_is_offered(
    coord: TestClient,
) -> None:
    text = coord.get(REPORT, params={"cutoff": "2026-03-10", "lang": "zh"}).text
    assert '<html lang="zh-Hans">' in text
    assert "数据截止日期" in text
    assert cell(level_row(text, 1), 'data-col="infusions"') == "2"
    assert f'href="{REPORT}.pdf?cutoff=2026-03-10&amp;lang=zh"' in text


def test_the_dashboard_links_to_the_report(coord: TestClient) -> None:
    assert f'href="{REPORT}"' in coord.get("/desk").text


def test_anonymous_visitor_is_sent_to_the_login_page(database_url: str) -> None:
    with TestClient(create_app(database_url=database_url)) as client:
        for path in (REPORT, f"{REPORT}.pdf"):
            response = client.get(path, params={"cutoff": "2026-03-10"}, follow_redirects=False)
            assert response.status_code == 303
            assert response.headers["location"].startswith("/login?next=%2Fdesk%2Freports%2Fsafety")


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("10/03/2026", "'10/03/2026' is not a date; write the data cut-off as YYYY-MM-DD"),
        ("2026-03-14", "2026-03-14 is after today (2026-03-13)"),
    ],
)
def test_a_bad_cutoff_is_a_400_page_with_the_message_and_the_typed_value(
    coord: TestClient, typed: str, message: str
) -> None:
    for path in (REPORT, f"{REPORT}.pdf"):
        response = coord.get(path, params={"cutoff": typed})
        assert response.status_code == 400
        assert response.headers["content-type"].startswith("text/html")
        assert message in html.unescape(response.text)
        assert f'value="{typed}"' in response.text


def test_a_role_the_matrix_refuses_gets_a_403_page(
    coord: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(
        MATRIX,
        Action.READ_SAFETY_SUMMARY,
        Permission(frozenset({Role.INVESTIGATOR}), "read the aggregate safety summary"),
    )
    for path in (REPORT, f"{REPORT}.pdf"):
        refused = coord.get(path)
        assert refused.status_code == 403
        assert "may read the aggregate safety summary" in refused.text
        assert '<dd class="cutoff"' not in refused.text
    assert f'href="{REPORT}"' not in coord.get("/desk").text


def test_pdf_is_the_same_report_printed(coord: TestClient) -> None:
    response = coord.get(f"{REPORT}.pdf", params={"cutoff": "2026-03-13"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "safety-report-" in response.headers["content-disposition"]
    assert "2026-03-13" in response.headers["content-disposition"]
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    assert "DSMB safety report" in text
    assert "2026-03-13" in text
