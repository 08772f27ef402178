"""The ``defender`` section of the sources file: one entry per Defender for Endpoint tenant.

    sources:
      defender:
        - name: morel                              # origin defender/morel
          tenant_id: 5f0c1d7e-...                  # directory (tenant) id
          client_id: 8a2b...                       # app with WindowsDefenderATP app roles
          client_secret_env: MOREL_MDE_SECRET      # or certificate_file (+ _password_env)
          cloud: global                            # global | gcc | gcc_high | dod | china
          # api_host: https://eu.api.security.microsoft.com   # a regional host, a proxy
          # login_host / scope: overrides of the cloud's sign-in host and token scope
          tags: {customer: morel}
          # machine_filter: "healthStatus ne 'Inactive'"      # OData $filter on /api/machines
          # release_dates: msrc                    # msrc (default) | none; msrc_url overrides
          # tls / timeouts / retry: the REST kit's (docs/rest-kit.md)

No credential is written in the file. A missing variable or certificate is a
``CollectionError`` for this tenant only (its subjects ``no_evidence``). See docs/defender.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from clausewatch.collectors.base import Collector, FailedCollector
from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.defender.api import DEFAULT_EXPORT_PAGE, MAX_EXPORT_PAGE, MAX_TOP
from clausewatch.collectors.defender.auth import CredentialAuth, CredentialError, make_credential
from clausewatch.collectors.defender.clouds import CLOUDS
from clausewatch.collectors.defender.collector import ALL_KINDS, SOURCE, DefenderCollector
from clausewatch.collectors.defender.releases import DEFAULT_MSRC, MsrcReleases
from clausewatch.collectors.rest.client import (
    CONNECTION_PROPERTIES,
    connection_problems,
    make_client,
    settings_from,
)
from clausewatch.collectors.rest.retry import RETRY_SCHEMA, RetryPolicy
from clausewatch.collectors.rest.session import RestSession
from clausewatch.core.evidence import CollectionError

_ENV = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
        "description": "name of an environment variable (never the value itself)"}
_HOST = {"type": "string", "pattern": "^https?://[^/?#\\s]+/?$",
         "description": "scheme://host[:port]"}

ENTRY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Microsoft Defender for Endpoint tenant",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "tenant_id", "client_id"],
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$",
                 "description": "names the tenant in origins (defender/<name>) and subjects"},
        "tenant_id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9.-]*$",
                      "description": "directory (tenant) id, a GUID"},
        "client_id": {"type": "string", "minLength": 1,
                      "description": "application (client) id of the app registration"},
        "client_secret_env": _ENV,
        "certificate_file": {"type": "string", "minLength": 1,
                             "description": "PEM/PKCS12 file with the private key, relative "
                             "to the sources file"},
        "certificate_password_env": _ENV,
        "cloud": {"enum": list(CLOUDS), "default": "global"},
        "api_host": {**_HOST, "description": "the Defender API host (default: the cloud's; "
                     "a regional host such as https://eu.api.security.microsoft.com)"},
        "login_host": {**_HOST, "description": "the Entra ID sign-in host (default: the "
                       "cloud's)"},
        "scope": {"type": "string", "pattern": "^https://\\S+/\\.default$",
                  "description": "token scope (default: the cloud's)"},
        "tags": {"type": "object", "additionalProperties": {"type": "string"},
                 "description": "tags added to every machine of this tenant"},
        "machine_filter": {"type": "string", "minLength": 1, "maxLength": 2000,
                           "description": "OData $filter on /api/machines"},
        "page_size": {"type": "integer", "minimum": 1, "maximum": MAX_TOP,
                      "default": MAX_TOP, "description": "machines per page ($top)"},
        "export_page_size": {"type": "integer", "minimum": 1, "maximum": MAX_EXPORT_PAGE,
                             "default": DEFAULT_EXPORT_PAGE,
                             "description": "rows per page of the vulnerability export"},
        "release_dates": {"enum": ["msrc", "none"], "default": "msrc",
                          "description": "where KB release dates come from (release clock)"},
        "msrc_url": {"type": "string", "pattern": "^https?://[^?#\\s]+/$",
                     "default": DEFAULT_MSRC, "description": "MSRC CVRF API base"},
        **CONNECTION_PROPERTIES,
        "retry": RETRY_SCHEMA,
    },
}
ENTRY_SCHEMA["properties"].pop("url")  # api_host instead: the cloud gives it


def entry_problems(entry: Mapping[str, Any]) -> Iterator[tuple[list[Any], str]]:
    """One way to authenticate, the kit's connection rules, and what a cloud leaves open."""
    given = [k for k in ("client_secret_env", "certificate_file") if k in entry]
    if not given:
        yield [], "say how to authenticate: client_secret_env or certificate_file"
    elif len(given) > 1:
        yield [given[-1]], "give only one way to authenticate"
    if "certificate_password_env" in entry and "certificate_file" not in entry:
        yield ["certificate_password_env"], "certificate_password_env without certificate_file"
    cloud = CLOUDS[entry.get("cloud", "global")] if entry.get("cloud", "global") in CLOUDS \
        else None
    if cloud is not None and cloud.api is None and "api_host" not in entry:
        yield ["api_host"], (f"cloud {entry.get('cloud')}: no Defender for Endpoint API host is "
                             "documented there; give api_host")
    if cloud is not None and cloud.scope is None and "scope" not in entry:
        yield ["scope"], f"cloud {entry.get('cloud')}: give the token scope"
    for key in ("api_host", "login_host", "msrc_url"):
        url = entry.get(key)
        if isinstance(url, str):
            for _, message in connection_problems({"url": url}):
                yield [key], message
    yield from ((w, m) for w, m in connection_problems(entry) if w != ["url"])


def build(entry: Mapping[str, Any], context: BuildContext,
          retry: RetryPolicy | None = None) -> list[Collector]:
    """One collector for the tenant (or one that says why it could not be built)."""
    name = entry["name"]
    cloud = CLOUDS[entry.get("cloud", "global")]
    api = str(entry.get("api_host") or cloud.api).rstrip("/")
    login = str(entry.get("login_host") or cloud.login).rstrip("/")
    scope = str(entry.get("scope") or cloud.scope)
    settings = settings_from({**entry, "url": api}, context.base_dir, section="defender")
    settings = replace(settings, base_url=f"{api}/")
    try:
        credential = make_credential(entry, context, login, settings.ca_bundle)
    except (CredentialError, ValueError) as exc:
        return [FailedCollector(CollectionError(
            source=SOURCE, origin=f"{SOURCE}/{name}", kinds=ALL_KINDS, operation="credential",
            message=f"tenant {name}: {exc}"))]
    policy = retry or RetryPolicy.from_entry(entry)
    auth = CredentialAuth(credential, scope, login)
    session = RestSession(make_client(settings, context.secrets, auth=auth), policy)
    releases = None
    if entry.get("release_dates", "msrc") == "msrc":
        msrc = replace(settings, base_url=str(entry.get("msrc_url", DEFAULT_MSRC)),
                       label=f"defender {name} (MSRC)")
        client = make_client(msrc, context.secrets)
        releases = MsrcReleases(RestSession(client, policy), context.raw, SOURCE,
                                f"{SOURCE}/{name}", context.raw.redact)
    return [DefenderCollector(
        name, session, context.raw, context.as_of, context.raw.redact,
        tags=dict(entry.get("tags", {})), machine_filter=entry.get("machine_filter"),
        page_size=int(entry.get("page_size", MAX_TOP)),
        export_page_size=int(entry.get("export_page_size", DEFAULT_EXPORT_PAGE)),
        releases=releases)]


