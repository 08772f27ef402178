"""``clausewatch run`` on a two-account, two-region fake AWS estate, verdict by verdict.

IAM, Organizations, STS, EC2, RDS, EFS and DynamoDB are served by moto in server mode on
127.0.0.1 (the sources file's ``endpoints`` point at it, as a LocalStack user would); SSM Patch
Manager and AWS Backup, which moto does not implement, get botocore Stubbers through the
``session.boto3_client`` seam (the production code path otherwise). Account B's role is refused
``ssm:DescribeInstanceInformation`` in eu-west-3 and ``backup:ListBackupJobs`` in eu-west-1.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto.core.responses import ActionResult
from moto.iam.responses import IamResponse
from moto.server import ThreadedMotoServer

from clausewatch import cli
from clausewatch.collectors.aws import session as aws_session
from clausewatch.collectors.jsonl import read_evidence

AS_OF = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
R1, R2 = "eu-west-3", "eu-west-1"
EXTERNAL_ID = "ext-7d0c2e9b-secret"
ADMIN = json.dumps({"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
CONTRACT = """\
contract:
  id: e2e-aws
  title: Infogérance AWS
  provider: Infogérance Atlantique
  customer: Transports Morel
  effective_from: "2026-01-01"
  timezone: Europe/Paris
commitments:
  - id: mfa-admins
    clause: "PAS §3.1"
    title: MFA for every AWS administrator
    check: mfa_coverage
    responsible: provider
    # moto cannot enable root MFA (AccountMFAEnabled is always 0): roots are left out here
    scope: {sources: [aws.iam], population: {privileged_only: true, include_root: false}}
    params: {require: enforced}
    target: 100%
  - id: patch-prod
    clause: "PAS §4.2"
    title: Security updates of production servers
    check: patch_lag
    responsible: provider
    scope: {asset_kinds: [server], tags: {env: prod}}
    params: {deadlines_days: {critical: 7, important: 30}, freshness_days: 3}
    target: 100%
  - id: backup-db
    clause: "PAS §5.1"
    title: Daily backup of production databases
    check: backup_freshness
    responsible: provider
    scope: {asset_kinds: [database], tags: {env: prod}}
    params: {rpo_hours: 24}
    target: 100%
  - id: backup-files
    clause: "PAS §5.2"
    title: Daily backup of file servers
    check: backup_freshness
    responsible: provider
    scope: {asset_kinds: [server], tags: {role: fileserver}}
    params: {rpo_hours: 24}
    target: 100%
  - id: restore
    clause: "PAS §5.3"
    title: Quarterly restore test
    check: restore_test
    responsible: provider
    scope: {tags: {restore_test: required}}
    params: {period_days: 92}
    target: 100%
"""


def _created_before(report: str) -> str:
    """The credential report with every ``user_creation_time`` 30 days before AS_OF."""
    lines = report.split("\n")
    at = lines[0].split(",").index("user_creation_time")
    created = (AS_OF - timedelta(days=30)).isoformat()
    out = [lines[0]]
    for line in lines[1:]:
        cells = line.split(",")
        if len(cells) > at:
            cells[at] = created
        out.append(",".join(cells))
    return "\n".join(out)


@pytest.fixture
def moto_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """moto in server mode on loopback; its credential report dated one hour before AS_OF
    (moto hard-codes 2015-02-02, which would make every identity stale), its users created 30
    days before AS_OF (moto dates them at the wall clock, which may be after AS_OF: identities
    created after the run are observed in the future, never judged)."""
    def report(self: IamResponse) -> ActionResult:
        return ActionResult({"Content": _created_before(self.backend.get_credential_report()),
                             "ReportFormat": "text/csv",
                             "GeneratedTime": (AS_OF - timedelta(hours=1)).isoformat()})

    monkeypatch.setattr(IamResponse, "get_credential_report", report)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    try:
        yield url
    finally:
        urllib.request.urlopen(urllib.request.Request(f"{url}/moto-api/reset", method="POST"))
        server.stop()


class Estate:
    """What was created in moto, by account and name."""

    def __init__(self, url: str) -> None:
        self.url = url
        org = self._client(boto3.Session(), "organizations", R1)
        org.create_organization(FeatureSet="ALL")
        self.master = org.describe_organization()["Organization"]["MasterAccountId"]
        self.a, self.b = (org.create_account(AccountName=n, Email=f"{n}@morel.fr")
                          ["CreateAccountStatus"]["AccountId"] for n in ("prod-a", "prod-b"))
        self.ids: dict[str, str] = {}
        self.arns: dict[str, str] = {}
        self._account(self.a, admin="ops-admin", admin_mfa=True, servers={
            R1: [("srv-a-web", {"env": "prod"}), ("srv-a-app", {"env": "prod"}),
                 ("srv-a-orphan", {"env": "prod"})],
            R2: [("srv-a-dr", {"env": "prod"})]})
        self._account(self.b, admin="b-admin", admin_mfa=False, servers={
            R1: [("srv-b-web", {"env": "prod"})],
            R2: [("srv-b-file", {"env": "prod", "role": "fileserver",
                                 "restore_test": "required"})]})
        rds = self._client(self._session(self.a), "rds", R1)
        for db, tags in (("orders-db", {"env": "prod", "restore_test": "required"}),
                         ("crm-db", {"env": "prod"})):
            self.arns[db] = rds.create_db_instance(
                DBInstanceIdentifier=db, DBInstanceClass="db.t3.micro", Engine="postgres",
                MasterUsername="admin", MasterUserPassword="not-a-real-pw-1",
                AllocatedStorage=20, Tags=[{"Key": k, "Value": v} for k, v in tags.items()],
            )["DBInstance"]["DBInstanceArn"]

    def _client(self, session: boto3.Session, service: str, region: str) -> Any:
        return session.client(service, region_name=region, endpoint_url=self.url)

    def _session(self, account: str) -> boto3.Session:
        sts = self._client(boto3.Session(), "sts", R1)
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/ClauseWatchReadOnly",
                            RoleSessionName="setup")["Credentials"]
        return boto3.Session(aws_access_key_id=c["AccessKeyId"],
                             aws_secret_access_key=c["SecretAccessKey"],
                             aws_session_token=c["SessionToken"])

    def _account(self, account: str, admin: str, admin_mfa: bool,
                 servers: dict[str, list[tuple[str, dict[str, str]]]]) -> None:
        session = self._session(account)
        iam = self._client(session, "iam", R1)
        for user in (admin, "dev-user", "ci-deploy"):
            iam.create_user(UserName=user)
        for user in (admin, "dev-user"):
            iam.create_login_profile(UserName=user, Password="Sup3r-secret!pw")
        iam.put_user_policy(UserName=admin, PolicyName="admin", PolicyDocument=ADMIN)
        iam.create_access_key(UserName="ci-deploy")
        if admin_mfa:
            device = iam.create_virtual_mfa_device(VirtualMFADeviceName=admin)
            iam.enable_mfa_device(UserName=admin,
                                  SerialNumber=device["VirtualMFADevice"]["SerialNumber"],
                                  AuthenticationCode1="123456", AuthenticationCode2="654321")
        for region, names in servers.items():
            ec2 = self._client(session, "ec2", region)
            for name, tags in names:
                inst = ec2.run_instances(
                    ImageId="ami-12345678", MinCount=1, MaxCount=1,
                    TagSpecifications=[{"ResourceType": "instance", "Tags": [
                        {"Key": k, "Value": v} for k, v in {"Name": name, **tags}.items()]}],
                )["Instances"][0]
                self.ids[name] = inst["InstanceId"]
                self.arns[name] = f"arn:aws:ec2:{region}:{account}:instance/{inst['InstanceId']}"


def _node(iid: str) -> dict[str, Any]:
    return {"InstanceId": iid, "PingStatus": "Online", "ResourceType": "EC2Instance",
            "PlatformName": "Microsoft Windows Server 2022 Datacenter",
            "LastPingDateTime": AS_OF - timedelta(minutes=5)}


def _state(iid: str) -> dict[str, Any]:
    return {"InstanceId": iid, "PatchGroup": "prod", "BaselineId": "pb-0c10e65780EXAMPLE",
            "InstalledCount": 200, "MissingCount": 0, "FailedCount": 0, "NotApplicableCount": 9,
            "OperationStartTime": AS_OF - timedelta(hours=3, minutes=4),
            "OperationEndTime": AS_OF - timedelta(hours=3), "Operation": "Scan"}


def _patch(kb: str, state: str, severity: str, installed_days: float | None = None) -> dict:
    installed = AS_OF - timedelta(days=installed_days) if installed_days else datetime(
        1970, 1, 1, tzinfo=UTC)
    return {"Title": f"Update {kb}", "KBId": kb, "Classification": "SecurityUpdates",
            "Severity": severity, "State": state, "InstalledTime": installed}


def _ssm(st: Stubber, e: Estate, account: str, region: str) -> None:
    if account == e.b and region == R1:
        st.add_client_error("describe_instance_information", "AccessDeniedException",
                            "User: arn:aws:sts::assumed-role/ClauseWatchReadOnly is not "
                            "authorized to perform: ssm:DescribeInstanceInformation", 400)
        return
    patches = {
        "srv-a-web": [_patch("KB5044281", "MISSING", "Critical")],
        "srv-a-app": [_patch("KB5043050", "INSTALLED", "Important", installed_days=9)],
        "srv-a-dr": [_patch("ALAS2-2026-042", "INSTALLED", "Important", installed_days=2)],
        "srv-b-file": [],
    }
    names = {"srv-a-web", "srv-a-app"} if region == R1 else (
        {"srv-a-dr"} if account == e.a else {"srv-b-file"})
    by_id = {e.ids[n]: n for n in names}
    st.add_response("describe_instance_information",
                    {"InstanceInformationList": [_node(i) for i in sorted(by_id)]})
    st.add_response("describe_instance_patch_states",
                    {"InstancePatchStates": [_state(i) for i in sorted(by_id)]})
    for iid in sorted(by_id):
        st.add_response("describe_instance_patches", {"Patches": patches[by_id[iid]]})
    if account == e.a and region == R1:  # the only Windows KBs of the estate: asked once
        st.add_response("describe_available_patches", {"Patches": [
            {"Id": "1", "KbNumber": "KB5044281", "ReleaseDate": AS_OF - timedelta(days=20)},
            {"Id": "2", "KbNumber": "KB5043050", "ReleaseDate": AS_OF - timedelta(days=12)}]})


def _backup(st: Stubber, e: Estate, account: str, region: str) -> None:
    if account == e.a and region == R1:
        orders = e.arns["orders-db"]
        st.add_response("list_protected_resources", {"Results": [
            {"ResourceArn": orders, "ResourceType": "RDS"}]})
        st.add_response("list_backup_jobs", {"BackupJobs": [{
            "BackupJobId": "job-1", "ResourceArn": orders, "ResourceType": "RDS",
            "State": "COMPLETED", "CreationDate": AS_OF - timedelta(hours=6),
            "CompletionDate": AS_OF - timedelta(hours=5)}]})
        st.add_response("list_restore_testing_plans", {"RestoreTestingPlans": [{
            "RestoreTestingPlanArn": "arn:aws:backup:plan-weekly",
            "RestoreTestingPlanName": "weekly", "ScheduleExpression": "cron(0 3 ? * SUN *)",
            "CreationTime": AS_OF - timedelta(days=200)}]})
        st.add_response("list_restore_jobs", {"RestoreJobs": [{
            "RestoreJobId": "restore-1", "SourceResourceArn": orders, "Status": "COMPLETED",
            "CreationDate": AS_OF - timedelta(days=10, hours=2),
            "CompletionDate": AS_OF - timedelta(days=10), "ValidationStatus": "SUCCESSFUL",
            "CreatedBy": {"RestoreTestingPlanArn": "arn:aws:backup:plan-weekly"}}]})
        return
    if account == e.b and region == R2:
        st.add_response("list_protected_resources", {"Results": [
            {"ResourceArn": e.arns["srv-b-file"], "ResourceType": "EC2"}]})
        st.add_client_error("list_backup_jobs", "AccessDeniedException",
                            "User is not authorized to perform: backup:ListBackupJobs", 403)
        st.add_response("list_restore_testing_plans", {"RestoreTestingPlans": []})
        st.add_response("list_restore_jobs", {"RestoreJobs": [{
            "RestoreJobId": "restore-2", "SourceResourceArn": e.arns["srv-b-file"],
            "Status": "COMPLETED", "CreationDate": AS_OF - timedelta(days=20, hours=1),
            "CompletionDate": AS_OF - timedelta(days=20)}]})  # restored, never validated
        return
    for op, key in (("list_protected_resources", "Results"), ("list_backup_jobs", "BackupJobs"),
                    ("list_restore_testing_plans", "RestoreTestingPlans"),
                    ("list_restore_jobs", "RestoreJobs")):
        st.add_response(op, {key: []})


def _stubbing(monkeypatch: pytest.MonkeyPatch, estate: Estate) -> list[Stubber]:
    """Wrap the one client-making function: SSM and Backup clients get a programmed Stubber."""
    inner: Callable[..., Any] = aws_session.boto3_client
    stubs: list[Stubber] = []

    def factory(session: Any, service: str, **kw: Any) -> Any:
        client = inner(session, service, **kw)
        if service in ("ssm", "backup"):
            st = Stubber(client)
            (_ssm if service == "ssm" else _backup)(st, estate, kw["account_id"], kw["region"])
            st.activate()
            stubs.append(st)
        return client

    monkeypatch.setattr(aws_session, "boto3_client", factory)
    return stubs


def test_run_on_two_accounts_two_regions(moto_url: str, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path, api_calls: Any) -> None:
    estate = Estate(moto_url)
    stubs = _stubbing(monkeypatch, estate)
    monkeypatch.setenv("CW_EXTERNAL_ID", EXTERNAL_ID)
    endpoints = "\n".join(f"        {s}: {moto_url}" for s in aws_session_services())
    (tmp_path / "contract.yaml").write_text(CONTRACT, encoding="utf-8")
    (tmp_path / "sources.yaml").write_text(f"""\
version: 1
concurrency: 4
sources:
  aws:
    - name: morel-org
      region: {R1}
      regions: [{R1}, {R2}]
      organization: {{exclude: ["{estate.master}"]}}
      role: {{name: ClauseWatchReadOnly, external_id_env: CW_EXTERNAL_ID}}
      max_attempts: 2
      endpoints:
{endpoints}
""", encoding="utf-8")
    out = tmp_path / "out"
    code = cli.main(["run", "--policy", str(tmp_path / "contract.yaml"), "--sources",
                     str(tmp_path / "sources.yaml"), "--as-of", AS_OF.isoformat(),
                     "--out", str(out)])
    for st in stubs:
        st.assert_no_pending_responses()
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert code == 3 and doc["exit_code"] == 3 and doc["partial"] is True
    verdicts = {c["id"]: c["status"] for c in doc["commitments"]}
    subjects = {c["id"]: {r["label"]: r["status"] for r in c["results"]}
                for c in doc["commitments"]}
    assert subjects["mfa-admins"] == {"ops-admin": "compliant", "b-admin": "breached"}
    assert subjects["patch-prod"] == {
        "srv-a-web": "breached",      # critical KB5044281 missing, released 20 days ago
        "srv-a-app": "compliant",     # important KB5043050 installed 3 days after release
        "srv-a-orphan": "no_evidence",  # in EC2, unknown to SSM
        "srv-a-dr": "compliant",
        "srv-b-web": "no_evidence",   # account B refuses ssm:DescribeInstanceInformation
        "srv-b-file": "compliant",
    }
    assert subjects["backup-db"] == {"orders-db": "compliant",
                                     "crm-db": "breached"}  # never protected by AWS Backup
    assert subjects["backup-files"] == {"srv-b-file": "no_evidence"}  # ListBackupJobs refused
    assert subjects["restore"] == {"orders-db": "compliant",
                                   "srv-b-file": "breached"}  # restored but never validated
    assert verdicts == {"mfa-admins": "breached", "patch-prod": "breached",
                        "backup-db": "breached", "backup-files": "no_evidence",
                        "restore": "breached"}
    errors = {(e["source"], e["origin"], e["operation"]) for e in doc["collection_errors"]}
    assert errors == {("aws.ssm", f"aws/{estate.b}/{R1}", "DescribeInstanceInformation"),
                      ("aws.backup", f"aws/{estate.b}/{R2}", "ListBackupJobs")}
    # the evidence file reads back; every record's raw page is in the output, untouched
    batch = read_evidence(out / "evidence.jsonl")
    assert len(batch.errors) == 2 and batch.evidence
    for ev in batch.evidence:
        path, _, digest = ev.raw_ref.partition("#sha256=")
        assert (out / path).is_file(), ev.raw_ref
    blobs = [p.read_bytes() for p in out.rglob("*") if p.is_file()]
    assert not any(EXTERNAL_ID.encode() in b or b"Sup3r-secret" in b for b in blobs)
    assert {"ssm:DescribeInstancePatches", "backup:ListRestoreJobs", "sts:AssumeRole",
            "organizations:ListAccounts", "iam:GetCredentialReport"} <= set(api_calls.actions)
    # the nightly run keeps a history by default, beside the sources file
    from clausewatch.history.store import read_history
    with read_history(tmp_path / "clausewatch-history.sqlite") as store:
        (run,) = store.runs(doc["contract"]["id"])
    assert run.run_id == doc["run"]["run_id"] and run.exit_code == 3


def aws_session_services() -> list[str]:
    from clausewatch.collectors.aws.source import SERVICES
    return SERVICES
