"""App-only tokens from azure-identity, as the REST kit's bearer auth (client credentials).

``make_credential`` builds ``ClientSecretCredential`` (the secret read from the environment
variable the entry names) or ``CertificateCredential`` on the cloud's sign-in host
(``authority``; https://learn.microsoft.com/python/api/azure-identity/azure.identity.
clientsecretcredential). Instance discovery is turned off only for a sign-in host MSAL does not
know (``login_host`` pointing at a proxy or a test server), as azure-identity documents for
private clouds (``disable_instance_discovery``). The entry's CA bundle, when given, is what
azure-core verifies the sign-in host with too (``connection_verify``).

:class:`CredentialAuth` adapts any azure-core ``TokenCredential`` to the kit's
:class:`TokenAuth`: ``get_token(scope)`` when no token is held or it expires within the margin
(the token is kept until then: Defender tokens last an hour, https://learn.microsoft.com/
defender-endpoint/api/exposed-apis-create-app-webapp), ``Authorization: Bearer``, one more
``get_token`` and one resend on a 401. Every token is registered with the run's redactor; a
refused or failed sign-in raises the kit's ``TokenError`` (its message names the Entra error
code, ``AADSTS7000215`` for a wrong secret, never the secret).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator, Mapping
from pathlib import Path
from typing import Any

import httpx
from azure.core.credentials import TokenCredential
from azure.core.exceptions import AzureError, ClientAuthenticationError
from azure.identity import CertificateCredential, ClientSecretCredential

from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.defender.clouds import KNOWN_LOGIN_HOSTS
from clausewatch.collectors.rest.auth import Token, TokenAuth
from clausewatch.collectors.rest.errors import TokenError


class CredentialError(Exception):
    """A credential the sources file names cannot be read (a variable unset, a file missing)."""


def make_credential(entry: Mapping[str, Any], context: BuildContext, login_host: str,
                    ca_bundle: Path | None = None) -> TokenCredential:
    """The azure-identity credential of an entry; every secret read goes to the redactor."""
    tenant, client = entry["tenant_id"], entry["client_id"]
    options: dict[str, Any] = {"authority": login_host}
    if httpx.URL(login_host).host not in KNOWN_LOGIN_HOSTS:
        options["disable_instance_discovery"] = True
    if ca_bundle is not None:
        options["connection_verify"] = str(ca_bundle)
    if "client_secret_env" in entry:
        secret = _env(entry, context, "client_secret_env")
        return ClientSecretCredential(tenant, client, secret, **options)
    path = Path(entry["certificate_file"])
    path = path if path.is_absolute() else context.base_dir / path
    if not path.is_file():
        raise CredentialError(f"certificate_file {path} does not exist")
    password = (_env(entry, context, "certificate_password_env")
                if "certificate_password_env" in entry else None)
    return CertificateCredential(tenant, client, certificate_path=str(path), password=password,
                                 **options)


def _env(entry: Mapping[str, Any], context: BuildContext, key: str) -> str:
    variable = entry[key]
    value = context.env.get(variable)
    if not value:
        raise CredentialError(f"environment variable {variable} ({key}) is not set")
    context.secrets.add(value)
    return value


class CredentialAuth(TokenAuth):
    """Bearer tokens for ``scope`` from an azure-core ``TokenCredential``."""

    def __init__(self, credential: TokenCredential, scope: str, login_host: str, *,
                 clock: Callable[[], float] = time.monotonic,
                 wall: Callable[[], float] = time.time, refresh_margin: float = 60.0) -> None:
        super().__init__(clock=clock, refresh_margin=refresh_margin)
        self.credential = credential
        self.scope = scope
        self.login_host = login_host
        self.wall = wall

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if self.token is None or self._stale():
            self.token = self._fetch()
        self.apply(request, self.token)
        response = yield request
        if response.status_code == 401:
            self.token = self._fetch()
            self.apply(request, self.token)
            yield request

    def _fetch(self) -> Token:
        self.fetches += 1
        try:
            access = self.credential.get_token(self.scope)
        except ClientAuthenticationError as exc:
            status = exc.status_code if isinstance(exc.status_code, int) else None
            raise TokenError(self.login_host, f"sign-in refused: {_first_line(exc)}",
                             status=status) from exc
        except AzureError as exc:
            raise TokenError(self.login_host, f"sign-in failed: {type(exc).__name__}: "
                             f"{_first_line(exc)}") from exc
        self._secrets.add(access.token)
        lifetime = max(0.0, float(access.expires_on) - self.wall())
        return Token(access.token, self.clock() + lifetime)


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "message", None) or exc)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0][:300] if lines else type(exc).__name__
