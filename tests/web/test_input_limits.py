"""Oversized bodies, wrong content types and values no field can hold: refused with a 4xx that
says what to send instead, and nothing stored (trialdesk.web.input_guards)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from trialdesk.store.models import Participant
from trialdesk.store.session import unit_of_work
from trialdesk.web.input_guards import MAX_BODY_BYTES, MAX_SCREENING_BODY_BYTES, MIB

JSON = {"Content-Type": "application/json"}


def participants(client: TestClient) -> int:
    with unit_of_work(client.app.state.runtime.engine) as session:  # type: ignore[attr-defined]
        return session.scalar(select(func.count()).select_from(Participant)) or 0


def problem_of(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    return body


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body sent without Content-Length (chunked), ``total`` bytes of JSON-ish text."""
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        yield b" " * piece
        sent += piece


def test_the_limits_leave_room_for_a_whole_screening_input() -> None:
    # trialdesk.trial.screening.MAX_INPUT_CHARS is 5,000,000 characters of up to 4 UTF-8 bytes.
    assert MAX_BODY_BYTES == MIB
    assert MAX_SCREENING_BODY_BYTES >= 4 * 5_000_000


def test_a_json_body_over_the_limit_is_refused_413_and_nothing_is_stored(
    coord: TestClient,
) -> None:
    note = "x" * MAX_BODY_BYTES
    response = coord.post("/api/participants", json={"contact_note": note})
    problem = problem_of(response, 413)
    assert problem["field"] == "body"
    assert "larger than 1 MiB" in problem["detail"]
    assert participants(coord) == 0
    # Just under the limit is an ordinary request.
    fits = coord.post("/api/participants", json={"contact_note": "x" * (MAX_BODY_BYTES - 100)})
    assert fits.status_code == 201, fits.text[:200]


def test_a_chunked_body_over_the_limit_is_refused_while_it_is_read(coord: TestClient) -> None:
    response = coord.post("/api/participants", content=chunks(MAX_BODY_BYTES + 1), headers=JSON)
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert problem_of(response, 413)["field"] == "body"
    assert participants(coord) == 0


def test_a_desk_form_over_the_limit_is_refused_before_the_csrf_check_reads_it(
    coord: TestClient,
) -> None:
    response = coord.post(
        "/desk/participants",
        data={"contact_note": "x" * MAX_BODY_BYTES, "csrf_token": coord.headers["X-CSRF-Token"]},
    )
    assert "larger than 1 MiB" in problem_of(response, 413)["detail"]
    assert participants(coord) == 0


def test_a_screening_input_may_be_larger_than_the_general_limit(coord: TestClient) -> None:
    # 2 MiB of YAML is refused for what it says, not for its size.
    padding = "# " + "x" * 78 + "\n"
    body = (padding * (2 * MIB // len(padding))).encode()
    response = coord.post(
        "/api/screenings", content=body, headers={"Content-Type": "application/yaml"}
    )
    assert response.status_code == 400, response.text[:300]
    oversized = coord.post(
        "/api/screenings",
        content=b"{}",
        headers={"Content-Type": "application/json", "Content-Length": str(10**9)},
    )
    assert problem_of(oversized, 413)["field"] == "body"


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", b'{"contact_note": "clinic"}'),
        ("application/x-www-form-urlencoded", b"contact_note=clinic"),
        ("multipart/form-data; boundary=b", b'--b\r\nContent-Disposition: form-data; name="a"'),
        ("application/xml", b"<contact_note>clinic</contact_note>"),
    ],
)
def test_a_json_route_sent_another_media_type_answers_415(
    coord: TestClient, content_type: str, body: bytes
) -> None:
    response = coord.post("/api/participants", content=body, headers={"Content-Type": content_type})
    problem = problem_of(response, 415)
    assert problem["field"] == "content-type"
    assert "application/json" in problem["detail"]
    assert content_type.split(";")[0] in problem["detail"]
    assert participants(coord) == 0


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        (b'{"contact_note": "a\\u0000b"}', "body.contact_note", "NUL character"),
        (b'{"contact_note": "x", "sex": NaN}', "body.sex", "finite number"),
        (b'{"screening_id": 99999999999999999999}', "body.screening_id", "out of range"),
        (b'{"contact_note": "clinic"', "body", "is not JSON"),
        (b'{"contact_note": "\xff"}', "body", "not UTF-8"),
        (b"[" * 5000 + b"]" * 5000, "body", "nested too deeply"),
    ],
)
def test_values_no_field_can_hold_are_refused_naming_the_field(
    coord: TestClient, body: bytes, field: str, says: str
) -> None:
    response = coord.post("/api/participants", content=body, headers=JSON)
    problem = problem_of(response, 400)
    assert problem["field"] == field
    assert says in problem["detail"]
    assert participants(coord) == 0


@pytest.mark.parametrize(
    "url",
    [
        "/api/participants/99999999999999999999",
        "/api/participants?cursor=-99999999999999999999",
        "/api/screenings?cursor=9223372036854775808",
    ],
)
def test_an_integer_beyond_64_bits_in_the_url_is_named(coord: TestClient, url: str) -> None:
    problem = problem_of(coord.get(url), 400)
    assert "out of range" in problem["detail"]
    assert problem["field"] in ("participant_id", "cursor")


def test_a_page_url_with_an_integer_beyond_64_bits_is_refused_not_a_crash(
    coord: TestClient,
) -> None:
    problem = problem_of(coord.get("/desk/participants/99999999999999999999"), 400)
    assert "out of range" in problem["detail"]


def test_a_screening_nested_thousands_deep_is_refused(coord: TestClient) -> None:
    response = coord.post("/api/screenings", content=b"[" * 5000 + b"]" * 5000, headers=JSON)
    assert "nested too deeply" in problem_of(response, 400)["detail"]


def test_validation_outside_the_api_routers_is_problem_json_naming_the_field(
    coord: TestClient,
) -> None:
    problem = problem_of(coord.get("/api/protocol", params={"weight": "heavy"}), 422)
    assert problem["field"] == "weight"
    assert problem["detail"].startswith("weight: ")
