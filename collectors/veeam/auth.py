"""Veeam B&R REST login: OAuth 2.0 password grant, refresh token on a 401, ``x-api-version``.

``POST /api/oauth2/token`` takes a form (``TokenLoginSpec``): ``grant_type=password`` with
``username`` and ``password``, or ``grant_type=refresh_token`` with ``refresh_token``; the
``x-api-version`` header is required on this call too. The answer (``TokenModel``) carries
``access_token``, ``refresh_token``, ``expires_in`` (seconds), ``.issued`` and ``.expires``
(Veeam's OpenAPI documents 1.1-rev0 to 1.3-rev2; https://helpcenter.veeam.com/docs/backup/
vbr_rest/authorization_security.html). The lifetime is read from ``expires_in``, never assumed
(60 min in VBR 12, 15 min in the v11 documents, 900 s in the spec's example).

The grant type is sent in lower case, as in every Veeam page and example; the 1.3-rev1/rev2
documents capitalise the enum (``Password``, ``Refresh_token``) but the server's prose and
examples keep lower case. The flow (notes/veeam.md §2.2):

1. no token, or it expires within the refresh margin: refresh with the refresh token when one
   is held, else log in with the password;
2. on a 401 (an access token expired mid-run): the same, then resend the request once;
3. a refresh refused with 400 or 401 (an expired or revoked refresh token) falls back to one
   password login; a second 401 on the resent request is returned as is (an error upstream).

The password, every access token and every refresh token are registered with the redactor.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Iterable, Mapping

import httpx

from clausewatch.collectors.rest.auth import Token, TokenAuth

#: Statuses of a refused refresh that a password login may cure (expired/revoked token).
REFRESH_REFUSED = frozenset({400, 401})


class VeeamAuth(TokenAuth):
    """Bearer tokens from ``/api/oauth2/token`` for one Veeam Backup & Replication server."""

    def __init__(self, token_url: str, username: str, password: str, api_version: str, *,
                 clock: Callable[[], float] = time.monotonic, refresh_margin: float = 60.0
                 ) -> None:
        super().__init__(clock=clock, refresh_margin=refresh_margin)
        self.token_url = token_url
        self.username = username
        self.password = password
        self.api_version = api_version
        self.refresh_token: str | None = None
        self.grants: list[str] = []  # grant types sent, in order (tests and logs)

    def credentials(self) -> Iterable[str]:
        return [self.password]

    def token_request(self) -> httpx.Request:
        return self._grant(self._password_form())

    def _password_form(self) -> dict[str, str]:
        return {"grant_type": "password", "username": self.username, "password": self.password}

    def _grant(self, form: Mapping[str, str]) -> httpx.Request:
        self.grants.append(form["grant_type"])
        return httpx.Request("POST", self.token_url, data=dict(form), headers={
            "Accept": "application/json", "x-api-version": self.api_version})

    def parse_token(self, response: httpx.Response) -> Token:
        token = super().parse_token(response)
        body = response.json()
        refresh = body.get("refresh_token") if isinstance(body, Mapping) else None
        if isinstance(refresh, str) and refresh:
            self._secrets.add(refresh)
            self.refresh_token = refresh
        return token

    # -- the flow -----------------------------------------------------------------------
    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.token is None or self._stale():
            yield from self._obtain(request)
        assert self.token is not None
        self.apply(request, self.token)
        response = yield request
        if response.status_code == 401:
            yield from self._obtain(request)
            self.apply(request, self.token)
            yield request

    def _obtain(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """A new token: by refresh when a refresh token is held, else (or if the refresh is
        refused as expired) by password. Raises ``TokenError`` (rest kit) when refused."""
        if self.refresh_token is not None:
            refresh = self._grant({"grant_type": "refresh_token",
                                   "refresh_token": self.refresh_token})
            self.refresh_token = None  # used once: the answer brings the next one
            response = yield self._with_client_settings(refresh, request)
            if response.status_code not in REFRESH_REFUSED:
                self.token = self._store(response)
                return
        response = yield self._with_client_settings(self.token_request(), request)
        self.token = self._store(response)

    def _with_client_settings(self, token_request: httpx.Request, request: httpx.Request
                              ) -> httpx.Request:
        """The token request with the client's User-Agent and timeouts."""
        if "User-Agent" in request.headers:
            token_request.headers["User-Agent"] = request.headers["User-Agent"]
        if "timeout" in request.extensions:
            token_request.extensions.setdefault("timeout", request.extensions["timeout"])
        return token_request

