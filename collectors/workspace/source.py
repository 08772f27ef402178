"""The ``workspace`` section of the sources file: one entry per Google Workspace customer.

    sources:
      workspace:
        - name: morel
          customer: C03az79cb              # or my_customer (the subject's own customer)
          subject: admin@example.com       # domain-wide delegation: act as this admin
          credentials: {key_file_env: MOREL_GOOGLE_KEY}   # default: ADC
          service_accounts: ["svc-*@example.com"]
          # endpoints: {admin: http://127.0.0.1:8080}
          # retry: {attempts: 5, timeout_seconds: 120, budget_retries: 200}

OAuth scopes (read-only): ``admin.directory.user.readonly`` (users, 2SV flags),
``admin.directory.rolemanagement.readonly`` (admin roles and assignments) and
``admin.directory.group.readonly`` (members of groups holding a role); see docs/gcp.md.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from clausewatch.collectors.base import Collector, FailedCollector
from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.google.credentials import EMAIL
from clausewatch.collectors.google.directory import (
    GROUP_SCOPE,
    ROLE_SCOPE,
    USER_SCOPE,
    Directory,
)
from clausewatch.collectors.google.entry import COMMON_PROPERTIES, setup_from
from clausewatch.collectors.google.errors import SETUP_FAILURES, describe
from clausewatch.collectors.google.pages import PageSink
from clausewatch.collectors.google.setup import configuration_problem
from clausewatch.collectors.workspace.collector import WorkspaceCollector
from clausewatch.collectors.workspace.identity import SOURCE
from clausewatch.core.configuration import ConfigurationError
from clausewatch.core.evidence import CollectionError, Kind

SCOPES = (USER_SCOPE, ROLE_SCOPE, GROUP_SCOPE)
#: The Directory's quota is 2,400 queries a minute per user per project; a 403
#: ``quotaExceeded`` means "the limit for concurrent requests for a particular operation has
#: been reached", a limit it does not give (https://developers.google.com/workspace/admin/
#: directory/v1/limits): the collector keeps one request of a customer in flight.
DIRECTORY_REQUESTS_AT_ONCE = 1
CUSTOMER = {"type": "string", "pattern": "^(my_customer|C[0-9A-Za-z]+)$",
            "description": "Workspace customer id (Admin console > Account settings), or "
                           "my_customer"}

ENTRY_SCHEMA: Mapping[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Google Workspace customer",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "customer"],
    "properties": {
        "name": {"type": "string", "minLength": 1},
        "customer": CUSTOMER,
        "subject": {**EMAIL, "description": "Workspace administrator to act as (domain-wide "
                    "delegation); omit when the credentials are an admin's own"},
        "service_accounts": {"type": "array", "items": {"type": "string", "minLength": 1},
                             "description": "email glob patterns of service accounts"},
        **COMMON_PROPERTIES,
    },
}


def entry_problems(entry: Mapping[str, Any]) -> Iterator[tuple[list[Any], str]]:
    """Rules the schema cannot say."""
    if entry.get("customer") == "my_customer" and "subject" not in entry:
        yield ["customer"], "my_customer names the subject's customer: give subject, or the " \
                            "customer id"


def origin_label(entry: Mapping[str, Any]) -> str:
    customer = str(entry["customer"])
    return str(entry["name"]) if customer == "my_customer" else customer


def build(entry: Mapping[str, Any], context: BuildContext) -> list[Collector]:
    """The collector of one customer entry."""
    label = origin_label(entry)
    try:
        setup = setup_from(entry, context)
        credentials = setup.auth.credentials(SCOPES, subject=entry.get("subject"))
        from clausewatch.collectors.google.clients import discovery

        service = discovery("admin", "directory_v1", credentials, setup.endpoints, "admin",
                            setup.retry.request_timeout)
    except SETUP_FAILURES as exc:
        problem = configuration_problem(exc, "workspace", str(entry["name"]))
        if problem is not None:
            raise ConfigurationError([problem]) from exc
        return [FailedCollector(CollectionError(
            source=SOURCE, origin=f"workspace/{label}", kinds=(Kind.IDENTITY.value,),
            operation="credential", message=f"workspace {entry['name']}: {describe(exc)}"))]
    sink = PageSink(context.raw, SOURCE, f"workspace/{label}")
    retry = replace(setup.retry, gate=threading.BoundedSemaphore(DIRECTORY_REQUESTS_AT_ONCE))
    directory = Directory(service, sink, retry, customer=str(entry["customer"]))
    return [WorkspaceCollector(label, directory, context.as_of,
                               service_accounts=tuple(entry.get("service_accounts", ())))]
