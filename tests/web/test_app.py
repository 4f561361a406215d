"""The trial desk web app: protocol page and API, health, OpenAPI; SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from trialdesk.cli import run
from trialdesk.protocol import builtin_protocol
from trialdesk.store.engine import make_engine
from trialdesk.web.app import create_app


@pytest.fixture
def client(database_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(database_url=database_url)) as test_client:
        yield test_client


def test_protocol_page_shows_the_protocol_a_newcomer_will_run(client: TestClient) -> None:
    page = client.get("/protocol?lang=en")
    assert page.status_code == 200
    html = page.text
    assert "NCT06021067" in html
    # NCT06021067.md: starting dose 3.3×10^5 cells/kg; ×3 per level; for the 60 kg reference
    # weight the three levels are 2.0×10^7, 6.0×10^7 and 1.8×10^8 cells per infusion.
    for dose in ("2.0×10<sup>7</sup>", "6.0×10<sup>7</sup>", "1.8×10<sup>8</sup>"):
        assert dose in html or dose.replace("<sup>", "^").replace("</sup>", "") in html
    for criterion in ("I1", "I8", "E1", "E15"):
        assert f'<span class="cid">{criterion}</span>' in html
    assert "Inclusion criteria" in html and "Exclusion criteria" in html


def test_protocol_page_speaks_simplified_chinese(client: TestClient) -> None:
    html = client.get("/protocol", headers={"accept-language": "zh-CN,zh;q=0.9"}).text
    assert 'lang="zh-Hans"' in html
    assert "入选标准" in html and "排除标准" in html
    criterion = next(c for c in builtin_protocol().protocol.criteria if c.id == "I8")
    assert criterion.text.zh in html


def test_protocol_page_doses_follow_the_weight_asked_for(client: TestClient) -> None:
    html = client.get("/protocol?weight=70").text
    # 3.3×10^5 cells/kg × 70 kg = 2.31×10^7, shown to 2 significant figures.
    assert "2.3×10" in html
    assert "70 kg" in html


def test_impossible_weight_is_a_clear_400(client: TestClient) -> None:
    response = client.get("/api/protocol", params={"weight": -5})
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["field"] == "weight_kg"
    assert "not a possible body weight" in body["detail"]


def test_protocol_api_returns_the_exact_protocol_and_its_hash(client: TestClient) -> None:
    body = client.get("/api/protocol").json()
    builtin = builtin_protocol()
    assert body["id"] == "NCT06021067"
    assert body["sha256"] == builtin.sha256
    assert [d["amount"] for d in body["protocol"]["doses"]] == [3.3e5, 1.0e6, 3.0e6]
    assert body["protocol"]["max_sample_size"] == 15
    assert body["summary"]["weight_kg"] == 60


def test_healthz_reports_the_database(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["database"] == "ok"
    assert response.json()["protocol"] == "NCT06021067"


def test_openapi_documents_the_api(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert "/api/protocol" in paths and "/healthz" in paths


def test_starting_twice_records_the_protocol_version_once(database_url: str) -> None:
    for _ in range(2):
        with TestClient(create_app(database_url=database_url)):
            pass
    engine = make_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT sha256, yaml_text FROM protocol_versions")
            ).all()
    finally:
        engine.dispose()
    assert len(rows) == 1
    assert rows[0].sha256 == builtin_protocol().sha256
    assert rows[0].yaml_text == builtin_protocol().text


def test_serve_refuses_a_malformed_protocol_before_starting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("id: X\ndoses: [1, 2\n", encoding="utf-8")
    assert run(["serve", "--protocol", str(broken)]) == 2
    assert "broken.yaml" in capsys.readouterr().err
