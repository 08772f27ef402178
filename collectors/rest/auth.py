"""Bearer-token auth for REST sources: get a token, send it, refresh it once on a 401.

:class:`TokenAuth` is an ``httpx.Auth`` whose ``auth_flow`` yields the token request itself
(httpx's documented way for multi-request auth, https://www.python-httpx.org/advanced/
authentication/#customizing-authentication), so the token call goes through the same client:
same TLS settings, proxies, timeouts and User-Agent. A subclass says how to ask for a token
(:meth:`TokenAuth.token_request`) and, if not OAuth 2.0 JSON, how to read the answer
(:meth:`TokenAuth.parse_token`). The flow:

1. no token yet, or it expires within ``refresh_margin`` seconds: fetch one;
2. send the request with ``Authorization: Bearer <token>``;
3. on a 401, fetch a new token and send the request once more; a second 401 is returned as
   is (the caller's ``raise_for_status`` makes it an error; the retry does not retry 401).

A token endpoint that refuses (non-2xx) or answers without a token raises ``TokenError``.
Every credential and every token obtained is registered with the run's redactor. One auth per
client and one client per collector (the flow keeps the token on the instance, unlocked).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass

import httpx

from clausewatch.collectors.catalogue import SecretSink
from clausewatch.collectors.rest.errors import TokenError


@dataclass(frozen=True, slots=True)
class Token:
    """A bearer token and the monotonic instant it expires (None: unknown)."""

    value: str
    expires_at: float | None = None


class _NoSink:
    def add(self, secret: str) -> None:  # until bind(): nothing registered yet
        pass


class TokenAuth(httpx.Auth):
    """Base class: bearer token fetched through the flow, refreshed once on a 401."""

    requires_response_body = True  # the token response is read inside the flow

    def __init__(self, *, clock: Callable[[], float] = time.monotonic,
                 refresh_margin: float = 60.0) -> None:
        self.clock = clock
        self.refresh_margin = refresh_margin
        self.token: Token | None = None
        self.fetches = 0  # token requests sent (tests and logs)
        self._secrets: SecretSink = _NoSink()

    # -- what a subclass provides ------------------------------------------------------
    def credentials(self) -> Iterable[str]:
        """The static secrets this auth holds (passwords, client secrets)."""
        return ()

    def token_request(self) -> httpx.Request:
        """The request that obtains a token (absolute URL)."""
        raise NotImplementedError

    def parse_token(self, response: httpx.Response) -> Token:
        """Read an OAuth 2.0 token response (RFC 6749 §5.1): ``access_token``, ``expires_in``."""
        body = _json(response)
        if not isinstance(body, Mapping):
            body = {}
        value = body.get("access_token")
        if not isinstance(value, str) or not value:
            raise TokenError(str(response.request.url), "token endpoint answered without an "
                             "access_token", status=response.status_code)
        expires_in = body.get("expires_in")
        expires_at = None
        if isinstance(expires_in, int | float | str) and str(expires_in).isdigit():
            expires_at = self.clock() + float(expires_in)
        return Token(value, expires_at)

    def apply(self, request: httpx.Request, token: Token) -> None:
        request.headers["Authorization"] = f"Bearer {token.value}"

    # -- the flow -----------------------------------------------------------------------
    def bind(self, secrets: SecretSink) -> None:
        """Register the credentials now, and every token obtained from now on."""
        self._secrets = secrets
        for secret in self.credentials():
            secrets.add(secret)

    def obtain(self, client: httpx.Client) -> Token:
        """Get a token now, through ``client`` (its TLS, proxies, timeouts and User-Agent): a
        source's start-up check that its login works; the token is kept for the collection.
        Raises ``TokenError`` when refused, httpx's errors when the host cannot be reached."""
        probe = client.build_request("GET", "")
        token_request = self._token_request(probe)
        token_request.extensions.setdefault("timeout", client.timeout.as_dict())
        self.token = self._store(client.send(token_request, auth=None))
        return self.token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.token is None or self._stale():
            self.token = self._store((yield self._token_request(request)))
        self.apply(request, self.token)
        response = yield request
        if response.status_code == 401:
            self.token = self._store((yield self._token_request(request)))
            self.apply(request, self.token)
            yield request

    def _token_request(self, request: httpx.Request) -> httpx.Request:
        """The token request, with the client's User-Agent and timeouts (a request built
        outside the client has neither: without them it could wait for ever)."""
        token_request = self.token_request()
        if "User-Agent" in request.headers:
            token_request.headers["User-Agent"] = request.headers["User-Agent"]
        if "timeout" in request.extensions:
            token_request.extensions.setdefault("timeout", request.extensions["timeout"])
        return token_request

    def _stale(self) -> bool:
        if self.token is None:
            return True
        expires = self.token.expires_at
        return expires is not None and self.clock() >= expires - self.refresh_margin

    def _store(self, response: httpx.Response) -> Token:
        self.fetches += 1
        url = str(response.request.url)
        if not response.is_success:
            raise TokenError(url, f"token endpoint refused: HTTP {response.status_code}"
                             f"{_oauth_error(response)}", status=response.status_code,
                             body=_json(response))
        token = self.parse_token(response)
        self._secrets.add(token.value)
        return token


class OAuth2FormAuth(TokenAuth):
    """OAuth 2.0 token from a form POST: client credentials (RFC 6749 §4.4; Entra ID for
    Defender for Endpoint) or resource-owner password (§4.3; Veeam B&R ``/api/oauth2/token``)."""

    def __init__(self, token_url: str, form: Mapping[str, str], *,
                 headers: Mapping[str, str] | None = None, secret_fields: Iterable[str] = (),
                 clock: Callable[[], float] = time.monotonic, refresh_margin: float = 60.0
                 ) -> None:
        super().__init__(clock=clock, refresh_margin=refresh_margin)
        self.token_url = token_url
        self.form = dict(form)
        self.headers = dict(headers or {})
        self.secret_fields = tuple(secret_fields)

    @classmethod
    def client_credentials(cls, token_url: str, client_id: str, client_secret: str, *,
                           scope: str | None = None, clock: Callable[[], float] = time.monotonic
                           ) -> OAuth2FormAuth:
        form = {"grant_type": "client_credentials", "client_id": client_id,
                "client_secret": client_secret}
        if scope:
            form["scope"] = scope
        return cls(token_url, form, secret_fields=("client_secret",), clock=clock)

    @classmethod
    def password(cls, token_url: str, username: str, password: str, *,
                 headers: Mapping[str, str] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> OAuth2FormAuth:
        form = {"grant_type": "password", "username": username, "password": password}
        return cls(token_url, form, headers=headers, secret_fields=("password",), clock=clock)

    def credentials(self) -> Iterable[str]:
        return [self.form[k] for k in self.secret_fields if self.form.get(k)]

    def token_request(self) -> httpx.Request:
        return httpx.Request("POST", self.token_url, data=self.form,
                             headers={"Accept": "application/json", **self.headers})


def _json(response: httpx.Response) -> object:
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _oauth_error(response: httpx.Response) -> str:
    """`` invalid_client`` from an OAuth error body (RFC 6749 §5.2), else nothing."""
    body = _json(response)
    if isinstance(body, Mapping) and isinstance(body.get("error"), str):
        return f" {body['error']}"
    return ""
