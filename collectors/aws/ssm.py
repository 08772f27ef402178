"""Servers and their patches in one account and region: EC2 inventory joined to SSM Patch Manager.

Every EC2 instance is an asset, managed by SSM or not: an instance SSM does not know keeps
``patch_assessed_at: None``, so ``patch_lag`` reports it ``no_evidence`` instead of ignoring it.
For managed nodes (``DescribeInstanceInformation``, 50 a page): ``DescribeInstancePatchStates``
(50 ids per call) gives the last assessment time and the count of updates in each state,
``DescribeInstancePatches`` the updates (installed, missing, failed; 100 a page, one node per
call: the API has no batch form), and ``DescribeAvailablePatches`` the vendor release dates of
Windows KBs (cached for the run). A node whose patch state counts 0 in every state read
(:func:`nothing_listed`) is not listed: the list would be empty, and its asset still carries its
own assessment time and the counts, with ``patch_state_ref`` naming the page they come from.
Installed updates are listed like the others (``patch_lag`` judges late installs), so only a
node with nothing at all is spared the call. A failed ``DescribeInstancePatchStates`` batch is
an error about each of its nodes, by subject; the other batches stand
(https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_InstancePatchState.html).

State mapping: ``INSTALLED_PENDING_REBOOT`` counts as ``missing`` (the fixed code is not running
until the reboot) and ``AVAILABLE_SECURITY_UPDATE`` (released, not yet approved by the baseline)
as ``missing`` too; both keep the vendor state in ``vendor_state``.

Release dates: only Windows KBs have one through ``DescribeAvailablePatches`` by id. A missing
update without a date stays in the evidence (its deadline is unknown: ``no_evidence``); an
*installed* one without a date is left out, since lateness cannot be measured for it either
way, and counted on the asset (``undated_installed_updates``).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import Any

from clausewatch.collectors.aws.ec2 import SOURCE as EC2_SOURCE
from clausewatch.collectors.aws.ec2 import Instance, read_instances
from clausewatch.collectors.aws.errors import AWS_FAILURES, collection_error
from clausewatch.collectors.aws.pagination import PageReader
from clausewatch.collectors.raw import RawRecorder
from clausewatch.core.evidence import CollectionError, Evidence, Kind

SOURCE = "aws.ssm"
STATE_BATCH = 50  # DescribeInstancePatchStates takes at most 50 instance ids
INFO_PAGE = 50  # DescribeInstanceInformation MaxResults: 5-50, default 10
PATCH_PAGE = 100  # DescribeInstancePatches MaxResults: 10-100
RELEASE_BATCH = 20  # a PatchOrchestratorFilter holds at most 20 values
KB = re.compile(r"^KB\d+$", re.IGNORECASE)
#: Filter values are CamelCase; the states in the answer are UPPER_SNAKE.
WANTED_STATES = ["Installed", "InstalledOther", "InstalledPendingReboot", "InstalledRejected",
                 "Missing", "Failed", "AvailableSecurityUpdate"]
#: DescribeInstancePatchStates counts of the states in ``WANTED_STATES``, one each.
COUNTS = ("InstalledCount", "InstalledOtherCount", "InstalledPendingRebootCount",
          "InstalledRejectedCount", "MissingCount", "FailedCount", "AvailableSecurityUpdateCount")
STATES = {
    "INSTALLED": "installed",
    "INSTALLED_OTHER": "installed",
    "INSTALLED_REJECTED": "installed",
    "INSTALLED_PENDING_REBOOT": "missing",
    "MISSING": "missing",
    "FAILED": "failed",
    "AVAILABLE_SECURITY_UPDATE": "missing",
    "NOT_APPLICABLE": "not_applicable",
}


class ReleaseDates:
    """KB -> vendor release date, asked once per run whatever the account or region."""

    def __init__(self) -> None:
        self._known: dict[str, datetime | None] = {}
        self._lock = threading.Lock()

    def lookup(self, reader: PageReader, update_ids: Iterable[str]) -> dict[str, datetime | None]:
        wanted = sorted({u.upper() for u in update_ids if KB.match(u)})
        with self._lock:
            todo = [kb for kb in wanted if kb not in self._known]
            for i in range(0, len(todo), RELEASE_BATCH):
                batch = todo[i : i + RELEASE_BATCH]
                found: dict[str, datetime | None] = dict.fromkeys(batch)
                filters = [{"Key": "PATCH_ID", "Values": batch}]
                for page, _ in reader.pages("describe_available_patches", Filters=filters):
                    for patch in page.get("Patches", []):
                        kb = str(patch.get("KbNumber") or "").upper()
                        date = patch.get("ReleaseDate")
                        if kb in found and date is not None:
                            prev = found[kb]
                            found[kb] = date if prev is None else min(prev, date)
                self._known.update(found)
            return {kb: self._known.get(kb) for kb in wanted}


@dataclass(frozen=True, slots=True)
class PatchCollector:
    """Assets (servers) and patches of one account and region.

    Without ``with_patches`` it only inventories EC2 instances (for the backup checks), as
    source ``aws.ec2`` with kind ``asset``.
    """

    account_id: str
    region: str
    client: Callable[[str], Any]  # service name -> boto3 client (assumed role, this region)
    raw: RawRecorder
    observed_at: datetime
    releases: ReleaseDates
    _: KW_ONLY
    partition: str = "aws"
    with_patches: bool = True

    @property
    def source(self) -> str:
        return SOURCE if self.with_patches else EC2_SOURCE

    @property
    def origin(self) -> str:
        return f"aws/{self.account_id}/{self.region}"

    @property
    def kinds(self) -> tuple[str, ...]:
        return (Kind.ASSET.value, Kind.PATCH.value) if self.with_patches else (Kind.ASSET.value,)

    def _error(
        self, exc: BaseException, source: str, kinds: tuple[str, ...], operation: str = "",
        subject: str = "",
    ) -> CollectionError:
        """What failed covers servers here (or the one ``subject``): never RDS databases or
        volumes at the same origin."""
        return collection_error(
            exc, source=source, origin=self.origin, kinds=kinds, operation=operation,
            asset_kinds=("server",), subject=subject,
        )

    def collect(self) -> Iterator[Evidence | CollectionError]:
        try:
            ec2 = PageReader(self.client("ec2"), self.raw, EC2_SOURCE, self.origin)
        except AWS_FAILURES as exc:
            yield self._error(exc, EC2_SOURCE, self.kinds, "AssumeRole")
            return
        instances: list[Instance] = []
        try:
            instances = read_instances(ec2, self.account_id, self.region, self.partition)
        except AWS_FAILURES as exc:
            yield self._error(exc, EC2_SOURCE, self.kinds)
        if not self.with_patches:
            for inst in instances:
                yield self._asset(inst, None, None)
            return
        yield from self._with_ssm(instances)

    def _with_ssm(self, instances: list[Instance]) -> Iterator[Evidence | CollectionError]:
        patch_kinds = (Kind.PATCH.value,)
        nodes: dict[str, tuple[dict[str, Any], str]] = {}
        states: dict[str, dict[str, Any]] = {}
        patches: dict[str, list[dict[str, Any]]] = {}
        arns = {inst.instance_id: inst.arn for inst in instances}
        try:
            ssm = PageReader(self.client("ssm"), self.raw, SOURCE, self.origin)
            for page, ref in ssm.pages("describe_instance_information",
                                       PaginationConfig={"PageSize": INFO_PAGE}):
                for node in page.get("InstanceInformationList", []):
                    nodes[node["InstanceId"]] = (node, ref)
        except AWS_FAILURES as exc:  # every server here: none has patch data
            yield self._error(exc, SOURCE, patch_kinds)
            nodes = {}
        ids = sorted(nodes)
        for i in range(0, len(ids), STATE_BATCH):
            batch = ids[i : i + STATE_BATCH]
            found: dict[str, dict[str, Any]] = {}
            try:
                for page, ref in ssm.pages("describe_instance_patch_states", InstanceIds=batch,
                                           PaginationConfig={"PageSize": STATE_BATCH}):
                    for state in page.get("InstancePatchStates", []):
                        found[state["InstanceId"]] = {**state, "raw_ref": ref}
            except AWS_FAILURES as exc:  # exactly the nodes of this batch
                for node_id in batch:
                    subject = arns.get(node_id) or self._node_arn(node_id)
                    yield self._error(exc, SOURCE, patch_kinds, subject=subject)
                continue
            states.update(found)
        for instance_id in sorted(states):
            if nothing_listed(states[instance_id]):  # counted: 0 in every state read
                patches[instance_id] = []
                continue
            try:
                patches[instance_id] = self._patches(ssm, instance_id)
            except AWS_FAILURES as exc:  # this node only: its asset keeps no assessment time
                subject = arns.get(instance_id) or self._node_arn(instance_id)
                yield self._error(exc, SOURCE, patch_kinds, subject=subject)
        releases: dict[str, datetime | None] = {}
        try:
            wanted = (str(p.get("KBId", "")) for ps in patches.values() for p in ps)
            releases = self.releases.lookup(ssm, wanted) if patches else {}
        except AWS_FAILURES as exc:
            yield self._error(exc, SOURCE, patch_kinds)
        known = {inst.instance_id for inst in instances}
        subjects: list[tuple[str, Evidence]] = []
        for inst in instances:
            node = nodes.get(inst.instance_id)
            assessed = states.get(inst.instance_id) if inst.instance_id in patches else None
            subjects.append((inst.instance_id, self._asset(inst, node, assessed)))
        for node_id, node in sorted(nodes.items()):
            if node_id not in known:
                assessed = states.get(node_id) if node_id in patches else None
                subjects.append((node_id, self._node_asset(node, assessed)))
        for node_id, asset in subjects:
            yield _with_undated(asset, patches.get(node_id, []), releases)
            state = states.get(node_id)
            if state is None or node_id not in patches:
                continue
            seen: set[str] = set()
            for patch in patches[node_id]:
                kb = str(patch.get("KBId") or patch.get("Title"))
                if kb in seen:
                    continue
                seen.add(kb)
                record = self._patch(asset.subject, patch, state, releases.get(kb.upper()))
                if record.facts["state"] != "installed" or record.facts["released_at"]:
                    yield record

    def _node_arn(self, node_id: str) -> str:
        """The subject of a managed node: an EC2 instance ARN, or a managed-instance ARN."""
        if node_id.startswith("i-"):
            return f"arn:{self.partition}:ec2:{self.region}:{self.account_id}:instance/{node_id}"
        return (f"arn:{self.partition}:ssm:{self.region}:{self.account_id}:"
                f"managed-instance/{node_id}")

    def _patches(self, ssm: PageReader, instance_id: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        filters = [{"Key": "State", "Values": WANTED_STATES}]
        for page, ref in ssm.pages(
            "describe_instance_patches", InstanceId=instance_id, Filters=filters,
            PaginationConfig={"PageSize": PATCH_PAGE},
        ):
            out += [{**p, "raw_ref": ref} for p in page.get("Patches", [])]
        return out

    def _asset(
        self,
        inst: Instance,
        node: tuple[dict[str, Any], str] | None,
        state: Mapping[str, Any] | None,
    ) -> Evidence:
        info = node[0] if node else {}
        facts: dict[str, Any] = {
            "asset_kind": "server",
            "name": inst.name,
            "tags": dict(inst.tags),
            "os": info.get("PlatformName") or inst.platform,
            "os_version": info.get("PlatformVersion"),
            "last_seen": info.get("LastPingDateTime"),
            "patch_assessed_at": state.get("OperationEndTime") if state else None,
            "instance_state": inst.state,
            "ssm_managed": node is not None,
            "ssm_ping_status": info.get("PingStatus"),
        }
        if not state:
            facts["patch_data_note"] = _why_no_patch_state(node is not None, info)
        elif nothing_listed(state):
            facts.update(_counted_none(state))
        return self._evidence(
            Kind.ASSET, EC2_SOURCE, inst.arn, facts, self.observed_at, inst.raw_ref)

    def _node_asset(
        self, node: tuple[dict[str, Any], str], state: Mapping[str, Any] | None
    ) -> Evidence:
        info, ref = node
        arn = self._node_arn(info["InstanceId"])
        facts: dict[str, Any] = {
            "asset_kind": "server",
            "name": info.get("Name") or info.get("ComputerName"),
            "tags": {},
            "os": info.get("PlatformName"),
            "os_version": info.get("PlatformVersion"),
            "last_seen": info.get("LastPingDateTime"),
            "patch_assessed_at": state.get("OperationEndTime") if state else None,
            "ssm_managed": True,
            "ssm_ping_status": info.get("PingStatus"),
        }
        if not state:
            facts["patch_data_note"] = _why_no_patch_state(True, info)
        elif nothing_listed(state):
            facts.update(_counted_none(state))
        return self._evidence(Kind.ASSET, SOURCE, arn, facts, self.observed_at, ref)

    def _patch(
        self,
        subject: str,
        patch: Mapping[str, Any],
        state: Mapping[str, Any],
        released: datetime | None,
    ) -> Evidence:
        vendor_state = str(patch.get("State", ""))
        ours = STATES.get(vendor_state, "missing")
        installed = patch.get("InstalledTime")
        if ours != "installed" or not isinstance(installed, datetime) or installed.year <= 1970:
            installed = None
        cves = [c.strip() for c in str(patch.get("CVEIds") or "").split(",") if c.strip()]
        facts: dict[str, Any] = {
            "update_id": str(patch.get("KBId") or patch.get("Title")),
            "severity": str(patch.get("Severity") or "unspecified").lower(),
            "state": ours,
            "vendor_state": vendor_state,
            "released_at": released,
            "first_seen_at": None,
            "installed_at": installed,
            "classification": patch.get("Classification"),
            "title": patch.get("Title"),
            "cves": cves,
        }
        observed = state.get("OperationEndTime") or self.observed_at
        return self._evidence(Kind.PATCH, SOURCE, subject, facts, observed, patch["raw_ref"])

    def _evidence(
        self, kind: str, source: str, subject: str, facts: dict[str, Any], observed: datetime,
        ref: str | None,
    ) -> Evidence:
        suffix = f":{facts['update_id']}" if kind == Kind.PATCH else ""
        return Evidence(
            id=f"{source}:{kind}:{subject}{suffix}",
            kind=kind,
            source=source,
            subject=subject,
            observed_at=observed,
            facts=facts,
            origin=self.origin,
            raw_ref=ref,
        )


def nothing_listed(state: Mapping[str, Any]) -> bool:
    """True when the node's patch state counts 0 updates in every state this collector reads
    (``WANTED_STATES``): ``DescribeInstancePatches`` would list none. Fails closed: a count
    missing (an older API answer without ``AvailableSecurityUpdateCount``), not an integer or
    not 0 means the list is read."""
    return all(type(state.get(field)) is int and state[field] == 0 for field in COUNTS)


def _counted_none(state: Mapping[str, Any]) -> dict[str, Any]:
    """Facts of a node whose updates were not listed because its patch state counts none: the
    record they come from (its own ``DescribeInstancePatchStates`` entry)."""
    return {"patch_counts": {f: state[f] for f in COUNTS},
            "patch_state_ref": state.get("raw_ref")}


def _with_undated(
    asset: Evidence, patches: list[dict[str, Any]], releases: Mapping[str, datetime | None]
) -> Evidence:
    """The asset, counting its installed updates that have no release date."""
    undated = {
        str(p.get("KBId")) for p in patches
        if STATES.get(str(p.get("State"))) == "installed"
        and not releases.get(str(p.get("KBId", "")).upper())
    }
    if not undated:
        return asset
    facts = {**asset.facts, "undated_installed_updates": len(undated)}
    return Evidence(id=asset.id, kind=asset.kind, source=asset.source, subject=asset.subject,
                    observed_at=asset.observed_at, facts=facts, origin=asset.origin,
                    raw_ref=asset.raw_ref)


def _why_no_patch_state(managed: bool, info: Mapping[str, Any]) -> str:
    """Why SSM has no patch state for an instance, in words a person can act on.

    ``PingStatus`` of DescribeInstanceInformation is ``Online``, ``ConnectionLost`` or
    ``Inactive`` (deprecated), with ``LastPingDateTime``: https://docs.aws.amazon.com/sdkfornet/
    latest/apidocs/items/TSimpleSystemsManagementPingStatusNET35.html and
    https://docs.rs/aws-sdk-ssm/latest/aws_sdk_ssm/types/struct.InstanceInformation.html."""
    if not managed:
        return "not managed by SSM (SSM Agent missing, stopped or without an instance profile)"
    ping = info.get("PingStatus")
    if ping and ping != "Online":
        seen = info.get("LastPingDateTime")
        since = f" since {seen:%Y-%m-%d}" if isinstance(seen, datetime) else ""
        return f"SSM Agent {ping}{since}; no patch scan recorded"
    return "SSM manages it but no patch scan (Patch Manager Scan) is recorded"
