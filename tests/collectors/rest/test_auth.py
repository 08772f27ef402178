"""Token auth through real httpx against a fake token endpoint: refresh once on a 401."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from clausewatch.collectors.rest.auth import OAuth2FormAuth, Token, TokenAuth
from clausewatch.collectors.rest.errors import GaveUp, TokenError
from clausewatch.collectors.rest.mapper import collection_error
from clausewatch.core.redact import Redactor

SECRET = "s3cret-client-value"


class TokenEndpoint:
    """Issues tok-1, tok-2, ... and says which token the API currently accepts."""

    def __init__(self, server) -> None:
        self.issued: list[str] = []
        self.forms: list[dict[str, list[str]]] = []
        self.revoked: set[str] = set()
        server.script("POST /oauth2/token", {"check": self.issue})

    def issue(self, seen):
        self.forms.append(parse_qs(seen.body.decode()))
        self.issued.append(f"tok-{len(self.issued) + 1}-abcdef")
        return _reply({"token_type": "Bearer", "access_token": self.issued[-1],
                       "expires_in": 3599})

    def api(self, seen):
        token = seen.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.issued or token in self.revoked:
            return _reply({"error": {"code": "Unauthorized", "message": "token expired"}}, 401)
        return _reply({"value": [{"id": "m1"}]})


def _reply(body, status=200):
    return {"status": status, "body": body}


def auth(server, clock) -> OAuth2FormAuth:
    return OAuth2FormAuth.client_credentials(f"{server.base}/oauth2/token", "client-id-1",
                                             SECRET, scope="https://api.example/.default",
                                             clock=clock)


def test_a_401_refreshes_the_token_once_then_succeeds(server, clock, make_session):
    tokens = TokenEndpoint(server)
    server.script("GET /api/machines", {"check": tokens.api})
    redactor = Redactor()
    flow = auth(server, clock)
    session = make_session(redactor, auth=flow)
    assert session.get_json("machines") == {"value": [{"id": "m1"}]}
    tokens.revoked.add(tokens.issued[0])  # the API stops accepting the first token
    assert session.get_json("machines") == {"value": [{"id": "m1"}]}
    sent = [r.headers["Authorization"] for r in server.seen("/api/machines")]
    assert sent == ["Bearer tok-1-abcdef", "Bearer tok-1-abcdef", "Bearer tok-2-abcdef"]
    assert flow.fetches == 2
    form = tokens.forms[0]
    assert form["grant_type"] == ["client_credentials"]
    assert form["client_secret"] == [SECRET]
    assert form["scope"] == ["https://api.example/.default"]
    # the credential and every token obtained are masked from now on
    assert {SECRET, "tok-1-abcdef", "tok-2-abcdef"} <= set(redactor.known)
    token_call = server.seen("/oauth2/token")[0]
    assert token_call.headers["User-Agent"].startswith("clausewatch/")


def test_a_second_401_fails_after_one_refresh(server, clock, make_session):
    tokens = TokenEndpoint(server)
    server.script("GET /api/machines", {"status": 401, "body": {
        "error": {"code": "Unauthorized", "message": "missing role Machine.Read.All"}}})
    redactor = Redactor()
    session = make_session(redactor, auth=auth(server, clock))
    with pytest.raises(httpx.HTTPStatusError) as info:
        session.get_json("machines")
    assert info.value.response.status_code == 401
    assert len(tokens.issued) == 2  # first token, one refresh, no more
    assert len(server.seen("/api/machines")) == 2  # not retried by the retry policy either
    error = collection_error(info.value, source="defender", origin="defender/t1",
                             kinds=("asset",), operation="machines", redact=redactor)
    assert "HTTP 401 authentication refused" in error.message
    assert "missing role Machine.Read.All" in error.message
    assert not error.retryable


def test_the_token_is_refreshed_before_it_expires(server, clock, make_session):
    tokens = TokenEndpoint(server)
    server.script("GET /api/machines", {"check": tokens.api})
    flow = auth(server, clock)
    session = make_session(auth=flow)
    session.get_json("machines")
    clock.t += 3599 - 30  # within the 60 s refresh margin
    session.get_json("machines")
    assert flow.fetches == 2
    assert all(r.headers["Authorization"] != "Bearer tok-1-abcdef"
               for r in server.seen("/api/machines")[1:])
    assert tokens.revoked == set()  # no 401 was needed


def test_a_refused_credential_raises_a_token_error_naming_the_oauth_code(server, clock,
                                                                         make_session):
    server.script("POST /oauth2/token", {"status": 401, "body": {
        "error": "invalid_client",
        "error_description": f"AADSTS7000215: Invalid client secret provided ({SECRET})"}})
    redactor = Redactor()
    session = make_session(redactor, auth=auth(server, clock))
    with pytest.raises(TokenError) as info:
        session.get_json("machines")
    assert info.value.status == 401
    assert server.seen("/api/machines") == []
    error = collection_error(info.value, source="defender", origin="defender/t1",
                             kinds=("asset", "patch"), operation="machines", redact=redactor)
    assert "token endpoint refused: HTTP 401 invalid_client" in error.message
    assert "AADSTS7000215" in error.message
    assert SECRET not in error.message and SECRET not in str(error.details)
    assert not error.retryable


def test_a_token_endpoint_outage_is_retried_then_gives_up(server, clock, make_session):
    server.script("POST /oauth2/token",
                  {"status": 503, "body": {"error": "temporarily_unavailable"}})
    session = make_session(auth=auth(server, clock), attempts=3)
    with pytest.raises(GaveUp) as info:
        session.get_json("machines")
    assert isinstance(info.value.last, TokenError)
    assert len(server.seen("/oauth2/token")) == 3


def test_a_token_response_without_a_token_is_refused(server, clock, make_session):
    server.script("POST /oauth2/token", {"body": {"token_type": "Bearer"}})
    with pytest.raises(TokenError, match="without an access_token"):
        make_session(auth=auth(server, clock)).get_json("machines")


def test_password_grant_registers_the_password(server, clock):
    flow = OAuth2FormAuth.password(f"{server.base}/api/oauth2/token", "svc-clausewatch",
                                   "pa55word!", headers={"x-api-version": "1.2-rev1"})
    redactor = Redactor()
    flow.bind(redactor)
    request = flow.token_request()
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["password"], "username": ["svc-clausewatch"], "password": ["pa55word!"]}
    assert request.headers["x-api-version"] == "1.2-rev1"
    assert redactor.known == ["pa55word!"]


class JwtLogin(TokenAuth):
    """The hook for a non-OAuth login (Wazuh: basic auth, ``{"data": {"token": ...}}``)."""

    def __init__(self, url: str, user: str, password: str, **kw) -> None:
        super().__init__(**kw)
        self.url, self.user, self.password = url, user, password

    def credentials(self):
        return [self.password]

    def token_request(self) -> httpx.Request:
        basic = httpx.BasicAuth(self.user, self.password)
        request = httpx.Request("POST", f"{self.url}/security/user/authenticate")
        return next(basic.auth_flow(request))

    def parse_token(self, response: httpx.Response) -> Token:
        return Token(response.json()["data"]["token"], self.clock() + 900)


def test_a_custom_login_uses_the_same_hook(server, clock, make_session):
    server.script("POST /security/user/authenticate",
                  {"body": {"data": {"token": "eyJhbGciOiJFUzUxMiJ9.jwt-1"}, "error": 0}})
    server.script("GET /api/agents", {"status": 401, "body": {
        "title": "Unauthorized", "detail": "Invalid token"}},
        {"body": {"data": {"affected_items": [], "total_affected_items": 0}, "error": 0}})
    redactor = Redactor()
    flow = JwtLogin(server.base, "clausewatch", "wazuh-pa55", clock=clock)
    assert make_session(redactor, auth=flow).get_json("agents")["error"] == 0
    logins = server.seen("/security/user/authenticate")
    assert len(logins) == 2 and logins[0].headers["Authorization"].startswith("Basic ")
    assert {"wazuh-pa55", "eyJhbGciOiJFUzUxMiJ9.jwt-1"} <= set(redactor.known)
