"""The one way a REST source gets its ``httpx.Client``: timeouts, TLS, proxies, User-Agent.

A source entry of the sources file carries these keys (compose :data:`CONNECTION_PROPERTIES`
into its ``ENTRY_SCHEMA``)::

    url: https://vbr.example.net:9419/api/v1/
    timeouts: {connect: 10, read: 60, write: 30, pool: 10}   # seconds; these are the defaults
    tls: {ca_bundle: certs/internal-ca.pem}                  # or {verify: false}, loudly logged
    retry: {attempts: 5, budget_seconds: 300}                # collectors/rest/retry.py

* Timeouts are httpx's four (https://www.python-httpx.org/advanced/timeouts/): ``connect``,
  ``read`` (between two chunks received), ``write`` and ``pool`` (waiting for a free
  connection). httpx's own default is 5 s for each; :data:`DEFAULT_TIMEOUTS` gives a report
  endpoint 60 s to start answering.
* TLS verification is on. ``ca_bundle`` (a PEM file, relative to the sources file's folder) is
  loaded into an ``ssl.SSLContext``, as httpx documents (https://www.python-httpx.org/advanced/
  ssl/; ``verify=<path>`` is deprecated in httpx 0.28). Without it httpx uses ``SSL_CERT_FILE``
  / ``SSL_CERT_DIR`` when set (``trust_env``), else certifi. ``verify: false`` is honoured only
  when the entry says so, and logged as a warning on every client built.
* Proxies come from the environment (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``): httpx's
  ``trust_env``, on.
* Redirects are not followed (an answer elsewhere is an error, never a silent hop).
* Plain ``http://`` is refused except to this machine (127.0.0.0/8, ::1, localhost).

Every credential handed to :func:`make_client` (and every token its auth obtains) is registered
with the run's redactor (``BuildContext.secrets``) before any request is sent.
"""

from __future__ import annotations

import ipaddress
import logging
import ssl
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import httpx

from clausewatch.collectors.catalogue import SecretSink
from clausewatch.collectors.rest.auth import TokenAuth
from clausewatch.collectors.rest.errors import InsecureUrl
from clausewatch.core.problems import InputError, Problem

log = logging.getLogger(__name__)

SECONDS = {"type": "number", "exclusiveMinimum": 0}
TIMEOUTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "seconds (httpx timeouts); default connect 10, read 60, write 30, pool 10",
    "properties": {k: SECONDS for k in ("connect", "read", "write", "pool")},
}
TLS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "ca_bundle": {"type": "string", "minLength": 1,
                      "description": "PEM file of the CA(s) to trust (relative to this file)"},
        "verify": {"type": "boolean", "description": "false: no TLS verification (insecure; "
                   "logged as a warning on every run)"},
    },
}
#: Keys a REST source entry takes for its connection (merge into its ENTRY_SCHEMA properties).
CONNECTION_PROPERTIES: dict[str, Any] = {
    "url": {"type": "string", "pattern": "^https?://[^/?#]+", "description": "base URL"},
    "timeouts": TIMEOUTS_SCHEMA,
    "tls": TLS_SCHEMA,
}


@dataclass(frozen=True, slots=True)
class Timeouts:
    """httpx's four timeouts, in seconds."""

    connect: float = 10.0
    read: float = 60.0
    write: float = 30.0
    pool: float = 10.0

    def httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write,
                             pool=self.pool)


DEFAULT_TIMEOUTS = Timeouts()


@dataclass(frozen=True, slots=True, kw_only=True)
class ClientSettings:
    """How to reach one REST endpoint. ``label`` names the source entry in logs."""

    base_url: str
    label: str = ""
    timeouts: Timeouts = DEFAULT_TIMEOUTS
    verify: bool = True
    ca_bundle: Path | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def user_agent() -> str:
    """``clausewatch/<version>``: operators can tell our calls apart in their API logs."""
    try:
        return f"clausewatch/{version('clausewatch')}"
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "clausewatch/0+unknown"


def connection_problems(entry: Mapping[str, Any]) -> list[tuple[list[str], str]]:
    """What the schema cannot say about an entry's connection keys: ``(where, message)``
    pairs, as a source module's ``entry_problems`` yields them."""
    out: list[tuple[list[str], str]] = []
    tls = entry.get("tls", {})
    if tls.get("verify") is False and "ca_bundle" in tls:
        out.append((["tls"], "ca_bundle and verify: false contradict each other; keep one"))
    url = entry.get("url")
    if isinstance(url, str) and url.lower().startswith("http://") and not _loopback(url):
        out.append((["url"], f"{url} is plain http to another machine; use https"))
    return out


def settings_from(entry: Mapping[str, Any], base_dir: Path, *, section: str,
                  headers: Mapping[str, str] | None = None) -> ClientSettings:
    """The settings of one entry (schema-valid) of section ``section`` of the sources file.

    Raises ``InputError`` when the CA bundle named is missing or unreadable.
    """
    tls = entry.get("tls", {})
    ca_bundle = None
    if "ca_bundle" in tls:
        ca_bundle = (base_dir / tls["ca_bundle"]).resolve()
        try:
            ssl.create_default_context(cafile=str(ca_bundle))
        except (OSError, ssl.SSLError) as exc:
            where = f"{section} {entry.get('name', '')}: tls.ca_bundle"
            why = "no such file" if isinstance(exc, FileNotFoundError) else \
                f"not a PEM file of CA certificates ({exc})"
            raise InputError([Problem(f"<{section}>", 0, 0, where, f"{why}: {ca_bundle}")]) from exc
    return ClientSettings(
        base_url=entry["url"],
        label=f"{section} {entry.get('name', '')}".strip(),
        timeouts=Timeouts(**{**_defaults(), **entry.get("timeouts", {})}),
        verify=tls.get("verify", True) is not False,
        ca_bundle=ca_bundle,
        headers=dict(headers or {}),
    )


def make_client(settings: ClientSettings, secrets: SecretSink, *,
                auth: httpx.Auth | None = None, credentials: Iterable[str] = ()) -> httpx.Client:
    """A client for ``settings``; ``credentials`` (and the auth's) are registered as secrets
    before anything is sent. Raises ``InsecureUrl`` for plain http to another machine."""
    for secret in credentials:
        secrets.add(secret)
    if isinstance(auth, TokenAuth):
        auth.bind(secrets)
    if settings.base_url.lower().startswith("http://") and not _loopback(settings.base_url):
        raise InsecureUrl(settings.base_url, "plain http to another machine is refused")
    return httpx.Client(
        base_url=settings.base_url,
        auth=auth,
        headers={"User-Agent": user_agent(), "Accept": "application/json", **settings.headers},
        timeout=settings.timeouts.httpx(),
        verify=tls_verify(settings),
        trust_env=True,
        follow_redirects=False,
    )


def tls_verify(settings: ClientSettings) -> ssl.SSLContext | bool:
    """What httpx's ``verify`` gets: a context for a CA bundle, True, or (said so) False."""
    if not settings.verify:
        log.warning(
            "TLS verification is OFF for %s (%s): the sources file says tls.verify: false, so "
            "anyone on the network path can read and alter this traffic, credentials included",
            settings.label or "a REST source", settings.base_url)
        return False
    if settings.ca_bundle is not None:
        return ssl.create_default_context(cafile=str(settings.ca_bundle))
    return True


def _defaults() -> dict[str, float]:
    d = DEFAULT_TIMEOUTS
    return {"connect": d.connect, "read": d.read, "write": d.write, "pool": d.pool}


def _loopback(url: str) -> bool:
    host = httpx.URL(url).host
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
