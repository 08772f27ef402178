"""Compute Engine VMs of one project (``instances.aggregatedList``), as Google's JSON.

``GET /compute/v1/projects/{project}/aggregated/instances`` returns ``items`` keyed by scope
(``zones/<zone>``); a scope with no instance carries a ``NO_RESULTS_ON_PAGE`` warning, one that
could not be reached an ``UNREACHABLE`` warning, and the page lists ``unreachables``: those zones
are incomplete, never empty (https://cloud.google.com/compute/docs/reference/rest/v1/instances/
aggregatedList). ``status`` is one of PROVISIONING, STAGING, RUNNING, STOPPING, STOPPED,
SUSPENDING, SUSPENDED, REPAIRING, TERMINATED, PENDING, PENDING_STOP, DEPROVISIONING; a
TERMINATED VM is out of scope (it runs nothing until it is started again, and is then seen
again). A SUSPENDED or STOPPED VM stays in scope: it resumes as it was left.

Subject: the full resource name ``//compute.googleapis.com/projects/P/zones/Z/instances/NAME``,
the name Backup and DR and Cloud Asset Inventory use too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from clausewatch.collectors.google.pages import Json

OUT_OF_SCOPE = frozenset({"TERMINATED"})
INCOMPLETE_WARNINGS = frozenset({"UNREACHABLE"})


def vm_subject(project: str, zone: str, name: str) -> str:
    return f"//compute.googleapis.com/projects/{project}/zones/{zone}/instances/{name}"


def last_segment(url: Any) -> str:
    return str(url or "").rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True, slots=True)
class Vm:
    """One instance as the aggregated list shows it."""

    id: str
    name: str
    project: str
    zone: str
    status: str
    labels: Mapping[str, str]
    machine_type: str
    osconfig_metadata: str | None  # the ``enable-osconfig`` metadata value, if set
    raw_ref: str

    @property
    def subject(self) -> str:
        return vm_subject(self.project, self.zone, self.name)


@dataclass
class VmListing:
    """The VMs in scope, the ones left out, and the zones that could not be read."""

    vms: list[Vm] = field(default_factory=list)
    terminated: list[str] = field(default_factory=list)
    unreachable: set[str] = field(default_factory=set)


def read_vms(project: str, pages: list[tuple[Json, str]]) -> VmListing:
    """Normalise every page of an aggregated listing (already read whole)."""
    out = VmListing()
    for body, ref in pages:
        out.unreachable.update(last_segment(z) for z in body.get("unreachables", []))
        for scope, listed in (body.get("items") or {}).items():
            warning = (listed or {}).get("warning") or {}
            if warning.get("code") in INCOMPLETE_WARNINGS:
                out.unreachable.add(last_segment(scope))
            for inst in (listed or {}).get("instances", []):
                status = str(inst.get("status") or "")
                name = str(inst.get("name"))
                if status in OUT_OF_SCOPE:
                    out.terminated.append(name)
                    continue
                items = (inst.get("metadata") or {}).get("items") or []
                meta = {str(i.get("key")): str(i.get("value")) for i in items}
                out.vms.append(Vm(
                    id=str(inst.get("id")),
                    name=name,
                    project=project,
                    zone=last_segment(inst.get("zone") or scope),
                    status=status or "UNKNOWN",
                    labels={str(k): str(v) for k, v in (inst.get("labels") or {}).items()},
                    machine_type=last_segment(inst.get("machineType")),
                    osconfig_metadata=meta.get("enable-osconfig"),
                    raw_ref=ref,
                ))
    return out
