"""IAM allow policies of the organisation, folders and projects (``getIamPolicy``, version 3).

``requestedPolicyVersion: 3`` is asked for, since a policy with conditional bindings must be read
at version 3 to see its conditions. A project's policy does not include what it inherits: the
effective roles on a project are the union of its own bindings and those of every ancestor
(https://cloud.google.com/iam/docs/resource-hierarchy-access-control). A project whose policy
cannot be read answers 403 whether it exists or not ("Permission is denied if the policy or the
resource do not exist", Resource Manager v3 reference).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from clausewatch.collectors.gcp.hierarchy import Node
from clausewatch.collectors.google.clients import ResourceManager
from clausewatch.collectors.google.pages import Json, PageSink, message_dict
from clausewatch.collectors.google.retry import RetrySettings


@dataclass(frozen=True, slots=True)
class Binding:
    """One role granted to members on one node, maybe under a condition."""

    node: str  # the node's name (organizations/N, folders/N, projects/NUMBER)
    role: str
    members: tuple[str, ...]
    condition: str | None  # the CEL expression
    condition_title: str | None
    raw_ref: str


def bindings_of(node: Node, policy: Json, raw_ref: str) -> list[Binding]:
    """The bindings of one policy document (Google's JSON)."""
    out = []
    for b in policy.get("bindings", []):
        cond = b.get("condition") or {}
        out.append(Binding(
            node=node.name,
            role=str(b.get("role", "")),
            members=tuple(str(m) for m in b.get("members", [])),
            condition=str(cond["expression"]) if cond.get("expression") else None,
            condition_title=str(cond["title"]) if cond.get("title") else None,
            raw_ref=raw_ref,
        ))
    return out


def read_policy(rm: ResourceManager, node: Node, sink: PageSink, retry: RetrySettings,
                origin: str) -> list[Binding]:
    """The bindings set on ``node`` itself (raises on failure)."""
    client: Any = {"organizations": rm.organizations, "folders": rm.folders,
                   "projects": rm.projects}[node.kind]
    with retry.gate:  # held through the client library's own retries: one policy at a time
        policy = client.get_iam_policy(
            request={"resource": node.resource, "options": {"requested_policy_version": 3}},
            retry=retry.retry(), timeout=retry.request_timeout)
    body = message_dict(policy)
    return bindings_of(node, body, sink.save("get-iam-policy", body, origin))
