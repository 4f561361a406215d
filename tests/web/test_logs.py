"""Logs: one JSON access line per request with method, path, status, duration and request id,
and no participant data anywhere in the logs (names, phone numbers, contact notes, birth dates,
free text, query strings, passwords), even when a request fails with a traceback."""

from __future__ import annotations

import io
import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from desk_seed import clock_of, enrolled_patient
from fastapi.testclient import TestClient
from public_form import LIKELY, token_of
from web_accounts import PASSWORD, desk_client, log_in

from trialdesk.logs import JsonFormatter, configure_logging, safe_exception_text
from trialdesk.web.access_log import ACCESS_LOGGER
from trialdesk.web.app import create_app

# Everything below is personal data a participant or a member of the public typed.
NAME = "Zhang Weiming"
PHONE = "+86 138 0000 4321"
NOTE = "call Ms Zhang-secretnote at home after six"
BIRTH = "1961-05-04"
ACTION = "grade misread, oxygen-freetext given at bedside"
QUERY = "Weiming-query"
SECRETS = (NAME, PHONE, NOTE, BIRTH, ACTION, QUERY, PASSWORD, "Zhang")

ACCESS_FIELDS = {"time", "level", "logger", "message", "event", "method", "path", "status"} | {
    "duration_ms",
    "request_id",
}


@pytest.fixture
def desk(database_url: str) -> Iterator[TestClient]:
    with desk_client(database_url) as client:
        yield client


def as_json(record: logging.LogRecord) -> dict[str, Any]:
    line = JsonFormatter().format(record)
    assert "\n" not in line, "one record, one line"
    parsed: dict[str, Any] = json.loads(line)
    return parsed


def server_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """What the desk logged; httpx is the test's own client (its log names full URLs)."""
    return [r for r in caplog.records if not r.name.startswith("httpx")]


def test_a_flow_with_participant_data_logs_one_json_line_per_request_and_no_personal_data(
    desk: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    sent: list[tuple[str, str]] = []

    def call(method: str, url: str, status: int, **kwargs: Any) -> Any:
        response = desk.request(method, url, **kwargs)
        assert response.status_code == status, response.text
        sent.append((method, url.split("?")[0]))
        return response

    # The public pre-screening page: answers, then a contact request with name and phone.
    page = call("GET", "/?lang=en", 200)
    result = call("POST", "/prescreen", 200, data={**LIKELY, "token": token_of(page.text)})
    contact = {"name": NAME, "phone": PHONE, "preferred_language": "zh", "consent": "yes"}
    thanks = call(
        "POST",
        "/prescreen/contact",
        200,
        data={**LIKELY, **contact, "token": token_of(result.text), "lang": "en"},
    )
    assert NAME in thanks.text  # the data really went through the desk
    # Staff: log in (password in the body), a contact with a note and a birth date.
    log_in(desk, "coord")  # asserts 200
    sent.append(("POST", "/api/session"))
    call(
        "POST",
        "/api/participants",
        201,
        json={"contact_note": NOTE, "birth_date": BIRTH, "sex": "female"},
    )
    # A refused body: the problem names the field in the response, never in the log.
    call("POST", "/api/participants", 400, json={"contact_note": NOTE, "birth_date": NAME})
    # An adverse event with free text, and a term search whose query string is a name.
    pid = enrolled_patient(desk)
    onset = clock_of(desk).today().isoformat()
    event = call(
        "POST",
        f"/api/participants/{pid}/adverse-events",
        201,
        json={
            "term": "Fatigue",
            "grade": 1,
            "onset_date": onset,
            "attribution_hdmsc": "unlikely",
            "attribution_standard": "unrelated",
        },
    ).json()
    call(
        "PATCH",
        f"/api/adverse-events/{event['id']}",
        200,
        json={"version": event["version"], "changes": {"grade": 2}, "reason": ACTION},
    )
    call("GET", f"/desk/ctcae?q={QUERY}", 200)
    call("GET", f"/api/participants?limit=5&name={QUERY}", 200)

    records = server_records(caplog)
    assert records, "the desk logged something"
    for record in records:
        line = JsonFormatter().format(record)
        for secret in SECRETS:
            assert secret not in line, f"{secret!r} leaked into the log: {line}"
    access = [as_json(r) for r in records if r.name == ACCESS_LOGGER]
    assert [(a["method"], a["path"]) for a in access] == sent
    for entry in access:
        assert entry.keys() >= ACCESS_FIELDS
        assert entry["event"] == "request" and "?" not in entry["path"]
        assert isinstance(entry["duration_ms"], float) and entry["duration_ms"] >= 0
        assert re.fullmatch(r"[0-9a-f]{32}", entry["request_id"])
        assert entry["time"].endswith("+00:00")
    assert [a["status"] for a in access][:3] == [200, 200, 200]
    assert len({a["request_id"] for a in access}) == len(access), "one id per request"


def test_the_request_id_is_sent_back_and_a_callers_id_is_kept_if_it_looks_like_one(
    desk: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger=ACCESS_LOGGER)
    given = desk.get("/healthz", headers={"X-Request-ID": "nginx-7f3a"})
    assert given.headers["X-Request-ID"] == "nginx-7f3a"
    odd = desk.get("/healthz", headers={"X-Request-ID": f"{NAME} <script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["X-Request-ID"])
    ids = [as_json(r)["request_id"] for r in server_records(caplog)]
    assert ids == ["nginx-7f3a", odd.headers["X-Request-ID"]]


def test_an_unhandled_error_is_logged_once_with_its_traceback_but_not_its_sql_parameters(
    database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(database_url=database_url)

    def broken() -> None:
        with app.state.runtime.engine.connect() as connection:
            connection.execute(
                sa.text("SELECT no_such_column FROM users WHERE username = :n"), {"n": NAME}
            )

    app.add_api_route("/broken", broken)
    caplog.set_level(logging.INFO)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get(f"/broken?name={QUERY}")
    assert response.status_code == 500
    lines = [JsonFormatter().format(r) for r in server_records(caplog)]
    for line in lines:
        assert NAME not in line and QUERY not in line
    errors = [as_json(r) for r in server_records(caplog) if r.levelno >= logging.ERROR]
    unhandled = [e for e in errors if e.get("event") == "unhandled_exception"]
    assert len(unhandled) == 1
    assert unhandled[0]["path"] == "/broken" and unhandled[0]["status"] == 500
    assert "Traceback (most recent call last)" in unhandled[0]["exception"]
    assert "no_such_column" in unhandled[0]["exception"]  # the statement stays, for debugging
    assert "in broken" in unhandled[0]["exception"]


def test_pydantic_input_values_are_hidden_in_tracebacks() -> None:
    from pydantic import BaseModel, ValidationError

    class Contact(BaseModel):
        birth_date: int

    try:
        Contact.model_validate({"birth_date": NAME})
    except ValidationError as exc:
        text = safe_exception_text(exc)
    assert "birth_date" in text and "int_parsing" in text
    assert NAME not in text and "input_value=<hidden>" in text


@pytest.fixture
def restore_logging() -> Iterator[None]:
    """configure_logging changes process-wide loggers: put them back for the next test."""
    names = ("", "uvicorn", "uvicorn.error", "uvicorn.access")
    loggers = [logging.getLogger(name) for name in names]
    saved = [
        (list(lg.handlers), list(lg.filters), lg.level, lg.propagate, lg.disabled) for lg in loggers
    ]
    try:
        yield
    finally:
        for lg, (handlers, filters, level, propagate, disabled) in zip(loggers, saved, strict=True):
            lg.handlers[:] = handlers
            lg.filters[:] = filters
            lg.setLevel(level)
            lg.propagate, lg.disabled = propagate, disabled


@pytest.mark.usefixtures("restore_logging")
def test_configure_logging_writes_json_lines_or_text_and_silences_uvicorns_access_log(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stream = io.StringIO()
    monkeypatch.setattr("sys.stderr", stream)
    configure_logging("json", "info")
    logging.getLogger("trialdesk.test").info("hello %s", "there", extra={"status": 204})
    logging.getLogger("uvicorn.access").info('127.0.0.1 - "GET /?q=%s HTTP/1.1" 200', NAME)
    logging.getLogger("trialdesk.test").debug("below the level")
    try:
        raise RuntimeError("boom")
    except RuntimeError:
        # uvicorn's own report (uvicorn/protocols/http/h11_impl.py); trialdesk.access has one.
        logging.getLogger("uvicorn.error").exception("Exception in ASGI application\n")
    [line] = stream.getvalue().splitlines()
    parsed = json.loads(line)
    assert parsed["message"] == "hello there" and parsed["status"] == 204
    assert parsed["level"] == "info" and parsed["logger"] == "trialdesk.test"

    stream.truncate(0)
    stream.seek(0)
    configure_logging("text", "debug")
    logging.getLogger("trialdesk.test").debug("plain")
    assert re.fullmatch(r"\S+ DEBUG trialdesk.test: plain\n", stream.getvalue())


def test_an_unknown_log_format_is_refused() -> None:
    from trialdesk.errors import TrialdeskError

    with pytest.raises(TrialdeskError, match="json, text"):
        configure_logging("xml")
