"""IAM identities: real boto3 against moto (and Stubber where moto cannot say it)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from clausewatch.checks.engine import evaluate
from clausewatch.checks.registry import CHECKS
from clausewatch.collectors.aws.iam import IamCollector
from clausewatch.core.evidence import CollectionError, Evidence
from clausewatch.core.result import Status
from clausewatch.policies.load import load_contract

AS_OF = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
FULL = "full access (any service, IAM included, on every resource)"
MSA = Path(__file__).resolve().parents[3] / "policies" / "examples" / "msa-en.yaml"
ACCOUNT = "123456789012"  # moto's default account
ADMIN = json.dumps({"Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})
READ = json.dumps({"Version": "2012-10-17",
                   "Statement": [{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}]})


def _estate() -> None:
    iam = boto3.client("iam", region_name="us-east-1")
    iam.create_group(GroupName="admins")
    iam.attach_group_policy(GroupName="admins",
                            PolicyArn="arn:aws:iam::aws:policy/AdministratorAccess")
    local = iam.create_policy(PolicyName="full", PolicyDocument=ADMIN)["Policy"]["Arn"]
    iam.create_policy(PolicyName="reader", PolicyDocument=READ)
    for name in ("alice", "bob", "carol", "dave", "erin", "ci-bot"):
        iam.create_user(UserName=name)
    for name in ("alice", "bob", "carol", "dave", "erin"):
        iam.create_login_profile(UserName=name, Password="Sup3r-secret!pw")
    iam.add_user_to_group(GroupName="admins", UserName="alice")  # admin via group, with MFA
    iam.add_user_to_group(GroupName="admins", UserName="bob")  # admin via group, no MFA
    iam.put_user_policy(UserName="carol", PolicyName="everything", PolicyDocument=ADMIN)
    iam.attach_user_policy(UserName="dave", PolicyArn=local)
    for name in ("alice", "carol"):
        device = iam.create_virtual_mfa_device(VirtualMFADeviceName=name)["VirtualMFADevice"]
        iam.enable_mfa_device(UserName=name, SerialNumber=device["SerialNumber"],
                              AuthenticationCode1="123456", AuthenticationCode2="654321")
    iam.create_access_key(UserName="ci-bot")


def _run(collector: IamCollector) -> tuple[dict[str, Evidence], list[CollectionError]]:
    items = list(collector.collect())
    ev = {i.subject: i for i in items if isinstance(i, Evidence)}
    return ev, [i for i in items if isinstance(i, CollectionError)]


@pytest.fixture
def managed_policies(monkeypatch: pytest.MonkeyPatch) -> None:
    """moto loads the AWS managed policies (AdministratorAccess) only when asked: slow."""
    monkeypatch.setenv("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")


@mock_aws
def test_identities_from_credential_report_and_policies(
    managed_policies: None, aws_client: Any, raw: Any, tmp_path: Path
) -> None:
    _estate()
    sleeps: list[float] = []
    c = IamCollector(ACCOUNT, lambda: aws_client("iam"), raw, AS_OF, sleep=sleeps.append)
    ev, errors = _run(c)
    assert errors == []
    assert sleeps == [0.2]  # moto answers STARTED first, then COMPLETE: polled once, soon
    f = {arn.rsplit("/", 1)[-1] if "user/" in arn else "root": e.facts for arn, e in ev.items()}
    assert set(f) == {"root", "alice", "bob", "carol", "dave", "erin", "ci-bot"}
    assert f["alice"]["privileged"] and f["alice"]["privileged_reason"] == (
        f"{FULL}: group admins's managed policy AdministratorAccess, "
        "statement #1")
    assert (f["alice"]["mfa_enforced"], f["bob"]["mfa_enforced"]) == (True, False)
    assert f["bob"]["privileged"] and f["bob"]["mfa_registered"] is False
    assert f["carol"]["privileged_reason"] == (
        f"{FULL}: inline policy everything of user carol, statement #1")
    assert f["dave"]["privileged_reason"] == (
        f"{FULL}: managed policy full, statement #1")
    assert f["erin"]["privileged"] is False and f["erin"]["account_type"] == "member"
    assert f["ci-bot"]["account_type"] == "service" and f["ci-bot"]["enabled"] is True
    assert f["ci-bot"]["mfa_enforced"] is None  # keys: enforcement lives in policy conditions
    root = ev[f"arn:aws:iam::{ACCOUNT}:root"]
    assert root.facts["account_type"] == "root" and root.facts["privileged"] is True
    assert root.facts["mfa_enforced"] is False  # moto: AccountMFAEnabled is always 0
    assert all(e.origin == f"aws/{ACCOUNT}" and e.source == "aws.iam" for e in ev.values())
    # every record names the raw page it came from, and that page is on disk
    for e in ev.values():
        path, _, digest = e.raw_ref.partition("#sha256=")
        assert (tmp_path / path).is_file() and len(digest) == 64
    report = ev[f"arn:aws:iam::{ACCOUNT}:user/bob"].raw_ref.split("#")[0]
    assert "GetCredentialReport" in report and "bob" in (tmp_path / report).read_text()


REPORT = (
    "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,"
    "password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,"
    "access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,"
    "access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,"
    "access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,"
    "cert_1_last_rotated,cert_2_active,cert_2_last_rotated\n"
    f"<root_account>,arn:aws:iam::{ACCOUNT}:root,2019-03-04T10:11:12+00:00,not_supported,"
    "2026-10-02T08:15:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,"
    "N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
    f"bob,arn:aws:iam::{ACCOUNT}:user/bob,2023-01-10T09:00:00+00:00,true,no_information,"
    "2023-01-10T09:00:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,"
    "N/A,false,N/A\n"
)


def test_access_denied_on_policies_keeps_users_but_reports_the_gap(aws_client: Any,
                                                                    raw: Any) -> None:
    client = aws_client("iam")
    generated = datetime(2026, 11, 20, 5, 0, tzinfo=UTC)
    with Stubber(client) as st:
        st.add_client_error("get_account_authorization_details", "AccessDenied",
                            "not authorized to perform iam:GetAccountAuthorizationDetails", 403)
        st.add_response("generate_credential_report", {"State": "COMPLETE"})
        st.add_response("get_credential_report", {"Content": REPORT.encode(),
                                                   "ReportFormat": "text/csv",
                                                   "GeneratedTime": generated})
        st.add_response("get_account_summary", {"SummaryMap": {"AccountMFAEnabled": 1,
                                                               "AccountPasswordPresent": 1}})
        ev, errors = _run(IamCollector(ACCOUNT, lambda: client, raw, AS_OF))
        st.assert_no_pending_responses()
    assert [(e.source, e.origin, e.kinds, e.operation) for e in errors] == [
        ("aws.iam", f"aws/{ACCOUNT}", ("identity",), "GetAccountAuthorizationDetails")]
    assert errors[0].message.startswith("AccessDenied: ")
    bob = ev[f"arn:aws:iam::{ACCOUNT}:user/bob"]
    assert bob.facts["privileged"] is None  # unknown, not "not privileged"
    assert bob.facts["privileged_reason"] == "GetAccountAuthorizationDetails could not be read"
    assert bob.observed_at == generated and bob.facts["created_at"] == datetime(
        2023, 1, 10, 9, tzinfo=UTC)
    assert ev[f"arn:aws:iam::{ACCOUNT}:root"].facts["mfa_enforced"] is True
    assert len(ev) == 2  # the report's root row is not a user


def test_report_not_ready_within_bound_is_a_retryable_error(aws_client: Any, raw: Any) -> None:
    client = aws_client("iam")
    with Stubber(client) as st:
        st.add_response("get_account_authorization_details", {"UserDetailList": []})
        st.add_response("generate_credential_report", {"State": "INPROGRESS"})
        st.add_response("get_account_summary", {"SummaryMap": {"AccountMFAEnabled": 0}})
        ev, errors = _run(IamCollector(ACCOUNT, lambda: client, raw, AS_OF,
                                       report_wait_seconds=0, sleep=lambda s: None))
    assert [(e.operation, e.retryable) for e in errors] == [("GenerateCredentialReport", True)]
    assert "still INPROGRESS" in errors[0].message
    assert list(ev) == [f"arn:aws:iam::{ACCOUNT}:root"]


IAM_STAR = json.dumps({"Version": "2012-10-17", "Statement": {  # a single statement object
    "Effect": "Allow", "Action": "IAM:*", "Resource": "*"}})
ALL_BUT_S3 = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "NotAction": ["s3:*"], "Resource": "*"}]})


@mock_aws
def test_admins_by_iam_star_and_notaction_breach_mfa_admins(aws_client: Any, raw: Any) -> None:
    """The reported miss: two console admins without MFA, by ``IAM:*`` and by ``NotAction``,
    were left out and ``mfa-admins`` came out compliant."""
    iam = boto3.client("iam", region_name="us-east-1")
    for name in ("frank", "gina", "hugo"):
        iam.create_user(UserName=name)
        iam.create_login_profile(UserName=name, Password="Sup3r-secret!pw")
    iam.put_user_policy(UserName="frank", PolicyName="iam-ops", PolicyDocument=IAM_STAR)
    arn = iam.create_policy(PolicyName="all-but-s3", PolicyDocument=ALL_BUT_S3)["Policy"]["Arn"]
    iam.create_group(GroupName="ops")
    iam.attach_group_policy(GroupName="ops", PolicyArn=arn)
    iam.add_user_to_group(GroupName="ops", UserName="gina")
    iam.put_user_policy(UserName="hugo", PolicyName="read", PolicyDocument=READ)
    items = list(IamCollector(ACCOUNT, lambda: aws_client("iam"), raw, AS_OF,
                              sleep=lambda s: None).collect())
    assert [i for i in items if isinstance(i, CollectionError)] == []
    users = {e.subject.rsplit("/", 1)[-1]: e for e in items
             if isinstance(e, Evidence) and ":user/" in e.subject}
    assert users["frank"].facts["privileged_reason"] == (
        "iam:* on every IAM resource: inline policy iam-ops of user frank, statement #1")
    assert users["gina"].facts["privileged_reason"] == (
        f"{FULL}: group ops's managed policy all-but-s3, statement #1")
    assert users["hugo"].facts["privileged"] is False
    contract = load_contract(MSA, CHECKS)
    generated = users["frank"].observed_at  # moto dates its report 2015-02-02...
    # ... but its users' creation at the wall clock: created after the run, they would be
    # observed in the future (never judged); what is tested here is who counts as an admin.
    records = [dataclasses.replace(e, facts={**e.facts, "created_at": None})
               for e in users.values()]
    out = evaluate(contract, records, [], generated)
    mfa = next(o for o in out.outcomes if o.commitment.id == "S3-3.1-mfa-admins")
    assert {r.label: r.status for r in mfa.results} == {
        "frank": Status.BREACHED, "gina": Status.BREACHED}
    assert mfa.verdict.status is Status.BREACHED


def _detail_user(name: str, **more: Any) -> dict[str, Any]:
    return {"Path": "/", "UserName": name, "UserId": f"AIDA{name.upper():0<16}"[:21],
            "Arn": f"arn:aws:iam::{ACCOUNT}:user/{name}", "CreateDate": AS_OF, **more}


def test_every_page_of_the_authorization_details_is_read(aws_client: Any, raw: Any,
                                                          tmp_path: Path) -> None:
    """Users on page 1, the group that makes bob an admin on page 2, each page kept raw."""
    client = aws_client("iam")
    params = {"Filter": ["User", "Group", "LocalManagedPolicy", "AWSManagedPolicy"],
              "MaxItems": 1000}
    page1 = {"UserDetailList": [_detail_user("bob", GroupList=["ops"])],
             "IsTruncated": True, "Marker": "page-2"}
    page2 = {"GroupDetailList": [{
        "Path": "/", "GroupName": "ops", "GroupId": "AGPAOPS0000000000000",
        "Arn": f"arn:aws:iam::{ACCOUNT}:group/ops", "CreateDate": AS_OF,
        "GroupPolicyList": [{"PolicyName": "grant", "PolicyDocument": json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow",
                                                    "Action": "iam:AttachUserPolicy",
                                                    "Resource": "*"}]})}],
        "AttachedManagedPolicies": []}], "IsTruncated": False}
    with Stubber(client) as st:
        st.add_response("get_account_authorization_details", page1, params)
        st.add_response("get_account_authorization_details", page2,
                        {**params, "Marker": "page-2"})
        st.add_response("generate_credential_report", {"State": "COMPLETE"})
        st.add_response("get_credential_report", {"Content": REPORT.encode(),
                                                   "ReportFormat": "text/csv",
                                                   "GeneratedTime": AS_OF})
        st.add_response("get_account_summary", {"SummaryMap": {"AccountMFAEnabled": 1}})
        ev, errors = _run(IamCollector(ACCOUNT, lambda: client, raw, AS_OF))
        st.assert_no_pending_responses()
    assert errors == []
    bob = ev[f"arn:aws:iam::{ACCOUNT}:user/bob"].facts
    assert bob["privileged"] is True
    assert bob["privileged_reason"].startswith("iam:AttachUserPolicy on itself")
    pages = sorted(p.name for p in tmp_path.rglob("*GetAccountAuthorizationDetails*"))
    assert len(pages) == 2


def test_a_user_missing_from_the_details_is_unknown(aws_client: Any, raw: Any) -> None:
    client = aws_client("iam")
    with Stubber(client) as st:
        st.add_response("get_account_authorization_details", {"UserDetailList": []})
        st.add_response("generate_credential_report", {"State": "COMPLETE"})
        st.add_response("get_credential_report", {"Content": REPORT.encode(),
                                                   "ReportFormat": "text/csv",
                                                   "GeneratedTime": AS_OF})
        st.add_response("get_account_summary", {"SummaryMap": {"AccountMFAEnabled": 1}})
        ev, _ = _run(IamCollector(ACCOUNT, lambda: client, raw, AS_OF))
    bob = ev[f"arn:aws:iam::{ACCOUNT}:user/bob"].facts
    assert bob["privileged"] is None and "not listed" in bob["privileged_reason"]


def test_report_is_polled_with_a_doubling_back_off_capped_at_poll_seconds(aws_client: Any,
                                                                          raw: Any) -> None:
    client = aws_client("iam")
    sleeps: list[float] = []
    with Stubber(client) as st:
        st.add_response("get_account_authorization_details", {"UserDetailList": []},
                        {"Filter": ["User", "Group", "LocalManagedPolicy", "AWSManagedPolicy"],
                         "MaxItems": 1000})
        for _ in range(4):
            st.add_response("generate_credential_report", {"State": "STARTED"})
        st.add_response("generate_credential_report", {"State": "COMPLETE"})
        st.add_response("get_credential_report", {"Content": REPORT.encode(),
                                                   "ReportFormat": "text/csv",
                                                   "GeneratedTime": AS_OF})
        st.add_response("get_account_summary", {"SummaryMap": {"AccountMFAEnabled": 1}})
        ev, errors = _run(IamCollector(ACCOUNT, lambda: client, raw, AS_OF, poll_seconds=0.5,
                                       sleep=sleeps.append))
        st.assert_no_pending_responses()
    assert errors == [] and f"arn:aws:iam::{ACCOUNT}:user/bob" in ev
    assert sleeps == [0.2, 0.4, 0.5, 0.5]  # not a fixed 2 s before a report that is ready
