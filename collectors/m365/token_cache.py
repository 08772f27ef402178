"""One token per credential per expiry, every token masked.

kiota's ``AzureIdentityAccessTokenProvider`` asks its credential for a token on every Graph
request. ``ClientSecretCredential`` and ``CertificateCredential`` answer from MSAL's in-memory
cache, but ``AzureCliCredential`` does not cache: each call spawns ``az account
get-access-token`` (about a second; azure-identity documents it as a developer credential).
:class:`CachedCredential` wraps any ``azure.core.credentials.TokenCredential`` and keeps each
token until its ``refresh_on`` (azure-core's ``AccessTokenInfo``: when the issuer says to
refresh) or, without one, until ``margin`` seconds before ``expires_on``
(https://learn.microsoft.com/python/api/azure-core/azure.core.credentials.accesstokeninfo); a
``claims`` challenge (Continuous Access Evaluation) always asks the credential again. Tokens are
cached per scopes, tenant and CAE flag, shared by the entry's collectors (thread-safe), and each
token obtained is registered with the run's redactor: a Graph error echoing it is masked.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from azure.core.credentials import AccessToken, AccessTokenInfo, TokenCredential

from clausewatch.collectors.catalogue import SecretSink

REFRESH_MARGIN = 300.0  # azure-core's BearerTokenCredentialPolicy refreshes 5 min early


class CachedCredential:
    """A ``TokenCredential`` (and ``SupportsTokenInfo``) over one that may not cache."""

    def __init__(self, inner: TokenCredential, secrets: SecretSink, *,
                 clock: Callable[[], float] = time.time, margin: float = REFRESH_MARGIN) -> None:
        self.inner = inner
        self.secrets = secrets
        self.clock = clock
        self.margin = margin
        self.fetches = 0  # tokens asked of the inner credential (tests and logs)
        self._tokens: dict[tuple[Any, ...], AccessTokenInfo] = {}
        self._lock = threading.Lock()

    def get_token(self, *scopes: str, claims: str | None = None, tenant_id: str | None = None,
                  enable_cae: bool = False, **kwargs: Any) -> AccessToken:
        info = self._token(scopes, claims, tenant_id, enable_cae, kwargs)
        return AccessToken(info.token, info.expires_on)

    def get_token_info(self, *scopes: str, options: dict[str, Any] | None = None
                       ) -> AccessTokenInfo:
        given = dict(options or {})
        return self._token(scopes, given.pop("claims", None), given.pop("tenant_id", None),
                           bool(given.pop("enable_cae", False)), given)

    def _token(self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None,
               enable_cae: bool, extra: dict[str, Any]) -> AccessTokenInfo:
        key = (tuple(sorted(scopes)), tenant_id, enable_cae)
        with self._lock:  # one fetch at a time: concurrent collectors wait for the first
            cached = self._tokens.get(key)
            if claims is None and cached is not None and not self._due(cached):
                return cached
            info = self._fetch(scopes, claims, tenant_id, enable_cae, extra)
            self.fetches += 1
            self.secrets.add(info.token)
            self._tokens[key] = info
            return info

    def _due(self, info: AccessTokenInfo) -> bool:
        now = self.clock()
        if info.refresh_on is not None and now >= info.refresh_on:
            return True
        return now >= info.expires_on - self.margin

    def _fetch(self, scopes: tuple[str, ...], claims: str | None, tenant_id: str | None,
               enable_cae: bool, extra: dict[str, Any]) -> AccessTokenInfo:
        get_info = getattr(self.inner, "get_token_info", None)
        if callable(get_info):  # azure-identity >= 1.19: refresh_on comes with it
            options: dict[str, Any] = {"enable_cae": enable_cae}
            if claims is not None:
                options["claims"] = claims
            if tenant_id is not None:
                options["tenant_id"] = tenant_id
            result = get_info(*scopes, options=options)
            if isinstance(result, AccessTokenInfo):
                return result
        kwargs: dict[str, Any] = {**extra}
        if claims is not None:
            kwargs["claims"] = claims
        if tenant_id is not None:
            kwargs["tenant_id"] = tenant_id
        if enable_cae:
            kwargs["enable_cae"] = True
        token = self.inner.get_token(*scopes, **kwargs)
        return AccessTokenInfo(token.token, int(token.expires_on))

    def close(self) -> None:
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()
