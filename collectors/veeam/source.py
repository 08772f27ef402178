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

The password is read from the environment variable named and registered with the redactor; a
missing variable is a ``CollectionError`` for this server only (its subjects ``no_evidence``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from clausewatch.collectors.base import Collector, FailedCollector
from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.rest.client import (
    CONNECTION_PROPERTIES,
    connection_problems,
    make_client,
    settings_from,
)
from clausewatch.collectors.rest.retry import RETRY_SCHEMA, RetryPolicy
from clausewatch.collectors.rest.session import RestSession
from clausewatch.collectors.veeam.api import API_VERSION, DEFAULT_API_VERSION
from clausewatch.collectors.veeam.auth import VeeamAuth
from clausewatch.collectors.veeam.collector import ALL_KINDS, SOURCE, VeeamCollector
from clausewatch.collectors.veeam.timestamps import zone_named
from clausewatch.core.evidence import CollectionError

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
          retry: RetryPolicy | None = None) -> list[Collector]:
    """One collector for the server (or one that says why it could not be built)."""
    name = entry["name"]
    variable = entry["password_env"]
    password = context.env.get(variable)
    if not password:
        return [FailedCollector(CollectionError(
            source=SOURCE, origin=f"{SOURCE}/{name}", kinds=ALL_KINDS, operation="credential",
            message=f"environment variable {variable} (password_env) is not set"))]
    api_version = entry.get("api_version", DEFAULT_API_VERSION)
    settings = settings_from(entry, context.base_dir, section="veeam",
                             headers={"x-api-version": api_version})
    settings = replace(settings, base_url=api_base(settings.base_url))
    auth = VeeamAuth(settings.base_url + "oauth2/token", entry["username"], password,
                     api_version)
    client = make_client(settings, context.secrets, auth=auth)  # registers the password
    session = RestSession(client, retry or RetryPolicy.from_entry(entry))
    return [VeeamCollector(
        name, session, context.raw, context.as_of, context.raw.redact,
        api_version=api_version, tags=dict(entry.get("tags", {})),
        lookback_days=int(entry.get("lookback_days", DEFAULT_LOOKBACK_DAYS)),
        server_timezone=entry.get("server_timezone"))]
