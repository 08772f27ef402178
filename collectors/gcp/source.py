"""The ``gcp`` section of the sources file: one entry per Google Cloud organisation (or projects).

    sources:
      gcp:
        - name: morel-cloud
          organization_id: "123456789012"     # every ACTIVE folder and project under it
          # projects: [prod-a, prod-b]         # or these projects (ancestors read for inheritance)
          exclude_projects: [sandbox-lab]
          collect: [iam, vms]                  # default: both
          credentials: {impersonate: clausewatch@ops.iam.gserviceaccount.com}  # default: ADC
          workspace:                           # where 2SV and group members are read
            customer: C03az79cb
            domains: [example.com]
            subject: admin@example.com         # domain-wide delegation
          tags: {customer: morel}              # added to every VM
          # privileged_roles / extra_privileged_roles / privileged_permissions
          # endpoints: {cloudresourcemanager: ..., iam: ..., compute: ..., osconfig: ...}

The hierarchy is discovered while the collectors are built (as AWS accounts are): one IAM
collector for the whole hierarchy (source ``gcp``, origin ``gcp/<root>``, ``<root>`` the
organisation id, else the entry's name) and one VM collector per project (source
``gcp.compute``, origin ``gcp/<root>/<project>``). A part of the hierarchy that cannot be listed
is a collection error for every kind the entry collects; a project being deleted is logged and
not judged. Roles and scopes: docs/gcp.md.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from clausewatch.collectors.base import Collector, FailedCollector
from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.gcp.hierarchy import Discovery, Hierarchy
from clausewatch.collectors.gcp.iam import GcpIamCollector
from clausewatch.collectors.gcp.principals import SOURCE as IAM_SOURCE
from clausewatch.collectors.gcp.roles import (
    DEFAULT_PRIVILEGED_PERMISSIONS,
    DEFAULT_PRIVILEGED_ROLES,
    RoleBook,
)
from clausewatch.collectors.gcp.vms import SOURCE as VM_SOURCE
from clausewatch.collectors.gcp.vms import VmCollector
from clausewatch.collectors.gcp.workspace_link import WorkspaceLink
from clausewatch.collectors.google import clients
from clausewatch.collectors.google.credentials import EMAIL
from clausewatch.collectors.google.directory import GROUP_SCOPE, USER_SCOPE, Directory
from clausewatch.collectors.google.entry import COMMON_PROPERTIES, GoogleSetup, setup_from
from clausewatch.collectors.google.errors import SETUP_FAILURES, collection_error, describe
from clausewatch.collectors.google.pages import PageSink
from clausewatch.collectors.google.setup import configuration_problem
from clausewatch.collectors.google.together import Ahead
from clausewatch.core.configuration import ConfigurationError
from clausewatch.core.evidence import CollectionError, Kind

log = logging.getLogger(__name__)
READ_ONLY = "https://www.googleapis.com/auth/cloud-platform.read-only"
COLLECT = {"iam": (Kind.IDENTITY.value,), "vms": (Kind.ASSET.value, Kind.PATCH.value)}
PROJECT_ID = {"type": "string", "pattern": "^[a-z][a-z0-9-]{4,28}[a-z0-9]$"}
ROLE = {"type": "string", "pattern": "^(roles/|organizations/[0-9]+/roles/|projects/[^/]+/roles/)"}

ENTRY_SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Google Cloud organisation or projects",
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$"},
        "organization_id": {"type": "string", "pattern": "^[0-9]+$",
                            "description": "numeric organisation id"},
        "projects": {"type": "array", "items": PROJECT_ID, "minItems": 1, "uniqueItems": True},
        "exclude_projects": {"type": "array", "items": PROJECT_ID, "uniqueItems": True},
        "collect": {"type": "array", "uniqueItems": True, "minItems": 1,
                    "items": {"enum": list(COLLECT)}, "default": list(COLLECT)},
        "workspace": {
            "type": "object",
            "additionalProperties": False,
            "required": ["customer", "domains"],
            "description": "the Workspace Directory of the organisation's users",
            "properties": {
                "customer": {"type": "string", "pattern": "^(my_customer|C[0-9A-Za-z]+)$"},
                "domains": {"type": "array", "minItems": 1, "uniqueItems": True,
                            "items": {"type": "string", "pattern": "^[a-z0-9.-]+\\.[a-z]+$"}},
                "subject": {**EMAIL, "description": "Workspace admin to act as (domain-wide "
                            "delegation)"},
            },
        },
        "privileged_roles": {"type": "array", "items": ROLE, "uniqueItems": True,
                             "description": "replaces the default set of privileged roles"},
        "extra_privileged_roles": {"type": "array", "items": ROLE, "uniqueItems": True},
        "privileged_permissions": {"type": "array", "minItems": 1,
                                   "items": {"type": "string", "minLength": 1},
                                   "description": "glob patterns: a custom role holding one "
                                                  "is privileged (default *.setIamPolicy)"},
        "tags": {"type": "object", "additionalProperties": {"type": "string"},
                 "description": "tags added to every VM"},
        **COMMON_PROPERTIES,
    },
}


def entry_problems(entry: Mapping[str, Any]) -> Iterator[tuple[list[Any], str]]:
    """Rules the schema cannot say."""
    if "organization_id" not in entry and "projects" not in entry:
        yield [], "give organization_id (discover its projects) or projects (a list)"
    if "exclude_projects" in entry and "projects" in entry:
        yield ["exclude_projects"], "exclude_projects goes with organization_id discovery"
    if "privileged_roles" in entry and "extra_privileged_roles" in entry:
        yield ["extra_privileged_roles"], "give privileged_roles or extra_privileged_roles"


def root_of(entry: Mapping[str, Any]) -> str:
    return str(entry.get("organization_id") or entry["name"])


def _planned_errors(entry: Mapping[str, Any], origin: str, operation: str, message: str,
                    jobs: Sequence[str] | None = None) -> list[Collector]:
    """One error per job of the entry (or of ``jobs``): what each would have collected."""
    out: list[Collector] = []
    for job in entry.get("collect", list(COLLECT)) if jobs is None else jobs:
        source = IAM_SOURCE if job == "iam" else VM_SOURCE
        out.append(FailedCollector(CollectionError(
            source=source, origin=origin, kinds=COLLECT[job], operation=operation,
            message=message)))
    return out


def build(entry: Mapping[str, Any], context: BuildContext) -> list[Collector]:
    """The collectors of one entry (the hierarchy is discovered here)."""
    root = root_of(entry)
    origin = f"gcp/{root}"
    try:
        setup = setup_from(entry, context)
        credentials = setup.auth.credentials([READ_ONLY])
        rm = clients.resource_manager(credentials, setup.endpoints)
    except SETUP_FAILURES as exc:
        _raise_if_configuration(exc, entry)
        return _planned_errors(entry, origin, "credential", f"gcp {entry['name']}: "
                                                            f"{describe(exc)}")
    collect = entry.get("collect", list(COLLECT))
    ahead = _Ahead.start(collect, credentials, setup)  # built while the hierarchy is read
    sink = PageSink(context.raw, IAM_SOURCE, origin)
    discovery = Discovery(rm, sink, setup.retry, frozenset(entry.get("exclude_projects", ())))
    if "organization_id" in entry:
        tree = discovery.organisation(str(entry["organization_id"]))
    else:
        tree = discovery.projects(root, entry["projects"])
    out: list[Collector] = _gaps(entry, tree, context)
    for node in tree.deleting:
        log.warning("gcp %s: %s is %s: reported, not judged", entry["name"], node.label,
                    node.state)
    makers: dict[str, Callable[[], list[Collector]]] = {
        "iam": lambda: [_iam(entry, context, setup, tree, rm, ahead)],
        "vms": lambda: _vms(entry, context, setup, tree, credentials, ahead)}
    for job in (job for job in makers if job in collect):
        try:
            out += makers[job]()
        except SETUP_FAILURES as exc:  # bears on this job only: the other keeps its collector
            _raise_if_configuration(exc, entry)
            out += _planned_errors(entry, origin, "credential",
                                   f"gcp {entry['name']}: {describe(exc)}", jobs=(job,))
    return out


def _raise_if_configuration(exc: BaseException, entry: Mapping[str, Any]) -> None:
    problem = configuration_problem(exc, "gcp", str(entry["name"]))
    if problem is not None:
        raise ConfigurationError([problem]) from exc


def _gaps(entry: Mapping[str, Any], tree: Hierarchy, context: BuildContext) -> list[Collector]:
    out: list[Collector] = []
    for gap in tree.gaps:
        for job in entry.get("collect", list(COLLECT)):
            source = IAM_SOURCE if job == "iam" else VM_SOURCE
            out.append(FailedCollector(collection_error(
                gap.error, source=source, origin=tree.node_origin(gap.under), kinds=COLLECT[job],
                operation=f"{gap.operation} {gap.under}", redact=context.raw.redact)))
    return out


@dataclass(frozen=True, slots=True)
class _Ahead:
    """The discovery clients an entry's collectors will use (IAM v1; Compute Engine and OS
    Config), built in turn on one thread while the hierarchy is read: building one is CPU work
    (about 50 ms) that needs no answer from Resource Manager, and the hierarchy's requests are
    waits. A client that could not be built raises where it is first used, as it did when it
    was built there; one that is never used (no project) is dropped."""

    built: Ahead[dict[str, Ahead[Any]]]

    @classmethod
    def start(cls, collect: Sequence[str], credentials: Any, setup: GoogleSetup) -> _Ahead:
        timeout, endpoints = setup.retry.request_timeout, setup.endpoints
        makers: dict[str, Callable[[], Any]] = {}
        if "iam" in collect:
            makers["iam"] = lambda: clients.discovery("iam", "v1", credentials, endpoints,
                                                      "iam", timeout)
        if "vms" in collect:
            makers["compute"] = lambda: clients.compute(credentials, endpoints, timeout)
            makers["os_config"] = lambda: clients.os_config(credentials, endpoints, timeout)
        return cls(Ahead(lambda: {name: Ahead.now(make) for name, make in makers.items()}))

    def client(self, name: str) -> Any:
        return self.built.result()[name].result()


def _iam(entry: Mapping[str, Any], context: BuildContext, setup: GoogleSetup, tree: Hierarchy,
         rm: clients.ResourceManager, ahead: _Ahead) -> Collector:
    roles = frozenset(entry.get("privileged_roles", DEFAULT_PRIVILEGED_ROLES)) | frozenset(
        entry.get("extra_privileged_roles", ()))
    sink = PageSink(context.raw, IAM_SOURCE, f"gcp/{tree.root}")
    iam = ahead.client("iam")
    book = RoleBook(iam, sink, setup.retry, privileged_roles=roles,
                    permissions=tuple(entry.get("privileged_permissions",
                                                DEFAULT_PRIVILEGED_PERMISSIONS)))
    link = None
    if "workspace" in entry:
        ws = entry["workspace"]
        directory_creds = setup.auth.credentials([USER_SCOPE, GROUP_SCOPE],
                                                 subject=ws.get("subject"))
        service = clients.discovery("admin", "directory_v1", directory_creds, setup.endpoints,
                                    "admin", setup.retry.request_timeout)
        directory = Directory(service, sink, setup.retry, customer=str(ws["customer"]))
        link = WorkspaceLink(directory, frozenset(d.lower() for d in ws["domains"]))
    return GcpIamCollector(tree, rm, book, sink, setup.retry, context.as_of, workspace=link)


def _vms(entry: Mapping[str, Any], context: BuildContext, setup: GoogleSetup, tree: Hierarchy,
         credentials: Any, ahead: _Ahead) -> list[Collector]:
    out: list[Collector] = []
    if not any(node.project_id for node in tree.projects):
        return out
    clients.with_token(credentials, setup.retry.request_timeout)  # the clients' credentials
    compute = ahead.client("compute")  # shared: thread-safe
    os_config = ahead.client("os_config")
    for node in tree.projects:
        if not node.project_id:
            continue
        origin = tree.project_origin(node)
        out.append(VmCollector(
            tree.root, node.project_id, compute, os_config,
            PageSink(context.raw, VM_SOURCE, origin), setup.retry, context.as_of,
            tags=dict(entry.get("tags", {})), project_labels=dict(node.labels)))
    return out
