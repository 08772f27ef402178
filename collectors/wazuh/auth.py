"""The Wazuh server API's login: a JWT from ``POST /security/user/authenticate``.

The login takes HTTP basic auth (the API user and password) and answers
``{"data": {"token": "<JWT>"}, "error": 0}``; with ``raw=true`` it answers the token alone as
``text/plain`` (spec.yaml ``/security/user/authenticate``, ``components.parameters.raw``;
https://documentation.wazuh.com/4.14/user-manual/api/getting-started.html). Both are read,
whichever the server sends. ``GET`` on the same path is the deprecated login; POST is used.

A token lasts ``auth_token_exp_timeout`` seconds, 900 by default, changed by
``PUT /security/config`` (spec.yaml ``info.description``). Its lifetime is read from the JWT's
own ``exp`` - ``nbf`` claims (``iat`` when there is no ``nbf``) when present, else the entry's
``token_lifetime_seconds``: the kit refreshes it 60 s before, and on a 401 fetches a new one and
resends the request once (collectors/rest/auth.py). A refused login (401 "Invalid
credentials", 403, 429 "Maximum number of requests per minute reached") raises ``TokenError``.
The password and every token are registered with the run's redactor.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterable, Mapping

import httpx

from clausewatch.collectors.rest.auth import Token, TokenAuth
from clausewatch.collectors.rest.errors import TokenError

LOGIN_PATH = "security/user/authenticate"
DEFAULT_LIFETIME = 900.0


class WazuhAuth(TokenAuth):
    """Bearer JWTs for one Wazuh server API (``base_url`` ends with ``/``)."""

    def __init__(self, base_url: str, username: str, password: str, *,
                 lifetime: float = DEFAULT_LIFETIME, clock: Callable[[], float] = time.monotonic,
                 refresh_margin: float = 60.0) -> None:
        super().__init__(clock=clock, refresh_margin=refresh_margin)
        self.url = base_url.rstrip("/") + "/" + LOGIN_PATH
        self.username = username
        self.password = password
        self.lifetime = lifetime

    def credentials(self) -> Iterable[str]:
        return [self.password]

    def token_request(self) -> httpx.Request:
        request = httpx.Request("POST", self.url, params={"raw": "true"},
                                headers={"Accept": "application/json, text/plain"})
        return next(httpx.BasicAuth(self.username, self.password).auth_flow(request))

    def parse_token(self, response: httpx.Response) -> Token:
        value = _token_of(response)
        if value is None:
            raise TokenError(str(response.request.url), "the login answered without a token",
                             status=response.status_code)
        return Token(value, self.clock() + (jwt_lifetime(value) or self.lifetime))


def _token_of(response: httpx.Response) -> str | None:
    """The token of a JSON answer (``data.token``) or of a ``raw=true`` text answer."""
    content = response.content.strip()
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    if isinstance(body, Mapping):
        data = body.get("data")
        token = data.get("token") if isinstance(data, Mapping) else None
        return token if isinstance(token, str) and token else None
    if isinstance(body, str):  # a raw token sent as a JSON string
        content = body.encode()
    token = content.decode("utf-8", "replace")
    return token if token and not any(c.isspace() for c in token) else None


def jwt_lifetime(token: str) -> float | None:
    """``exp - nbf`` (or ``exp - iat``) of a JWT's payload, read without verifying it (the
    server verifies; only the lifetime is wanted), None when it has none."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return None
    if not isinstance(payload, Mapping):
        return None
    exp, start = payload.get("exp"), payload.get("nbf", payload.get("iat"))
    if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (exp, start)):
        return None
    assert isinstance(exp, int | float) and isinstance(start, int | float)
    lifetime = float(exp - start)
    return lifetime if lifetime > 0 else None
