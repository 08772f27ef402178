"""AWS Backup: inventory on moto (RDS, EBS, DynamoDB), AWS Backup through botocore's Stubber."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from botocore.stub import Stubber
from moto import mock_aws

from clausewatch.collectors.aws.backup import BackupCollector
from clausewatch.core.evidence import CollectionError, Evidence

AS_OF = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
REGION = "eu-west-3"
VAULT = f"arn:aws:backup:{REGION}:{ACCOUNT}:backup-vault:prod"
PLAN = f"arn:aws:backup:{REGION}:{ACCOUNT}:restore-testing-plan:weekly-abc"


def _inventory() -> dict[str, str]:
    rds = boto3.client("rds", region_name=REGION)
    arns = {}
    for name, env in (("orders-db", "prod"), ("crm-db", "prod"), ("scratch-db", "dev")):
        db = rds.create_db_instance(
            DBInstanceIdentifier=name, DBInstanceClass="db.t3.micro", Engine="postgres",
            MasterUsername="admin", MasterUserPassword="not-a-real-pw-1",
            AllocatedStorage=20, Tags=[{"Key": "env", "Value": env}],
        )["DBInstance"]
        arns[name] = db["DBInstanceArn"]
    ddb = boto3.client("dynamodb", region_name=REGION)
    table = ddb.create_table(
        TableName="sessions", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        Tags=[{"Key": "env", "Value": "prod"}],
    )["TableDescription"]
    arns["sessions"] = table["TableArn"]
    return arns


def _job(job_id: str, arn: str, state: str, done: datetime | None) -> dict[str, Any]:
    job = {"BackupJobId": job_id, "AccountId": ACCOUNT, "BackupVaultArn": VAULT,
           "ResourceArn": arn, "ResourceType": "RDS", "State": state,
           "CreationDate": (done or AS_OF) - timedelta(minutes=40), "BackupSizeInBytes": 1024}
    if done:
        job["CompletionDate"] = done
    return job


def _restore(job_id: str, arn: str, status: str, validation: str | None,
             done: datetime, plan: bool = True) -> dict[str, Any]:
    job: dict[str, Any] = {
        "RestoreJobId": job_id, "AccountId": ACCOUNT, "SourceResourceArn": arn,
        "Status": status, "CreationDate": done - timedelta(minutes=95), "CompletionDate": done,
        "ResourceType": "RDS"}
    if validation:
        job["ValidationStatus"] = validation
    if plan:
        job["CreatedBy"] = {"RestoreTestingPlanArn": PLAN}
    return job


def _collect(c: BackupCollector) -> tuple[list[Evidence], list[CollectionError]]:
    items = list(c.collect())
    return ([i for i in items if isinstance(i, Evidence)],
            [i for i in items if isinstance(i, CollectionError)])


def _collector(aws_client: Any, backup: Any, raw: Any, **kw: Any) -> BackupCollector:
    clients = {s: aws_client(s, REGION) for s in ("rds", "ec2", "efs", "dynamodb")}
    clients["backup"] = backup
    return BackupCollector(ACCOUNT, REGION, clients.__getitem__, raw, AS_OF, **kw)


@mock_aws
def test_backups_restore_tests_and_unprotected_resources(aws_client: Any, raw: Any) -> None:
    arns = _inventory()
    s3 = f"arn:aws:s3:::morel-archives-{ACCOUNT}"
    backup = aws_client("backup", REGION)
    with Stubber(backup) as st:
        st.add_response("list_protected_resources", {"Results": [
            {"ResourceArn": arns["orders-db"], "ResourceType": "RDS",
             "LastBackupTime": AS_OF - timedelta(hours=5)},
            {"ResourceArn": arns["crm-db"], "ResourceType": "RDS",
             "LastBackupTime": AS_OF - timedelta(days=45)},
            {"ResourceArn": s3, "ResourceType": "S3", "ResourceName": "morel-archives"}]},
            {"MaxResults": 1000})
        st.add_response("list_backup_jobs", {"BackupJobs": [
            _job("j1", arns["orders-db"], "COMPLETED", AS_OF - timedelta(hours=5)),
            _job("j2", arns["orders-db"], "FAILED", AS_OF - timedelta(hours=29)),
            _job("j3", arns["orders-db"], "RUNNING", None),
            _job("j4", s3, "COMPLETED", AS_OF - timedelta(hours=7))]},
            {"ByCreatedAfter": AS_OF - timedelta(days=30), "MaxResults": 1000})
        st.add_response("list_recovery_points_by_resource", {"RecoveryPoints": [
            {"RecoveryPointArn": "rp-old", "CreationDate": AS_OF - timedelta(days=50),
             "Status": "COMPLETED"},
            {"RecoveryPointArn": "rp-newer", "CreationDate": AS_OF - timedelta(days=45),
             "Status": "COMPLETED"},
            {"RecoveryPointArn": "rp-broken", "CreationDate": AS_OF - timedelta(days=40),
             "Status": "PARTIAL"}]}, {"ResourceArn": arns["crm-db"], "MaxResults": 1000})
        st.add_response("list_restore_testing_plans", {"RestoreTestingPlans": [{
            "RestoreTestingPlanArn": PLAN, "RestoreTestingPlanName": "weekly",
            "ScheduleExpression": "cron(0 3 ? * SUN *)", "CreationTime": AS_OF}]},
            {"MaxResults": 1000})
        st.add_response("list_restore_jobs", {"RestoreJobs": [
            _restore("r1", arns["orders-db"], "COMPLETED", "SUCCESSFUL", AS_OF - timedelta(5)),
            _restore("r2", arns["crm-db"], "COMPLETED", None, AS_OF - timedelta(days=6)),
            _restore("r3", arns["crm-db"], "COMPLETED", "FAILED", AS_OF - timedelta(days=7)),
            _restore("r4", arns["crm-db"], "COMPLETED", "VALIDATING", AS_OF - timedelta(1)),
            _restore("r5", arns["scratch-db"], "FAILED", None, AS_OF - timedelta(2), False)]},
            {"ByCreatedAfter": AS_OF - timedelta(days=400), "MaxResults": 1000})
        ev, errors = _collect(_collector(aws_client, backup, raw))
        st.assert_no_pending_responses()
    assert errors == []
    assets = {e.subject: e for e in ev if e.kind == "asset"}
    assert set(assets) == {*arns.values(), s3}
    assert assets[arns["scratch-db"]].facts == {  # never protected, still in the inventory
        "asset_kind": "database", "name": "scratch-db", "tags": {"env": "dev"},
        "engine": "postgres"}
    assert assets[arns["sessions"]].facts["tags"] == {"env": "prod"}
    assert (assets[s3].source, assets[s3].facts["asset_kind"]) == ("aws.backup", "bucket")
    backups = {e.id: e for e in ev if e.kind == "backup"}
    assert {k: (b.subject, b.facts["outcome"]) for k, b in backups.items()} == {
        "aws.backup:backup:j1": (arns["orders-db"], "success"),
        "aws.backup:backup:j2": (arns["orders-db"], "failed"),
        "aws.backup:backup:j4": (s3, "success"),
        "aws.backup:backup:rp-newer": (arns["crm-db"], "success"),  # older than the 30 days
    }
    assert backups["aws.backup:backup:rp-newer"].facts["completed_at"] == AS_OF - timedelta(45)
    tests = {e.facts["job_id"]: e.facts for e in ev if e.kind == "restore_test"}
    assert {k: t["outcome"] for k, t in tests.items()} == {
        "r1": "success", "r2": "partial", "r3": "failed", "r5": "failed"}
    assert tests["r1"]["duration_minutes"] == 95 and tests["r1"]["method"] == "automated"
    assert tests["r1"]["note"].startswith("restore testing plan weekly")
    assert tests["r5"]["note"].startswith("restore job")
    assert all(e.origin == f"aws/{ACCOUNT}/{REGION}" and e.raw_ref for e in ev)


@mock_aws
def test_unvalidated_restore_counts_when_validation_not_required(aws_client: Any,
                                                                 raw: Any) -> None:
    backup = aws_client("backup", REGION)
    arn = f"arn:aws:rds:{REGION}:{ACCOUNT}:db:x"
    with Stubber(backup) as st:
        st.add_response("list_protected_resources", {"Results": []})
        st.add_response("list_backup_jobs", {"BackupJobs": []})
        st.add_response("list_restore_testing_plans", {"RestoreTestingPlans": []})
        st.add_response("list_restore_jobs", {"RestoreJobs": [
            _restore("r1", arn, "COMPLETED", None, AS_OF - timedelta(days=3), plan=False)]})
        ev, errors = _collect(_collector(aws_client, backup, raw, require_validation=False,
                                         resource_types=["RDS"]))
    assert errors == [] and [e.facts["outcome"] for e in ev] == ["success"]


@mock_aws
def test_access_denied_on_backup_jobs_is_reported_and_the_rest_collected(aws_client: Any,
                                                                        raw: Any) -> None:
    arns = _inventory()
    backup = aws_client("backup", REGION)
    with Stubber(backup) as st:
        st.add_response("list_protected_resources", {"Results": []})
        st.add_client_error("list_backup_jobs", "AccessDeniedException",
                            "not authorized to perform: backup:ListBackupJobs", 403)
        st.add_response("list_restore_testing_plans", {"RestoreTestingPlans": []})
        st.add_response("list_restore_jobs", {"RestoreJobs": [
            _restore("r1", arns["orders-db"], "COMPLETED", "SUCCESSFUL", AS_OF - timedelta(1))]})
        ev, errors = _collect(_collector(aws_client, backup, raw))
    assert [(e.source, e.origin, e.kinds, e.operation, e.message.split(":")[0])
            for e in errors] == [("aws.backup", f"aws/{ACCOUNT}/{REGION}", ("backup",),
                                  "ListBackupJobs", "AccessDeniedException")]
    assert {e.kind for e in ev} == {"asset", "restore_test"}
    assert len([e for e in ev if e.kind == "asset"]) == len(arns)
