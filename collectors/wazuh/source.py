"""The ``wazuh`` section of the sources file: one entry per Wazuh server (manager cluster).

    sources:
      wazuh:
        - name: wazuh-paris                          # origin wazuh/wazuh-paris
          url: https://wazuh.corp.example:55000      # the server API
          username: clausewatch-ro                   # a read-only RBAC user (docs/wazuh.md)
          password_env: WAZUH_PARIS_API_PASSWORD     # never the password itself
          tls: {ca_bundle: certs/wazuh-root-ca.pem}
          vulnerabilities: auto                      # indexer (>= 4.8) | server_api (<= 4.7)
          indexer:                                   # Wazuh >= 4.8: the vulnerability states
            url: https://wazuh-indexer.corp.example:9200
            username: clausewatch-ro
            password_env: WAZUH_PARIS_INDEXER_PASSWORD
            tls: {ca_bundle: certs/wazuh-root-ca.pem}
            # index: wazuh-states-vulnerabilities-*
          tags: {customer: morel}
          # include_manager: true                    # agent 000, the manager's own host
          # asset_kind_by_group: {postes: workstation}
          # default_asset_kind: server                # an agent whose OS is not known yet
          # token_lifetime_seconds: 900               # when the JWT carries no exp/nbf
          # page_limit: 500; retry / timeouts: the REST kit's (docs/rest-kit.md)

Passwords are read from the environment variables named and registered with the redactor; a
missing variable is a ``CollectionError`` for this server only (its subjects ``no_evidence``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

import httpx

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
from clausewatch.collectors.wazuh.auth import DEFAULT_LIFETIME, WazuhAuth
from clausewatch.collectors.wazuh.collector import ALL_KINDS, MODES, SOURCE, WazuhCollector
from clausewatch.collectors.wazuh.indexer import DEFAULT_INDEX
from clausewatch.core.evidence import CollectionError

ENV_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
            "description": "name of the environment variable holding the password"}
INDEXER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["url", "username", "password_env"],
    "properties": {
        **CONNECTION_PROPERTIES,
        "url": {**CONNECTION_PROPERTIES["url"],
                "description": "the Wazuh indexer (OpenSearch) API, https://<host>:9200"},
        "username": {"type": "string", "minLength": 1,
                     "description": "an indexer user allowed to read the vulnerability index"},
        "password_env": ENV_NAME,
        "index": {"type": "string", "minLength": 1, "default": DEFAULT_INDEX,
                  "pattern": "^[^\\s/?#,]+$", "description": "index or pattern to search"},
    },
}
ENTRY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Wazuh server (manager API, and the indexer for Wazuh >= 4.8)",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "url", "username", "password_env"],
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$",
                 "description": "names the server in origins (wazuh/<name>) and subjects"},
        **CONNECTION_PROPERTIES,
        "url": {**CONNECTION_PROPERTIES["url"],
                "description": "the Wazuh server API, https://<host>:55000"},
        "username": {"type": "string", "minLength": 1,
                     "description": "a Wazuh API user with a read-only role (docs/wazuh.md)"},
        "password_env": ENV_NAME,
        "vulnerabilities": {"enum": list(MODES), "default": "auto",
                            "description": "indexer (Wazuh >= 4.8), server_api (<= 4.7) or "
                            "auto (by the API's version)"},
        "indexer": INDEXER_SCHEMA,
        "tags": {"type": "object", "additionalProperties": {"type": "string"},
                 "description": "tags added to every agent of this server"},
        "include_manager": {"type": "boolean", "default": True,
                            "description": "agent 000, the manager's own host, as an asset"},
        "asset_kind_by_group": {"type": "object",
                                "additionalProperties": {"type": "string", "minLength": 1},
                                "description": "agent group -> asset kind (first group wins)"},
        "default_asset_kind": {"type": "string", "minLength": 1, "default": "server",
                               "description": "asset kind of an agent whose OS is unknown"},
        "token_lifetime_seconds": {"type": "number", "minimum": 120, "maximum": 86400,
                                   "default": DEFAULT_LIFETIME,
                                   "description": "auth_token_exp_timeout, when the JWT does "
                                   "not say (Wazuh's default 900)"},
        "page_limit": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 500,
                       "description": "limit of each server API page (500 recommended)"},
        "retry": RETRY_SCHEMA,
    },
}


def entry_problems(entry: Mapping[str, Any]) -> Iterator[tuple[list[Any], str]]:
    """The kit's connection rules, for the server API and the indexer; an indexer asked for."""
    yield from connection_problems(entry)
    indexer = entry.get("indexer")
    if isinstance(indexer, Mapping):
        for where, message in connection_problems(indexer):
            yield ["indexer", *where], message
    elif entry.get("vulnerabilities") == "indexer":
        yield ["indexer"], "vulnerabilities: indexer needs the indexer's url, username and " \
            "password_env"


def build(entry: Mapping[str, Any], context: BuildContext,
          retry: RetryPolicy | None = None) -> list[Collector]:
    """One collector for the server (or one that says why it could not be built)."""
    name = entry["name"]
    indexer_entry = entry.get("indexer")
    missing = [v for v in (entry["password_env"],
                           indexer_entry["password_env"] if indexer_entry else None)
               if v and not context.env.get(v)]
    if missing:
        which = "password_env" if missing[0] == entry["password_env"] else \
            "indexer.password_env"
        return [FailedCollector(CollectionError(
            source=SOURCE, origin=f"{SOURCE}/{name}", kinds=ALL_KINDS, operation="credential",
            message=f"environment variable {missing[0]} ({which}) is not set"))]
    policy = retry or RetryPolicy.from_entry(entry)
    settings = settings_from(entry, context.base_dir, section="wazuh")
    base = settings.base_url.rstrip("/") + "/"
    auth = WazuhAuth(base, entry["username"], context.env[entry["password_env"]],
                     lifetime=float(entry.get("token_lifetime_seconds", DEFAULT_LIFETIME)),
                     clock=policy.clock)
    session = RestSession(make_client(replace(settings, base_url=base), context.secrets,
                                      auth=auth), policy)
    indexer = None
    if indexer_entry:
        isettings = settings_from({"name": f"{name} indexer", **indexer_entry},
                                  context.base_dir, section="wazuh")
        password = context.env[indexer_entry["password_env"]]
        iclient = make_client(isettings, context.secrets,
                              auth=httpx.BasicAuth(indexer_entry["username"], password),
                              credentials=[password])
        indexer = RestSession(iclient, policy)
    return [WazuhCollector(
        name, session, context.raw, context.as_of, context.raw.redact,
        indexer=indexer, index=(indexer_entry or {}).get("index", DEFAULT_INDEX),
        vulnerabilities=entry.get("vulnerabilities", "auto"),
        tags=dict(entry.get("tags", {})),
        include_manager=bool(entry.get("include_manager", True)),
        asset_kind_by_group=dict(entry.get("asset_kind_by_group", {})),
        default_asset_kind=entry.get("default_asset_kind", "server"),
        page_limit=int(entry.get("page_limit", 500)))]
