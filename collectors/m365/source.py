"""The ``m365`` section of the sources file: one entry per Microsoft 365 tenant.

    sources:
      m365:
        - name: morel
          tenant_id: 5f0c1d7e-...            # directory (tenant) id
          client_id: 8a2b...                 # app registration with application permissions
          client_secret_env: MOREL_GRAPH_SECRET   # or certificate_file (+ certificate_password_env)
          # auth: azure_cli                  # a person running it by hand: their `az login`
          cloud: global                      # global | usgov | usgov_dod | china
          # graph_host / login_host: explicit overrides (a proxy, a local Graph emulator)
          collect: [entra, intune, windows_updates, backup]

Credentials are never written in the file: a secret is named by its environment variable, a
certificate by its path. Every secret read, and every token obtained, is registered with the
run's redactor. Each entry builds up to three collectors (``entra``, ``intune``,
``m365.backup``), each with its own Graph client (async HTTP clients belong to the event loop
that first uses them), sharing one ``CachedCredential`` (one token per expiry), one retry
time budget and one gate (``gate.TenantGate``: ``throttling.concurrency`` requests in flight for
the tenant, 4 by default, and a back-off every collector of the tenant observes).

Before collecting, ``build`` checks the tenant can be reached as configured
(``collectors/m365/setup.py``): the secret variable or certificate file is there, a token is
granted, and the Graph host answers. When not, it raises ``ConfigurationError`` (exit 7).

``login_host`` (or ``cloud``) is the credential's ``authority``; for a host other than the
national clouds' own, MSAL's instance discovery (which asks the public cloud's
``login.microsoftonline.com`` whether the authority is known) is disabled with azure-identity's
``disable_instance_discovery=True``, so no request leaves for the public login host
(https://learn.microsoft.com/python/api/azure-identity/azure.identity.clientsecretcredential).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azure.core.credentials import TokenCredential
from azure.identity import AzureCliCredential, CertificateCredential, ClientSecretCredential

from clausewatch.collectors.base import Collector
from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.m365.backup import BackupCollector
from clausewatch.collectors.m365.clients import GraphEndpoint, RetryPolicy, graph_beta, graph_v1
from clausewatch.collectors.m365.entra import EntraCollector
from clausewatch.collectors.m365.gate import DEFAULT_CONCURRENCY, TenantGate
from clausewatch.collectors.m365.intune import IntuneCollector
from clausewatch.collectors.m365.setup import graph_problem, token_problem
from clausewatch.collectors.m365.token_cache import CachedCredential
from clausewatch.collectors.reachability import probe
from clausewatch.collectors.retry_budget import RETRY_SCHEMA, RetryBudget
from clausewatch.core.configuration import ConfigurationError, SetupProblem, source_label


@dataclass(frozen=True, slots=True)
class Cloud:
    graph: str
    login: str


#: National clouds: Graph host and Entra ID login host.
CLOUDS: Mapping[str, Cloud] = {
    "global": Cloud("https://graph.microsoft.com", "https://login.microsoftonline.com"),
    "usgov": Cloud("https://graph.microsoft.us", "https://login.microsoftonline.us"),
    "usgov_dod": Cloud("https://dod-graph.microsoft.us", "https://login.microsoftonline.us"),
    "china": Cloud("https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn"),
}
COLLECT = ("entra", "intune", "windows_updates", "backup")
_ENV = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
        "description": "name of an environment variable (never the value itself)"}
_HOST = {"type": "string", "pattern": "^https?://[^/?#\\s]+/?$",
         "description": "scheme://host[:port], e.g. https://graph.microsoft.us"}
_TAGS = {"type": "object", "additionalProperties": {"type": "string"}}

ENTRY_SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Microsoft 365 tenant",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "tenant_id"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "tenant_id": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9.-]*$",
                      "description": "directory (tenant) id, a GUID"},
        "client_id": {"type": "string", "minLength": 1,
                      "description": "application (client) id of the app registration"},
        "auth": {"enum": ["client_secret", "certificate", "azure_cli"],
                 "description": "inferred from the fields given; azure_cli uses `az login`"},
        "client_secret_env": _ENV,
        "certificate_file": {"type": "string", "minLength": 1,
                             "description": "PEM/PKCS12 file with the private key, relative "
                             "to the sources file"},
        "certificate_password_env": _ENV,
        "cloud": {"enum": list(CLOUDS), "default": "global"},
        "graph_host": _HOST,
        "login_host": _HOST,
        "collect": {"type": "array", "uniqueItems": True, "minItems": 1,
                    "items": {"enum": list(COLLECT)}, "default": list(COLLECT)},
        "classify_mailboxes": {"type": "boolean", "default": True,
                               "description": "read mailboxSettings.userPurpose to tell shared "
                               "and room mailboxes apart (MailboxSettings.Read)"},
        "service_accounts": {"type": "array", "items": {"type": "string", "minLength": 1},
                             "description": "UPN glob patterns of service accounts"},
        "tags": {**_TAGS, "description": "tags added to every Intune device"},
        "backup_tags": {**_TAGS, "description": "tags added to every Microsoft 365 Backup asset"},
        "backup_lookback_days": {"type": "integer", "minimum": 1, "maximum": 365, "default": 35},
        "retry": RETRY_SCHEMA,
        "throttling": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "max_retries": {"type": "integer", "minimum": 0, "maximum": 10, "default": 4},
                "max_wait_seconds": {"type": "number", "minimum": 0, "maximum": 170,
                                     "default": 60},
                "concurrency": {"type": "integer", "minimum": 1, "maximum": 16,
                                "default": DEFAULT_CONCURRENCY,
                                "description": "Graph requests in flight for this tenant, all "
                                "its collectors together (a $batch is one)"},
            },
        },
    },
}


def auth_kind(entry: Mapping[str, Any]) -> str | None:
    if "auth" in entry:
        return str(entry["auth"])
    if "client_secret_env" in entry:
        return "client_secret"
    if "certificate_file" in entry:
        return "certificate"
    return None


def entry_problems(entry: Mapping[str, Any]) -> Iterator[tuple[list[Any], str]]:
    """Consistency rules JSON Schema does not express clearly."""
    kind = auth_kind(entry)
    given = [k for k in ("client_secret_env", "certificate_file") if k in entry]
    if kind is None:
        yield [], "say how to authenticate: client_secret_env, certificate_file or auth: azure_cli"
    elif len(given) > 1 or (kind == "azure_cli" and given):
        yield [given[-1]], f"auth {kind}: give only one way to authenticate"
    elif kind == "client_secret" and "client_secret_env" not in entry:
        yield ["auth"], "auth client_secret needs client_secret_env"
    elif kind == "certificate" and "certificate_file" not in entry:
        yield ["auth"], "auth certificate needs certificate_file"
    if kind in ("client_secret", "certificate") and "client_id" not in entry:
        yield [], "client_id is required with a client secret or certificate"
    if "windows_updates" in entry.get("collect", ()) and "intune" not in entry["collect"]:
        yield ["collect"], "windows_updates needs intune (it assesses Intune's Windows devices)"
    if "certificate_password_env" in entry and "certificate_file" not in entry:
        yield ["certificate_password_env"], "certificate_password_env without certificate_file"
    if kind == "azure_cli" and "login_host" in entry:
        yield ["login_host"], "auth azure_cli signs in with the az CLI's own cloud (az cloud " \
                              "set); login_host applies to client_secret and certificate"
    if "max_retries" in entry.get("throttling", {}) and "max_attempts" in entry.get("retry", {}):
        yield ["retry", "max_attempts"], "give throttling.max_retries or retry.max_attempts"


class CredentialError(Exception):
    """A credential named in the sources file cannot be read (a missing variable or file)."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.fix = fix


KNOWN_LOGIN_HOSTS = frozenset(cloud.login for cloud in CLOUDS.values())


def make_credential(entry: Mapping[str, Any], context: BuildContext, login_host: str,
                    **options: Any) -> TokenCredential:
    """The azure-identity credential for an entry; every secret read goes to the redactor.
    ``options`` go to the credential (azure-core's ``transport=``, for tests)."""
    kind = auth_kind(entry)
    tenant = entry["tenant_id"]
    if kind == "azure_cli":
        return AzureCliCredential(tenant_id=tenant, **options)
    if login_host.rstrip("/") not in KNOWN_LOGIN_HOSTS:
        options.setdefault("disable_instance_discovery", True)
    if kind == "client_secret":
        var = entry["client_secret_env"]
        secret = context.env.get(var)
        if not secret:
            raise CredentialError(f"environment variable {var} (client_secret_env) is not set",
                                  f"export {var} with the application's client secret")
        context.secrets.add(secret)
        return ClientSecretCredential(tenant, entry["client_id"], secret, authority=login_host,
                                      **options)
    path = Path(entry["certificate_file"])
    path = path if path.is_absolute() else context.base_dir / path
    if not path.is_file():
        raise CredentialError(f"certificate_file {path} does not exist",
                              "put the certificate (PEM or PKCS#12, with its private key) "
                              "there, or correct certificate_file")
    password = None
    if "certificate_password_env" in entry:
        var = entry["certificate_password_env"]
        password = context.env.get(var)
        if not password:
            raise CredentialError(f"environment variable {var} (certificate_password_env) "
                                  "is not set", f"export {var} with the certificate's password")
        context.secrets.add(password)
    return CertificateCredential(tenant, entry["client_id"], certificate_path=str(path),
                                 password=password, authority=login_host, **options)


def retry_policy(entry: Mapping[str, Any], budget: RetryBudget | None = None) -> RetryPolicy:
    """Attempts (``retry.max_attempts``, or 1 + ``throttling.max_retries``), the longest single
    wait, the entry's time budget (``retry.budget_seconds``) and its gate
    (``throttling.concurrency`` requests in flight)."""
    throttling = entry.get("throttling", {})
    retry = entry.get("retry", {})
    retries = retry["max_attempts"] - 1 if "max_attempts" in retry else \
        throttling.get("max_retries", 4)
    max_wait = float(throttling.get("max_wait_seconds", 60.0))
    return RetryPolicy(max_retries=retries, max_wait_seconds=max_wait,
                       budget=budget or RetryBudget.from_entry(entry),
                       gate=TenantGate(throttling.get("concurrency", DEFAULT_CONCURRENCY),
                                       max_pause=max_wait))


def build(entry: Mapping[str, Any], context: BuildContext, *, preflight: bool = True,
          budget: RetryBudget | None = None) -> list[Collector]:
    """The collectors of one tenant entry, once it is known to be reachable (``preflight``)."""
    cloud = CLOUDS[entry.get("cloud", "global")]
    graph = (entry.get("graph_host") or cloud.graph).rstrip("/")
    login = (entry.get("login_host") or cloud.login).rstrip("/")
    tenant = entry["tenant_id"]
    collect = list(entry.get("collect", COLLECT))
    retry = retry_policy(entry, budget)
    label = source_label("m365", entry["name"])
    try:
        credential = CachedCredential(make_credential(entry, context, login), context.secrets)
    except CredentialError as exc:
        raise ConfigurationError([SetupProblem(label, str(exc), exc.fix)]) from exc
    except ValueError as exc:  # azure-identity refuses the authority (not https)
        raise ConfigurationError([SetupProblem(label, f"login host {login}: {exc}",
                                               "give login_host as https://<host>")]) from exc
    endpoint = GraphEndpoint(graph, f"{cloud.graph}/.default")
    if preflight:
        _preflight(entry, credential, endpoint, login, label)
    out: list[Collector] = []
    if "entra" in collect:
        out.append(EntraCollector(
            tenant_id=tenant,
            client=graph_v1(credential, endpoint, retry),
            raw=context.raw,
            observed_at=context.as_of,
            classify_mailboxes=entry.get("classify_mailboxes", True),
            service_accounts=tuple(entry.get("service_accounts", ())),
            retry=retry,
        ))
    if "intune" in collect:
        beta = graph_beta(credential, endpoint, retry) if "windows_updates" in collect else None
        out.append(IntuneCollector(
            tenant_id=tenant,
            client=graph_v1(credential, endpoint, retry),
            beta=beta,
            raw=context.raw,
            observed_at=context.as_of,
            tags=dict(entry.get("tags", {})),
        ))
    if "backup" in collect:
        out.append(BackupCollector(
            tenant_id=tenant,
            client=graph_v1(credential, endpoint, retry),
            raw=context.raw,
            observed_at=context.as_of,
            lookback_days=entry.get("backup_lookback_days", 35),
            tags=dict(entry.get("backup_tags", {})),
        ))
    return out


def _preflight(entry: Mapping[str, Any], credential: CachedCredential, endpoint: GraphEndpoint,
               login: str, label: str) -> None:
    """A token (kept for the collection) and an answer from the Graph host, or
    ``ConfigurationError``. A failure that is not about configuration is left to the
    collectors, which report it as a collection error."""
    try:
        credential.get_token(endpoint.scope, enable_cae=True)  # as kiota asks: one token
    except Exception as exc:  # whatever the credential raises: judged below, else collected
        problem = token_problem(exc, label, auth_kind(entry) or "", login,
                                entry.get("client_secret_env"))
        if problem is not None:
            raise ConfigurationError([problem]) from exc
    reason = probe(f"{endpoint.base}/v1.0/")
    if reason is not None:
        raise ConfigurationError([graph_problem(label, endpoint.base, reason)])


def planned(tenant: str, collect: Sequence[str]) -> list[tuple[str, str, tuple[str, ...]]]:
    """(source, origin, kinds) of each collector an entry asks for."""
    out: list[tuple[str, str, tuple[str, ...]]] = []
    if "entra" in collect:
        out.append((EntraCollector.source, f"entra/{tenant}", EntraCollector.kinds))
    if "intune" in collect:
        out.append((IntuneCollector.source, f"intune/{tenant}", IntuneCollector.kinds))
    if "backup" in collect:
        out.append((BackupCollector.source, f"m365backup/{tenant}", BackupCollector.kinds))
    return out
