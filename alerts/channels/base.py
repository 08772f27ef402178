"""What every channel shares: its context (secrets from the environment, an HTTP client)."""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from clausewatch.alerts.config import ChannelConfig
from clausewatch.core.redact import Redactor

#: Characters of a response body kept for diagnosis, after redaction.
BODY_EXCERPT = 200


class DeliveryError(Exception):
    """A delivery failed; ``retryable`` says whether trying again may help."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass
class Context:
    """A channel's configuration plus what it needs to send; collects the secrets it reads."""

    config: ChannelConfig
    env: Mapping[str, str]
    http: httpx.Client | None  # None for channels that do not speak HTTP
    timeout: float
    base_dir: Path
    secrets: list[str] = field(default_factory=list)

    def option(self, key: str, default: Any = None) -> Any:
        return self.config.options.get(key, default)

    def secret(self, key: str) -> str:
        """The value of the environment variable the option ``key`` names."""
        return self.secret_env(self.config.options[key])

    def secret_env(self, name: str) -> str:
        """The value of environment variable ``name``, remembered for redaction (whole and in
        parts: the path tokens and query secrets of a URL, the credential of a header)."""
        value = self.env.get(name)
        if not value:
            raise DeliveryError(f"environment variable {name} is not set", retryable=False)
        self.secrets.append(value)
        return value

    def redact(self, text: str, limit: int | None = None) -> str:
        """``text`` with this channel's secrets masked, then cut to ``limit`` characters."""
        redactor = Redactor(self.secrets)
        return redactor.text(text) if limit is None else redactor.excerpt(text, limit)


def is_loopback(host: str | None) -> bool:
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host or "").is_loopback
    except ValueError:
        return False


def check_url(url: str) -> str:
    """HTTPS only (plain HTTP to a loopback address is allowed, for local relays and tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" or (parts.scheme == "http" and is_loopback(parts.hostname)):
        return url
    raise DeliveryError(
        f"refusing to send to a {parts.scheme or 'schemeless'} URL on {parts.hostname}: "
        "use https", retryable=False
    )


def post_json(
    ctx: Context, url: str, payload: Any, headers: Mapping[str, str] | None = None
) -> httpx.Response:
    """POST ``payload`` as JSON; 429 and 5xx are retryable failures, 3xx and other 4xx are not.

    A redirect is never followed (the client is built with ``follow_redirects=False``) and never
    counts as delivered: a webhook that moved must be reconfigured. A response body kept for
    diagnosis is redacted first, then cut to ``BODY_EXCERPT`` characters."""
    if ctx.http is None:
        raise DeliveryError("no HTTP client", retryable=False)
    try:
        response = ctx.http.post(
            check_url(url), json=payload, headers=dict(headers or {}), timeout=ctx.timeout
        )
    except httpx.TransportError as exc:
        raise DeliveryError(ctx.redact(f"{type(exc).__name__}: {exc}"), retryable=True) from exc
    code = response.status_code
    if code == 429 or code >= 500:
        raise DeliveryError(f"HTTP {code}", retryable=True)
    if 300 <= code < 400:
        where = response.headers.get("location")
        moved = f" to {ctx.redact(where, BODY_EXCERPT)}" if where else ""
        raise DeliveryError(f"HTTP {code}: redirected{moved}; not delivered (redirects are not "
                            "followed: configure the final URL)", retryable=False)
    if code >= 400 or code < 200:
        raise DeliveryError(f"HTTP {code}: {ctx.redact(response.text, BODY_EXCERPT)}",
                            retryable=False)
    return response
