"""Security headers on every kind of response, and the cookies' attributes.

Header values are those of OWASP's Secure Headers Project and MDN's pages on each header
(Content-Security-Policy frame-ancestors, X-Frame-Options DENY, X-Content-Type-Options nosniff);
cookie attributes as RFC 6265 section 4.1 and the SameSite draft spell them.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware
from web_accounts import PASSWORD, desk_client, log_in

from trialdesk.web.auth import SESSION_COOKIE
from trialdesk.web.login import LOGIN_CSRF_COOKIE
from trialdesk.web.pages_common import LANG_COOKIE


@pytest.fixture
def client(sqlite_database_url: str) -> Iterator[TestClient]:
    with desk_client(sqlite_database_url) as opened:
        yield opened


def directives(policy: str) -> dict[str, list[str]]:
    parts = (part.split() for part in policy.split(";") if part.strip())
    return {words[0]: words[1:] for words in parts}


def assert_secured(response: object, what: str) -> dict[str, list[str]]:
    headers = response.headers  # type: ignore[attr-defined]
    assert headers.get("x-frame-options") == "DENY", what
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("referrer-policy") == "same-origin", what
    assert "camera=()" in headers.get("permissions-policy", ""), what
    policy = directives(headers.get("content-security-policy", ""))
    assert policy.get("default-src") == ["'self'"], what
    assert policy.get("frame-ancestors") == ["'none'"], what
    assert policy.get("object-src") == ["'none'"], what
    assert "'unsafe-inline'" not in policy.get("script-src", []), what
    return policy


def test_every_kind_of_response_carries_the_headers(client: TestClient) -> None:
    anonymous = {
        "public page": client.get("/"),
        "protocol page": client.get("/protocol"),
        "login page": client.get("/login"),
        "JSON": client.get("/api/protocol"),
        "static file": client.get("/static/desk.js"),
        "not found": client.get("/no/such/page"),
        "login redirect": client.get("/desk", follow_redirects=False),
        "401 problem": client.get("/api/status"),
        "422 problem": client.post("/api/session", json={}),
        "public form refusal": client.post("/prescreen", data={}),
    }
    log_in(client, "mon")
    signed_in = {
        "desk page": client.get("/desk"),
        "403 problem": client.post("/api/participants", json={}),
        "403 page": client.post("/desk/participants", data={}),
        "CSRF refusal": client.post(
            "/api/participants", json={}, headers={"X-CSRF-Token": "stale"}
        ),
    }
    for what, response in {**anonymous, **signed_in}.items():
        policy = assert_secured(response, what)
        assert policy["script-src"] == ["'self'"], what
        assert policy["style-src"] == ["'self'"], what
    assert anonymous["not found"].status_code == 404
    assert signed_in["CSRF refusal"].status_code == 403


def test_an_unexpected_error_answers_500_with_the_headers(client: TestClient) -> None:
    def broken() -> None:
        raise RuntimeError("a bug")

    client.app.add_api_route("/test-broken", broken)  # type: ignore[attr-defined]
    answering = TestClient(client.app, raise_server_exceptions=False)
    response = answering.get("/test-broken")
    assert response.status_code == 500 and response.text == "Internal Server Error"
    assert_secured(response, "500")


def test_https_responses_ask_for_https_from_then_on(client: TestClient) -> None:
    assert "strict-transport-security" not in client.get("/").headers
    secure = TestClient(client.app, base_url="https://desk.example.org")
    assert secure.get("/").headers["strict-transport-security"].startswith("max-age=")


def test_the_safety_report_may_use_its_own_inline_styles_only(client: TestClient) -> None:
    log_in(client, "board")
    response = client.get("/desk/reports/safety")
    assert response.status_code == 200
    assert "<style>" in response.text
    policy = assert_secured(response, "safety report")
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["script-src"] == ["'self'"]


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
def test_the_api_docs_allow_exactly_their_own_inline_scripts(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    policy = assert_secured(response, path)
    inline = re.findall(r"<script>(.*?)</script>", response.text, re.DOTALL)
    wanted = [
        f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in inline
    ]
    assert policy["script-src"] == ["'self'", *wanted]
    assert len(wanted) == (0 if path == "/redoc" else 1)


# --- Cookies -------------------------------------------------------------------------------


def cookie(response: object, name: str) -> dict[str, str]:
    """The attributes of the Set-Cookie header for ``name`` (lower-case keys; '' for flags)."""
    for header in response.headers.get_list("set-cookie"):  # type: ignore[attr-defined]
        first, *attributes = [part.strip() for part in header.split(";")]
        if first.split("=", 1)[0] == name:
            found = {"value": first.split("=", 1)[1]}
            for attribute in attributes:
                key, _, value = attribute.partition("=")
                found[key.lower()] = value.lower()
            return found
    raise AssertionError(f"no Set-Cookie for {name}")


def the_cookies(client: TestClient) -> dict[str, dict[str, str]]:
    """Each cookie the desk sets, as ``client`` (its base URL decides http or https) gets it."""
    login_page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', login_page.text)
    assert token is not None
    form_cookie = cookie(login_page, LOGIN_CSRF_COOKIE)["value"]
    client.cookies.clear()  # sent by hand: a Secure cookie does not go back over plain http
    logged_in = client.post(
        "/login",
        data={"username": "coord", "password": PASSWORD, "csrf_token": token.group(1)},
        headers={"Cookie": f"{LOGIN_CSRF_COOKIE}={form_cookie}"},
        follow_redirects=False,
    )
    assert logged_in.status_code == 303, logged_in.text
    client.cookies.clear()  # a post with a live session cookie would need its CSRF token
    api_login = client.post("/api/session", json={"username": "coord", "password": PASSWORD})
    assert api_login.status_code == 200, api_login.text
    client.cookies.set(SESSION_COOKIE, cookie(api_login, SESSION_COOKIE)["value"])
    return {
        "login form": cookie(login_page, LOGIN_CSRF_COOKIE),
        "session (login page)": cookie(logged_in, SESSION_COOKIE),
        "session (API)": cookie(api_login, SESSION_COOKIE),
        "language": cookie(client.get("/desk?lang=zh"), LANG_COOKIE),
    }


def test_every_cookie_is_httponly_and_samesite(client: TestClient) -> None:
    for name, attributes in the_cookies(client).items():
        assert "httponly" in attributes, name
        assert attributes.get("samesite") == "lax", name
        assert attributes.get("path") in {"/", "/login"}, name
        # Plain http to this machine (the TestClient's host): a Secure cookie would be lost.
        assert "secure" not in attributes, name


def test_desk_js_reads_no_cookie() -> None:
    """HttpOnly is safe for every cookie: the desk's script takes the CSRF token from the form."""
    from importlib import resources

    script = resources.files("trialdesk.web").joinpath("static", "desk.js").read_text("utf-8")
    assert "document.cookie" not in script


@pytest.mark.parametrize(
    "base_url", ["https://testserver", "http://desk.example.org", "http://10.0.0.5:8000"]
)
def test_cookies_are_secure_over_https_and_to_any_other_host(
    client: TestClient, base_url: str
) -> None:
    other = TestClient(client.app, base_url=base_url)
    for name, attributes in the_cookies(other).items():
        assert "secure" in attributes, (base_url, name)


def test_a_forwarded_https_counts_only_from_a_trusted_proxy(client: TestClient) -> None:
    """Behind a TLS proxy on this machine uvicorn (proxy_headers, forwarded_allow_ips) turns
    X-Forwarded-Proto into the request's scheme; from anyone else the header is ignored."""
    forwarded = {"X-Forwarded-Proto": "https"}
    for trusted, secure in ((["testclient"], True), (["127.0.0.1"], False)):
        proxy: Any = ProxyHeadersMiddleware(client.app, trusted_hosts=trusted)  # type: ignore[arg-type]
        proxied = TestClient(proxy)
        answer = proxied.post(
            "/api/session", json={"username": "coord", "password": PASSWORD}, headers=forwarded
        )
        assert answer.status_code == 200
        assert ("secure" in cookie(answer, SESSION_COOKIE)) is secure, trusted


def test_pages_never_send_a_host_name_taken_from_the_request(client: TestClient) -> None:
    """A forged Host header (OWASP WSTG-INPV-17, host header injection) must not end up in a
    page, where it would load the style sheets and scripts from the forger's server."""
    forged = {"Host": "attacker.example"}
    public = client.get("/", headers=forged)
    login = client.get("/login", headers=forged)
    log_in(client, "coord")
    desk = client.get("/desk", headers=forged)
    for name, page in {"public page": public, "login page": login, "dashboard": desk}.items():
        assert page.status_code == 200, name
        assert "/static/" in page.text, name
        assert "attacker.example" not in page.text, name
