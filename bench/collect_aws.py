"""Collection benchmark, AWS: 50 accounts x 2 Regions x 500 EC2 instances against a fake AWS.

The estate is served in process by :class:`FakeAws`, a botocore ``before-send`` handler on every
client the collector makes (through ``AwsAccess``'s ``client_factory`` seam): botocore still
serialises, signs, rate-limits (adaptive retry mode), parses and paginates each request exactly
as against AWS; only the socket is replaced. Each request sleeps ``latency`` s (the GIL is
released) and is counted. Answers are encoded from botocore's own output shapes (query and EC2
XML, JSON, REST-JSON), so a field the collector misreads fails here as it would against AWS.

Per account: 100 IAM users, 20 groups, 60 customer managed policies, a credential report that
is ready on the second ``GenerateCredentialReport``. Per account and Region: 500 instances (one
reservation each), 455 SSM managed nodes (450 instances and 5 ``mi-`` servers), of which 40 %
list updates (Windows: 8 installed KBs, 3 missing, 1 failed; Linux: 9 installed packages,
3 missing), the others none in any state read (``DescribeInstancePatchStates`` counts all 0);
500 EBS volumes, 20 RDS instances, 5 Aurora clusters, 10 EFS, 20 DynamoDB tables; 550 protected
resources, each with one completed backup job in the last 30 days but 2 % (11, read by their
recovery points), 30 restore jobs.

Floor: the fewest requests the documented APIs need for this estate, at their maximum page
sizes (from the API references, also in botocore's models):

* ``DescribeInstances`` ``MaxResults`` up to 1000 (Amazon EC2 API, "Pagination"; the developer
  guide's best practice pages with 1000),
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstances.html;
* ``DescribeInstanceInformation`` ``MaxResults`` 5-50, default 10;
  ``DescribeInstancePatchStates`` at most 50 ``InstanceIds``, ``MaxResults`` 10-100;
  ``DescribeInstancePatches`` ``MaxResults`` 10-100 (one instance per call: no batch form);
  ``DescribeAvailablePatches`` filter values at most 20 (``PatchOrchestratorFilter``),
  https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_DescribeInstancePatchStates.html;
* ``GetAccountAuthorizationDetails`` ``MaxItems`` 1-1000, default 100,
  https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetAccountAuthorizationDetails.html;
* AWS Backup ``List*`` ``MaxResults`` 1-1000; ``ListRecoveryPointsByResource`` per resource
  (``ListRecoveryPointsByBackupVault`` would page every retained point of the vault: 550
  resources x 35 daily points = 20 pages per vault here, more than the 11 look-ups),
  https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListRecoveryPointsByResource.html;
* ``DescribeDBInstances``/``DescribeDBClusters`` ``MaxRecords`` 20-100; EFS
  ``DescribeFileSystems`` 100 per page; DynamoDB ``ListTables`` ``Limit`` 100 and
  ``ListTagsOfResource`` per table (the Tagging API's ``GetResources`` only lists resources
  tagged at least once and is eventually consistent, so it cannot say "untagged").

Concurrency: AWS documents request *rates* per account and Region, not a cap on requests in
flight (EC2: token buckets, describe actions burst 100 and refill 20 per second,
https://docs.aws.amazon.com/ec2/latest/devguide/ec2-api-throttling.html; SSM and AWS Backup
throttle per account and Region the same way). The floor divides by the run's concurrency,
``CONCURRENCY`` = 8, ``clausewatch run``'s default: each AWS collector makes one request at a
time, so that is the number of requests in flight. One collector at 50 ms a request asks at
most 20 requests per second of one API in its account and Region, EC2's published refill rate
for describe actions, and the 8 in flight spread over 100 such scopes: AWS would allow more in
parallel, but one Python process drives only a few hundred botocore requests per second
(signing, parsing, raw pages, on a shared two-core machine), so a higher concurrency measures
the machine, not the collector.

``COLLECT_AWS_SCALE`` (default 1) scales the number of accounts down; it is printed when used.
"""

from __future__ import annotations

import base64
import json
import math
import os
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

import boto3
from botocore.awsrequest import AWSResponse
from collect_common import Figure, floor_seconds

from clausewatch.collectors.aws import session as aws_session
from clausewatch.collectors.aws import source as aws_source
from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.runner import collect_all
from clausewatch.core.redact import Redactor

ACCOUNTS = 50
REGIONS = ("eu-west-3", "eu-west-1")
INSTANCES = 500
CONCURRENCY = 8
AS_OF = datetime(2026, 11, 30, 6, 0, tzinfo=UTC)

# per account
USERS, GROUPS, POLICIES = 100, 20, 60
# per account and Region
UNMANAGED = 50  # instances without SSM
ON_PREM = 5  # mi- managed nodes
WITH_PATCHES = 0.4
RDS, AURORA, EFS, TABLES = 20, 5, 10, 20
STALE = 0.02  # protected resources without a backup job in the last 30 days
RESTORES = 30
KBS = [f"KB50{n:05d}" for n in range(30)]
SCOPES_KEPT = 24
T = TypeVar("T")


# --- the estate -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Scope:
    """One account and Region of the estate; what it lists is built once per scope object
    (``_memo``), so a request pages a ready list instead of rebuilding it."""

    account: str
    region: str
    _memo: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def _once(self, key: Any, build: Callable[[], T]) -> T:
        if key not in self._memo:
            self._memo[key] = build()
        return self._memo[key]  # type: ignore[no-any-return]

    def iid(self, n: int) -> str:
        return f"i-{int(self.account) % 65536:04x}{REGIONS.index(self.region)}{n:012x}"

    def instances(self) -> list[dict[str, Any]]:
        return self._once("instances", self._instances)

    def _instances(self) -> list[dict[str, Any]]:
        return [{
            "InstanceId": self.iid(n), "State": {"Code": 16, "Name": "running"},
            "PlatformDetails": "Windows" if n % 5 < 2 else "Linux/UNIX",
            "LaunchTime": AS_OF - timedelta(days=100),
            "Tags": [{"Key": "Name", "Value": f"srv-{n}"}, {"Key": "env", "Value": "prod"}],
        } for n in range(INSTANCES)]

    def nodes(self) -> list[str]:
        return self._once("nodes", self._nodes)

    def _nodes(self) -> list[str]:
        ids = [self.iid(n) for n in range(INSTANCES - UNMANAGED)]
        return sorted(ids + [f"mi-{int(self.account) % 65536:04x}{n:013x}" for n in range(ON_PREM)])

    @staticmethod
    def has_patches(node: str) -> bool:
        return int(node[-3:], 16) % 10 < WITH_PATCHES * 10

    @staticmethod
    def windows(node: str) -> bool:
        return node.startswith("i-") and int(node[-3:], 16) % 5 < 2

    def patches(self, node: str) -> list[dict[str, Any]]:
        return self._once(("patches", node), lambda: self._patches(node))

    def _patches(self, node: str) -> list[dict[str, Any]]:
        if not self.has_patches(node):
            return []
        seed = int(node[-3:], 16)
        out: list[dict[str, Any]] = []
        if self.windows(node):
            for k in range(12):
                kb = KBS[(seed + k) % len(KBS)]
                state = "Installed" if k < 8 else "Missing" if k < 11 else "Failed"
                out.append({"Title": f"Update {kb}", "KBId": kb,
                            "Classification": "SecurityUpdates",
                            "Severity": ("Critical", "Important", "Moderate")[k % 3],
                            "State": state.upper() if state != "Installed" else "INSTALLED",
                            "InstalledTime": AS_OF - timedelta(days=10 + k)
                            if state == "Installed" else datetime(1970, 1, 1, tzinfo=UTC)})
        else:
            for k in range(12):
                pkg = f"pkg{(seed + k) % 40}.x86_64:0:1.{k}-1.amzn2023"
                out.append({"Title": pkg, "KBId": pkg, "Classification": "Security",
                            "Severity": ("Critical", "Important", "Medium")[k % 3],
                            "State": "INSTALLED" if k < 9 else "MISSING",
                            "InstalledTime": AS_OF - timedelta(days=20)
                            if k < 9 else datetime(1970, 1, 1, tzinfo=UTC)})
        return out

    def patch_state(self, node: str) -> dict[str, Any]:
        return self._once(("patch_state", node), lambda: self._patch_state(node))

    def _patch_state(self, node: str) -> dict[str, Any]:
        patches = self.patches(node)
        count = {s: sum(1 for p in patches if p["State"] == s) for s in (
            "INSTALLED", "MISSING", "FAILED")}
        return {
            "InstanceId": node, "PatchGroup": "default", "BaselineId": "pb-0123456789abcdef0",
            "Operation": "Scan", "OperationStartTime": AS_OF - timedelta(hours=7),
            "OperationEndTime": AS_OF - timedelta(hours=6),
            "InstalledCount": count["INSTALLED"], "InstalledOtherCount": 0,
            "InstalledPendingRebootCount": 0, "InstalledRejectedCount": 0,
            "MissingCount": count["MISSING"], "FailedCount": count["FAILED"],
            "UnreportedNotApplicableCount": 0, "NotApplicableCount": 40,
            "AvailableSecurityUpdateCount": 0,
            "CriticalNonCompliantCount": 0, "SecurityNonCompliantCount": 0,
            "OtherNonCompliantCount": 0,
        }

    def arn(self, service: str, kind: str, name: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{kind}{name}"

    def protected(self) -> list[dict[str, Any]]:
        return self._once("protected", self._protected)

    def _protected(self) -> list[dict[str, Any]]:
        out = [{"ResourceArn": self.arn("ec2", "instance/", self.iid(n)), "ResourceType": "EC2"}
               for n in range(INSTANCES)]
        out += [{"ResourceArn": self.arn("rds", "db:", f"db{n}"), "ResourceType": "RDS"}
                for n in range(RDS)]
        out += [{"ResourceArn": self.arn("dynamodb", "table/", f"t{n}"),
                 "ResourceType": "DynamoDB"} for n in range(TABLES)]
        out += [{"ResourceArn": self.arn("elasticfilesystem", "file-system/", f"fs-{n:08x}"),
                 "ResourceType": "EFS"} for n in range(EFS)]
        for r in out:
            r["LastBackupTime"] = AS_OF - timedelta(days=1)
        return out

    def stale(self) -> set[str]:
        return self._once("stale", self._stale)

    def _stale(self) -> set[str]:
        arns = [r["ResourceArn"] for r in self.protected()]
        step = round(1 / STALE)
        return {a for i, a in enumerate(arns) if i % step == 0}

    def jobs(self) -> list[dict[str, Any]]:
        return self._once("jobs", self._jobs)

    def _jobs(self) -> list[dict[str, Any]]:
        stale = self.stale()
        return [{"BackupJobId": f"job-{i}", "ResourceArn": r["ResourceArn"],
                 "ResourceType": r["ResourceType"], "State": "COMPLETED",
                 "CreationDate": AS_OF - timedelta(days=1, hours=1),
                 "CompletionDate": AS_OF - timedelta(days=1), "BackupSizeInBytes": 1024,
                 "RecoveryPointArn": f"{self.arn('backup', 'recovery-point:', str(i))}"}
                for i, r in enumerate(self.protected()) if r["ResourceArn"] not in stale]


def scopes(accounts: Iterable[str]) -> list[Scope]:
    return [Scope(a, r) for a in accounts for r in REGIONS]


# --- the fake AWS -----------------------------------------------------------------------------

class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterable[bytes]:
        yield self._data


def _epoch(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    raise TypeError(type(value))


def _xml(shape: Any, value: Any, name: str) -> str:
    t = shape.type_name
    if t == "structure":
        inner = "".join(_xml(m, value[k], m.serialization.get("name", k))
                        for k, m in shape.members.items() if k in value and value[k] is not None)
    elif t == "list":
        member = shape.member
        if shape.serialization.get("flattened"):
            return "".join(_xml(member, v, name) for v in value)
        inner = "".join(_xml(member, v, member.serialization.get("name", "member"))
                        for v in value)
    elif t == "map":
        inner = "".join(f"<entry><key>{escape(str(k))}</key>{_xml(shape.value, v, 'value')}"
                        "</entry>" for k, v in value.items())
    elif t == "timestamp":
        inner = value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    elif t == "boolean":
        inner = "true" if value else "false"
    elif t == "blob":
        inner = base64.b64encode(value).decode()
    else:
        inner = escape(str(value))
    return f"<{name}>{inner}</{name}>"


class FakeAws:
    """Answers every request of the collector from the estate; counts them; sleeps ``latency``."""

    def __init__(self, accounts: list[str], latency: float) -> None:
        self.accounts = accounts
        self.latency = latency
        self.requests = 0
        self.by_operation: dict[str, int] = {}
        self._lock = threading.Lock()
        self._reports: set[str] = set()
        self._scopes: dict[tuple[str, str], Scope] = {}  # the most recent SCOPES_KEPT

    # botocore seam ---------------------------------------------------------------------------
    def factory(self, session: Any, service: str, **kwargs: Any) -> Any:
        client = _REAL_CLIENT(session, service, **kwargs)
        account = kwargs.get("account_id") or self.accounts[0]
        region = kwargs["region"]
        model = client.meta.service_model

        def send(request: Any, event_name: str, **_: Any) -> AWSResponse:
            return self._answer(model, event_name.rsplit(".", 1)[-1], request, account, region)

        client.meta.events.register("before-send", send)
        return client

    def _answer(self, model: Any, op_name: str, request: Any, account: str,
                region: str) -> AWSResponse:
        with self._lock:
            self.requests += 1
            self.by_operation[op_name] = self.by_operation.get(op_name, 0) + 1
        time.sleep(self.latency)
        op = model.operation_model(op_name)
        params = _params(model.protocol, op, request)
        result = self._result(model.service_name, op_name, params, self._scope(account, region))
        return _encode(model, op, result, request.url)

    def _scope(self, account: str, region: str) -> Scope:
        """The scope, with the lists it built (kept for the ``SCOPES_KEPT`` most recently
        asked: 8 collectors read 8 scopes at a time; all 100 would hold ~0.5 GB)."""
        key = (account, region)
        with self._lock:
            scope = self._scopes.pop(key, None) or Scope(account, region)
            self._scopes[key] = scope
            while len(self._scopes) > SCOPES_KEPT:
                del self._scopes[next(iter(self._scopes))]
        return scope

    # operations ------------------------------------------------------------------------------
    def _result(self, service: str, op: str, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        handler: Callable[[Mapping[str, Any], Scope], dict[str, Any]] = getattr(
            self, f"_{service}_{op}".replace("-", "_"))
        return handler(p, s)

    def _page(self, items: list[Any], p: Mapping[str, Any], *, key: str, token_in: str,
              token_out: str, limit: str, default: int | None, maximum: int,
              more: str | None = None) -> dict[str, Any]:
        start = int(p.get(token_in) or 0)
        size = int(p[limit]) if p.get(limit) else default
        size = min(size, maximum) if size is not None else len(items)
        chunk = items[start : start + size]
        out: dict[str, Any] = {key: chunk}
        if start + size < len(items):
            out[token_out] = str(start + size)
            if more:
                out[more] = True
        elif more:
            out[more] = False
        return out

    # STS / Organizations
    def _sts_AssumeRole(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        account = str(p["RoleArn"]).split(":")[4]
        return {"Credentials": {"AccessKeyId": f"ASIA{account}", "SecretAccessKey": f"s{account}",
                                "SessionToken": f"t{account}",
                                "Expiration": datetime.now(UTC) + timedelta(hours=1)},
                "AssumedRoleUser": {"AssumedRoleId": "AROA:clausewatch",
                                    "Arn": f"arn:aws:sts::{account}:assumed-role/r/clausewatch"}}

    def _sts_GetCallerIdentity(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        return {"Account": self.accounts[0], "Arn": f"arn:aws:iam::{self.accounts[0]}:user/a",
                "UserId": "AIDA"}

    # IAM
    def _iam_GenerateCredentialReport(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        with self._lock:
            ready = s.account in self._reports
            self._reports.add(s.account)
        return {"State": "COMPLETE" if ready else "STARTED"}

    def _iam_GetCredentialReport(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        head = ("user,arn,user_creation_time,password_enabled,password_last_used,"
                "password_last_changed,password_next_rotation,mfa_active,access_key_1_active,"
                "access_key_2_active")
        rows = [f"<root_account>,arn:aws:iam::{s.account}:root,2020-01-01T00:00:00+00:00,"
                "not_supported,N/A,not_supported,not_supported,true,false,false"]
        for n in range(USERS):
            console = "true" if n % 4 else "false"
            rows.append(f"u{n},arn:aws:iam::{s.account}:user/u{n},2021-01-01T00:00:00+00:00,"
                        f"{console},N/A,N/A,N/A,{'true' if n % 3 else 'false'},"
                        f"{'false' if n % 4 else 'true'},false")
        return {"Content": ("\n".join([head, *rows]) + "\n").encode(), "ReportFormat": "text/csv",
                "GeneratedTime": AS_OF - timedelta(minutes=1)}

    def _iam_GetAccountAuthorizationDetails(self, p: Mapping[str, Any],
                                            s: Scope) -> dict[str, Any]:
        doc = json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]})
        items: list[tuple[str, dict[str, Any]]] = []
        for n in range(USERS):
            items.append(("UserDetailList", {
                "UserName": f"u{n}", "UserId": f"AIDA{n:016d}", "Path": "/",
                "Arn": f"arn:aws:iam::{s.account}:user/u{n}", "CreateDate": AS_OF,
                "GroupList": [f"g{n % GROUPS}"], "UserPolicyList": [],
                "AttachedManagedPolicies": [{"PolicyName": f"p{n % POLICIES}",
                                             "PolicyArn": f"arn:aws:iam::{s.account}:policy/"
                                                          f"p{n % POLICIES}"}]}))
        for n in range(GROUPS):
            items.append(("GroupDetailList", {
                "GroupName": f"g{n}", "GroupId": f"AGPA{n:016d}", "Path": "/",
                "Arn": f"arn:aws:iam::{s.account}:group/g{n}", "CreateDate": AS_OF,
                "GroupPolicyList": [], "AttachedManagedPolicies": []}))
        for n in range(POLICIES):
            items.append(("Policies", {
                "PolicyName": f"p{n}", "PolicyId": f"ANPA{n:016d}", "Path": "/",
                "Arn": f"arn:aws:iam::{s.account}:policy/p{n}", "DefaultVersionId": "v1",
                "AttachmentCount": 1, "IsAttachable": True, "CreateDate": AS_OF,
                "PolicyVersionList": [{"Document": doc, "VersionId": "v1",
                                       "IsDefaultVersion": True, "CreateDate": AS_OF}]}))
        page = self._page(items, p, key="_", token_in="Marker", token_out="Marker",
                          limit="MaxItems", default=100, maximum=1000, more="IsTruncated")
        out: dict[str, Any] = {k: [] for k in ("UserDetailList", "GroupDetailList",
                                               "RoleDetailList", "Policies")}
        for list_name, item in page.pop("_"):
            out[list_name].append(item)
        return {**out, **page}

    def _iam_GetAccountSummary(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        return {"SummaryMap": {"AccountMFAEnabled": 1, "AccountPasswordPresent": 0,
                               "AccountAccessKeysPresent": 0, "Users": USERS}}

    # EC2
    def _ec2_DescribeInstances(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        res = s._once("reservations", lambda: [
            {"ReservationId": f"r-{i['InstanceId'][2:]}", "OwnerId": s.account,
             "Instances": [i]} for i in s.instances()])
        return self._page(res, p, key="Reservations", token_in="NextToken",
                          token_out="NextToken", limit="MaxResults", default=None, maximum=1000)

    def _ec2_DescribeVolumes(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        vols = s._once("volumes", lambda: [
            {"VolumeId": f"vol-{s.iid(n)[2:]}", "Size": 50, "State": "in-use",
             "Attachments": [{"InstanceId": s.iid(n), "State": "attached"}],
             "Tags": [{"Key": "Name", "Value": f"vol-{n}"}]} for n in range(INSTANCES)])
        return self._page(vols, p, key="Volumes", token_in="NextToken", token_out="NextToken",
                          limit="MaxResults", default=None, maximum=1000)

    # SSM
    def _ssm_DescribeInstanceInformation(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        nodes = s._once("information", lambda: [
            {"InstanceId": n, "PingStatus": "Online", "LastPingDateTime": AS_OF,
             "PlatformType": "Windows" if s.windows(n) else "Linux",
             "PlatformName": "Microsoft Windows Server 2022" if s.windows(n)
             else "Amazon Linux", "PlatformVersion": "10.0" if s.windows(n) else "2023",
             "ResourceType": "EC2Instance" if n.startswith("i-") else "ManagedInstance",
             "ComputerName": n} for n in s.nodes()])
        return self._page(nodes, p, key="InstanceInformationList", token_in="NextToken",
                          token_out="NextToken", limit="MaxResults", default=10, maximum=50)

    def _ssm_DescribeInstancePatchStates(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        ids = list(p["InstanceIds"])
        assert len(ids) <= 50, "DescribeInstancePatchStates takes at most 50 ids"
        known = s._once("node set", lambda: set(s.nodes()))
        states = [s.patch_state(i) for i in ids if i in known]
        return self._page(states, p, key="InstancePatchStates", token_in="NextToken",
                          token_out="NextToken", limit="MaxResults", default=100, maximum=100)

    def _ssm_DescribeInstancePatches(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        wanted = {v.upper().replace("INSTALLEDPENDINGREBOOT", "INSTALLED_PENDING_REBOOT")
                  for f in p.get("Filters", []) if f["Key"] == "State" for v in f["Values"]}
        patches = [x for x in s.patches(p["InstanceId"])
                   if not wanted or x["State"].replace("_", "") in
                   {w.replace("_", "") for w in wanted}]
        return self._page(patches, p, key="Patches", token_in="NextToken", token_out="NextToken",
                          limit="MaxResults", default=100, maximum=100)

    def _ssm_DescribeAvailablePatches(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        ids = [v for f in p.get("Filters", []) if f["Key"] == "PATCH_ID" for v in f["Values"]]
        assert len(ids) <= 20, "a PatchOrchestratorFilter holds at most 20 values"
        found = [{"Id": kb, "KbNumber": kb, "Title": kb,
                  "ReleaseDate": AS_OF - timedelta(days=40 + KBS.index(kb))}
                 for kb in ids if kb in KBS]
        return self._page(found, p, key="Patches", token_in="NextToken", token_out="NextToken",
                          limit="MaxResults", default=100, maximum=100)

    # AWS Backup
    def _backup_ListProtectedResources(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        return self._page(s.protected(), p, key="Results", token_in="NextToken",
                          token_out="NextToken", limit="MaxResults", default=1000, maximum=1000)

    def _backup_ListBackupJobs(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        return self._page(s.jobs(), p, key="BackupJobs", token_in="NextToken",
                          token_out="NextToken", limit="MaxResults", default=1000, maximum=1000)

    def _backup_ListRecoveryPointsByResource(self, p: Mapping[str, Any],
                                             s: Scope) -> dict[str, Any]:
        arn = p["ResourceArn"]
        points = [{"RecoveryPointArn": f"{arn}:rp{d}", "Status": "COMPLETED",
                   "CreationDate": AS_OF - timedelta(days=31 + d), "BackupSizeBytes": 10}
                  for d in range(5)]
        return self._page(points, p, key="RecoveryPoints", token_in="NextToken",
                          token_out="NextToken", limit="MaxResults", default=1000, maximum=1000)

    def _backup_ListRestoreTestingPlans(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        arn = s.arn("backup", "restore-testing-plan:", "weekly")
        return {"RestoreTestingPlans": [{"RestoreTestingPlanArn": arn,
                                         "RestoreTestingPlanName": "weekly",
                                         "CreationTime": AS_OF - timedelta(days=300),
                                         "ScheduleExpression": "cron(0 5 ? * SUN *)"}]}

    def _backup_ListRestoreJobs(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        plan = s.arn("backup", "restore-testing-plan:", "weekly")
        jobs = [{"RestoreJobId": f"rj-{n}", "Status": "COMPLETED", "ValidationStatus":
                 "SUCCESSFUL", "SourceResourceArn": s.arn("rds", "db:", f"db{n % RDS}"),
                 "CreationDate": AS_OF - timedelta(days=7 * n + 1),
                 "CompletionDate": AS_OF - timedelta(days=7 * n + 1) + timedelta(minutes=30),
                 "CreatedBy": {"RestoreTestingPlanArn": plan}} for n in range(RESTORES)]
        return self._page(jobs, p, key="RestoreJobs", token_in="NextToken",
                          token_out="NextToken", limit="MaxResults", default=1000, maximum=1000)

    # inventory
    def _rds_DescribeDBInstances(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        dbs = [{"DBInstanceIdentifier": f"db{n}", "DBInstanceArn": s.arn("rds", "db:", f"db{n}"),
                "Engine": "postgres", "TagList": [{"Key": "env", "Value": "prod"}]}
               for n in range(RDS)]
        return self._page(dbs, p, key="DBInstances", token_in="Marker", token_out="Marker",
                          limit="MaxRecords", default=100, maximum=100)

    def _rds_DescribeDBClusters(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        dbs = [{"DBClusterIdentifier": f"c{n}", "DBClusterArn": s.arn("rds", "cluster:", f"c{n}"),
                "Engine": "aurora-postgresql", "TagList": []} for n in range(AURORA)]
        return self._page(dbs, p, key="DBClusters", token_in="Marker", token_out="Marker",
                          limit="MaxRecords", default=100, maximum=100)

    def _efs_DescribeFileSystems(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        fss = [{"FileSystemId": f"fs-{n:08x}", "OwnerId": s.account,
                "FileSystemArn": s.arn("elasticfilesystem", "file-system/", f"fs-{n:08x}"),
                "CreationToken": f"t{n}", "CreationTime": AS_OF, "LifeCycleState": "available",
                "NumberOfMountTargets": 1, "SizeInBytes": {"Value": 1},
                "PerformanceMode": "generalPurpose", "Tags": [], "Name": f"fs{n}"}
               for n in range(EFS)]
        return self._page(fss, p, key="FileSystems", token_in="Marker", token_out="NextMarker",
                          limit="MaxItems", default=100, maximum=100)

    def _dynamodb_ListTables(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        return self._page([f"t{n}" for n in range(TABLES)], p, key="TableNames",
                          token_in="ExclusiveStartTableName", token_out="LastEvaluatedTableName",
                          limit="Limit", default=100, maximum=100)

    def _dynamodb_ListTagsOfResource(self, p: Mapping[str, Any], s: Scope) -> dict[str, Any]:
        return {"Tags": [{"Key": "env", "Value": "prod"}]}


_REAL_CLIENT = aws_session.boto3_client


def _params(protocol: str, op: Any, request: Any) -> dict[str, Any]:
    body = request.body or b""
    if isinstance(body, str):
        body = body.encode()
    if protocol == "json":
        return dict(json.loads(body or b"{}"))
    members = op.input_shape.members if op.input_shape else {}
    if protocol == "rest-json":
        url = urlsplit(request.url)
        out: dict[str, Any] = {}
        template = op.http["requestUri"].split("?")[0].rstrip("/").split("/")
        parts = url.path.rstrip("/").split("/")
        for t, v in zip(template, parts, strict=False):
            if t.startswith("{"):
                out[t.strip("{}+")] = unquote(v)
        query = parse_qs(url.query)
        for name, m in members.items():
            loc = m.serialization.get("name", name)
            if m.serialization.get("location") == "uri" and loc in out:
                out[name] = out.pop(loc)
            elif m.serialization.get("location") == "querystring" and loc in query:
                out[name] = query[loc][0]
        return out
    form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
    out = {}
    for name, m in members.items():
        for key in (m.serialization.get("name"), name,
                    str(m.serialization.get("name", "")).capitalize()):
            if key and key in form:
                out[name] = form[key]
    return out


def _encode(model: Any, op: Any, result: Mapping[str, Any], url: str) -> AWSResponse:
    rid = "00000000-0000-0000-0000-000000000000"
    if model.protocol in ("json", "rest-json"):
        body = json.dumps(result, default=_epoch).encode()
        headers = {"x-amzn-RequestId": rid, "Content-Type": "application/json"}
        status = op.http.get("responseCode", 200)
        return AWSResponse(url, status, headers, _Body(body))  # type: ignore[arg-type]
    shape = op.output_shape
    if model.protocol == "ec2":
        inner = _xml(shape, result, "x")[3:-4] if shape else ""
        xml = (f'<{op.name}Response xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">'
               f"<requestId>{rid}</requestId>{inner}</{op.name}Response>")
    else:
        wrapper = shape.serialization.get("resultWrapper", f"{op.name}Result") if shape else ""
        inner = _xml(shape, result, wrapper) if shape else ""
        xml = (f'<{op.name}Response xmlns="https://{model.endpoint_prefix}.amazonaws.com/doc/">'
               f"{inner}<ResponseMetadata><RequestId>{rid}</RequestId></ResponseMetadata>"
               f"</{op.name}Response>")
    return AWSResponse(url, 200, {"x-amzn-RequestId": rid, "Content-Type": "text/xml"},
                       _Body(xml.encode()))  # type: ignore[arg-type]


# --- the floor --------------------------------------------------------------------------------

def floor_pages(accounts: list[str]) -> dict[str, int]:
    """The fewest requests the documented APIs need for the estate (see the module docstring)."""
    c = math.ceil
    pages: dict[str, int] = {"GetCallerIdentity": 1, "DescribeAvailablePatches": c(len(KBS) / 20)}

    def add(op: str, n: int) -> None:
        pages[op] = pages.get(op, 0) + n

    for _ in accounts:
        add("AssumeRole", 1)
        add("GenerateCredentialReport", 2)  # the report is ready on the second call
        add("GetCredentialReport", 1)
        add("GetAccountAuthorizationDetails", c((USERS + GROUPS + POLICIES) / 1000))
        add("GetAccountSummary", 1)
    for s in scopes(accounts):
        nodes = s.nodes()
        add("DescribeInstances", c(INSTANCES / 1000))
        add("DescribeInstanceInformation", c(len(nodes) / 50))
        add("DescribeInstancePatchStates", c(len(nodes) / 50))
        add("DescribeInstancePatches", sum(c(len(s.patches(n)) / 100) for n in nodes))
        add("ListProtectedResources", c(len(s.protected()) / 1000))
        add("ListBackupJobs", max(1, c(len(s.jobs()) / 1000)))
        vault_pages = c(len(s.protected()) * 35 / 1000)
        add("ListRecoveryPointsByResource", min(len(s.stale()), vault_pages))
        add("ListRestoreTestingPlans", 1)
        add("ListRestoreJobs", c(RESTORES / 1000))
        add("DescribeDBInstances", c(RDS / 100))
        add("DescribeDBClusters", c(AURORA / 100))
        add("DescribeVolumes", c(INSTANCES / 1000))
        add("DescribeFileSystems", c(EFS / 100))
        add("ListTables", c(TABLES / 100))
        add("ListTagsOfResource", TABLES)
    return pages


# --- the run ----------------------------------------------------------------------------------

def run(latency: float, scale: float = 1.0) -> tuple[FakeAws, float, int]:
    """Collect the estate with the real AWS source; (fake, seconds, evidence records)."""
    n = max(1, round(ACCOUNTS * scale))
    accounts = [f"{100000000000 + i * 7919:012d}" for i in range(n)]
    fake = FakeAws(accounts, latency)
    entry = {"name": "bench", "regions": list(REGIONS), "accounts": accounts,
             "role": {"name": "ClauseWatchReadOnly"}}
    with tempfile.TemporaryDirectory() as tmp:
        redactor = Redactor()  # one for the raw pages and the credentials, as `run` has it
        context = BuildContext(as_of=AS_OF, raw=RawRecorder(Path(tmp), redactor),
                               env={}, base_dir=Path(tmp), secrets=redactor)
        base = boto3.Session(aws_access_key_id="AKIABENCH", aws_secret_access_key="bench",
                             region_name=REGIONS[0])
        start = time.perf_counter()
        collectors = aws_source.build(entry, context, base_session=base,
                                      client_factory=fake.factory)
        batch = collect_all(collectors, CONCURRENCY)
        seconds = time.perf_counter() - start
    if batch.errors:
        raise SystemExit(f"collect aws: {len(batch.errors)} errors, first: {batch.errors[0]}")
    return fake, seconds, len(batch.evidence)


def measure(latency: float) -> list[Figure]:
    scale = float(os.environ.get("COLLECT_AWS_SCALE", "1"))
    n = max(1, round(ACCOUNTS * scale))
    if scale != 1:
        print(f"collect aws: COLLECT_AWS_SCALE={scale:g}: {n} accounts instead of {ACCOUNTS}")
    fake, seconds, records = run(latency, scale)
    accounts = fake.accounts
    pages = sum(floor_pages(accounts).values())
    print(f"collect aws: {n} accounts x {len(REGIONS)} Regions x {INSTANCES} instances, "
          f"{records} evidence records, concurrency {CONCURRENCY}, floor {pages} requests; "
          "requests by operation: "
          + ", ".join(f"{k} {v}" for k, v in sorted(fake.by_operation.items())),
          file=sys.stderr)
    return [Figure("aws", fake.requests, seconds, floor_seconds(pages, latency, CONCURRENCY))]
