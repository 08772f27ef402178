"""The ``veeam`` section of the sources file: one entry per Veeam Backup & Replication server.

    sources:
      veeam:
        - name: vbr01                                  # origin veeam/vbr01
          url: https://vbr01.corp.example:9419         # the REST API (/api/v1 is added)
          username: CORP\\svc-clausewatch               # a Veeam Backup Viewer (docs/veeam.md)
          password_env: VBR01_PASSWORD                 # never the password itself
          api_version: 1.2-rev1                        # x-api-version (default 1.2-rev1)
          tls: {ca_bundle: certs/vbr01.pem}            # the server's own (self-signed) cert
          tags: {customer: morel}
          lookback_days: 100                           # sessions and restore points read
          # server_timezone: Europe/Paris              # needed for offset-less times < 1.3-rev2
          # retry / timeouts: the REST kit's (docs/rest-kit.md)

The password is read from the environment variable named and registered with the redactor.
Before collecting, ``build`` logs in (the password grant; the token is kept for the
collection): an unset variable, a login the server refuses (401, or 400 ``invalid_grant``), a
TLS certificate that fails verification, or a server that cannot be reached (name not resolved,
connection refused or timed out) is a ``ConfigurationError`` naming the fix (exit 7). A server
that fails otherwise (5xx) is left to the collector: a collection error for it alone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import httpx

from clausewatch.collectors.base import Collector
from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.reachability import unreachable
from clausewatch.collectors.rest.client import (
    CONNECTION_PROPERTIES,
    connection_problems,
    make_client,
    settings_from,
)
from clausewatch.collectors.rest.errors import TokenError
from clausewatch.collectors.rest.retry import RETRY_SCHEMA, RetryPolicy, tls_refused
from clausewatch.collectors.rest.session import RestSession
from clausewatch.collectors.veeam.api import API_VERSION, DEFAULT_API_VERSION
from clausewatch.collectors.veeam.auth import VeeamAuth
from clausewatch.collectors.veeam.collector import VeeamCollector
from clausewatch.collectors.veeam.timestamps import zone_named
from clausewatch.core.configuration import ConfigurationError, SetupProblem, source_label

DEFAULT_LOOKBACK_DAYS = 100

ENTRY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Veeam Backup & Replication server",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "url", "username", "password_env"],
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$",
                 "description": "names the server in origins (veeam/<name>) and subjects"},
        **CONNECTION_PROPERTIES,
        "url": {**CONNECTION_PROPERTIES["url"],
                "description": "the REST API, https://<host>:9419 (Veeam's default port)"},
        "username": {"type": "string", "minLength": 1,
                     "description": "a Veeam Backup Viewer account, e.g. CORP\\svc-clausewatch"},
        "password_env": {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
                         "description": "name of the environment variable holding the password"},
        "api_version": {"type": "string", "pattern": f"^{API_VERSION.pattern}$",
                        "default": DEFAULT_API_VERSION,
                        "description": "x-api-version: 1.1-rev0 (VBR 12.0) ... 1.3-rev2 (13.1)"},
        "tags": {"type": "object", "additionalProperties": {"type": "string"},
                 "description": "tags added to every asset of this server"},
        "lookback_days": {"type": "integer", "minimum": 1, "maximum": 1000,
                          "default": DEFAULT_LOOKBACK_DAYS,
                          "description": "sessions and restore points created within this many "
                          "days are read: more than the longest restore-test period"},
        "server_timezone": {"type": "string", "minLength": 1,
                            "description": "IANA time zone of the backup server, for times "
                            "Veeam gives without an offset (serverTime gives it from 1.3-rev2)"},
        "retry": RETRY_SCHEMA,
    },
}


def entry_problems(entry: Mapping[str, Any]) -> Iterator[tuple[list[Any], str]]:
    """The connection rules of the kit, and a ``server_timezone`` tzdata knows."""
    yield from connection_problems(entry)
    zone = entry.get("server_timezone")
    if isinstance(zone, str) and zone_named(zone) is None:
        yield ["server_timezone"], f"{zone!r} is not an IANA time zone (e.g. Europe/Paris)"


def api_base(url: str) -> str:
    """``https://vbr:9419`` (or ``.../api``, ``.../api/v1``) -> ``https://vbr:9419/api/``."""
    base = url.rstrip("/")
    for suffix in ("/api/v1", "/api"):
        if base.lower().endswith(suffix):
            base = base[: -len(suffix)]
            break
    return f"{base}/api/"


def build(entry: Mapping[str, Any], context: BuildContext,
          retry: RetryPolicy | None = None, *, preflight: bool = True) -> list[Collector]:
    """One collector for the server, once its login works (``preflight``)."""
    name = entry["name"]
    label = source_label("veeam", name)
    variable = entry["password_env"]
    password = context.env.get(variable)
    if not password:
        raise ConfigurationError([SetupProblem(
            label, f"environment variable {variable} (password_env) is not set",
            f"export {variable} with the password of {entry['username']}")])
    api_version = entry.get("api_version", DEFAULT_API_VERSION)
    settings = settings_from(entry, context.base_dir, section="veeam",
                             headers={"x-api-version": api_version})
    settings = replace(settings, base_url=api_base(settings.base_url))
    auth = VeeamAuth(settings.base_url + "oauth2/token", entry["username"], password,
                     api_version)
    client = make_client(settings, context.secrets, auth=auth)  # registers the password
    session = RestSession(client, retry or RetryPolicy.from_entry(entry))
    if preflight:
        _login(session, auth, label, entry)
    return [VeeamCollector(
        name, session, context.raw, context.as_of, context.raw.redact,
        api_version=api_version, tags=dict(entry.get("tags", {})),
        lookback_days=int(entry.get("lookback_days", DEFAULT_LOOKBACK_DAYS)),
        server_timezone=entry.get("server_timezone"))]


def _login(session: RestSession, auth: VeeamAuth, label: str, entry: Mapping[str, Any]) -> None:
    """The password grant, now (retried as the entry says): a ``ConfigurationError`` when the
    server refuses it or cannot be reached; any other failure is left to the collection."""
    try:
        session.retry.call(lambda: auth.obtain(session.client), url=auth.token_url)
    except TokenError as exc:
        body = exc.body if isinstance(exc.body, Mapping) else {}
        if exc.status == 400 and body.get("errorCode") == "NotImplemented":
            session.close()  # x-api-version refused (Veeam answers 400 NotImplemented)
            raise ConfigurationError([SetupProblem(
                label, f"the server does not support api_version "
                f"{entry.get('api_version', DEFAULT_API_VERSION)} ({body.get('message', '')})",
                "set api_version to a revision this server supports (1.1-rev0 on VBR 12.0 ... "
                "1.3-rev2 on 13.1)")]) from exc
        if exc.status in (400, 401):
            session.close()
            raise ConfigurationError([SetupProblem(
                label, f"the server refused the login of {entry['username']} (HTTP "
                f"{exc.status})", f"check username and the password in {entry['password_env']} "
                "(a Veeam Backup Viewer account, docs/veeam.md)")]) from exc
    except Exception as exc:  # GaveUp wraps the last failure
        last = getattr(exc, "last", exc)
        host = httpx.URL(auth.token_url).host
        if isinstance(last, httpx.ConnectError) and tls_refused(last):
            session.close()
            raise ConfigurationError([SetupProblem(
                label, f"the TLS certificate of {host} failed verification",
                "set tls.ca_bundle to the CA that signed the server's certificate")]) from exc
        reason = unreachable(last)
        if reason is None:
            return  # a server error: the collector reports it
        session.close()
        raise ConfigurationError([SetupProblem(
            label, f"cannot reach {host} ({reason})",
            "check url (https://<host>:9419), DNS, the firewall and the proxy")]) from exc
