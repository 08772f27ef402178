"""What every channel shares: its spec, its configuration and its context (secrets from the
environment, an HTTP client)."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from clausewatch.alerts.events import EventKind
from clausewatch.alerts.message import Digest
from clausewatch.core.redact import Redactor

ALL_EVENTS = frozenset(k for k in EventKind if k is not EventKind.TEST)
#: The keys every channel has, whatever its type (their schemas live in ``alerts/schema.py``).
COMMON_KEYS = ("name", "type", "events")
#: The schema of an option naming an environment variable (secrets are never in the file).
ENV: Mapping[str, Any] = {
    "type": "string",
    "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
    "description": "The name of an environment variable (never the secret itself).",
}
#: Characters of a response body kept for diagnosis, after redaction.
BODY_EXCERPT = 200
_OPTION_SCHEMA_KEYS = frozenset({"properties", "required", "examples", "description"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelConfig:
    """One channel as configured; ``options`` holds the type's own keys."""

    name: str
    type: str
    events: frozenset[EventKind] = ALL_EVENTS
    options: Mapping[str, Any] = field(default_factory=dict)

    def wants(self, kind: EventKind) -> bool:
        return kind is EventKind.TEST or kind in self.events


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


Sender = Callable[[Digest, Context], str]


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelSpec:
    """A channel type, declared once by its module as ``CHANNEL`` and listed in the registry.

    ``options`` is the JSON Schema of the channel's own keys in the alerts file: ``properties``
    (only the options this type takes), ``required`` and ``examples`` (one complete, valid set of
    options, which the tests feed to the composed schema). ``needs_http``: delivery hands
    ``send`` an HTTP client (otherwise ``ctx.http`` is None).
    """

    type: str
    options: Mapping[str, Any]
    needs_http: bool
    send: Sender

    def __post_init__(self) -> None:
        props = self.options.get("properties", {})
        problems = [
            *(f"unexpected schema keyword {k!r}" for k in set(self.options) - _OPTION_SCHEMA_KEYS),
            *(f"option {k!r} clashes with a common key" for k in set(props) & set(COMMON_KEYS)),
            *(f"required {k!r} is not an option" for k in self.required if k not in props),
        ]
        if problems:
            raise ValueError(f"channel {self.type!r}: " + "; ".join(sorted(problems)))

    @property
    def properties(self) -> Mapping[str, Any]:
        """Option name -> its JSON Schema."""
        return self.options.get("properties", {})  # type: ignore[no-any-return]

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self.options.get("required", ()))


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
