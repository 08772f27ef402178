"""Reaching accounts: AssumeRole, retries, endpoint overrides, refused roles."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import botocore.endpoint
import botocore.retries.bucket
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber

from clausewatch.collectors.aws.backup import BackupCollector
from clausewatch.collectors.aws.iam import IamCollector
from clausewatch.collectors.aws.session import AwsAccess, AwsSettings
from clausewatch.collectors.aws.ssm import PatchCollector, ReleaseDates
from clausewatch.collectors.raw import RawRecorder
from clausewatch.core.redact import Redactor

AS_OF = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
CREDS = {"AccessKeyId": "ASIAEXAMPLEEXAMPLE01", "SecretAccessKey": "s3cr3t-key-material-xyz",
         "SessionToken": "session-token-material-abc",
         "Expiration": datetime.now(UTC) + timedelta(hours=1)}


def _access(sts: Any, **settings: Any) -> tuple[AwsAccess, Redactor, list[dict[str, Any]]]:
    made: list[dict[str, Any]] = []

    def factory(session: Any, service: str, **kw: Any) -> Any:
        made.append({"service": service, **kw})
        if service == "sts":
            return sts
        return session.client(service, region_name=kw["region"],
                              endpoint_url=kw["endpoint_url"], config=kw["config"])

    redactor = Redactor()
    base = {"name": "t", "home_region": "eu-west-3", "regions": ("eu-west-3",),
            "role_name": "ClauseWatchReadOnly"}
    access = AwsAccess(AwsSettings(**{**base, **settings}), redactor, client_factory=factory)
    return access, redactor, made


def test_assume_role_once_per_account_with_external_id(aws_client: Any) -> None:
    sts = aws_client("sts")
    with Stubber(sts) as st:
        st.add_response("assume_role", {"Credentials": CREDS}, {
            "RoleArn": "arn:aws:iam::111111111111:role/audit/ClauseWatchReadOnly",
            "RoleSessionName": "clausewatch", "DurationSeconds": 3600,
            "ExternalId": "ext-id-42"})
        access, redactor, made = _access(sts, external_id="ext-id-42", role_path="/audit/",
                                         endpoints={"ssm": "http://127.0.0.1:4566"},
                                         max_attempts=7)
        ssm = access.client("111111111111", "ssm", "eu-west-1")
        access.client("111111111111", "ec2", "eu-west-1")  # no second AssumeRole
        st.assert_no_pending_responses()
    assert ssm.meta.endpoint_url == "http://127.0.0.1:4566"
    assert ssm.meta.region_name == "eu-west-1"
    assert ssm.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 7}
    assert ssm._request_signer._credentials.access_key == CREDS["AccessKeyId"]
    assert {CREDS["SecretAccessKey"], CREDS["SessionToken"]} <= set(redactor.known)
    assert [m["account_id"] for m in made if m["service"] != "sts"] == ["111111111111"] * 2


def test_refused_role_gives_each_collector_its_own_error(aws_client: Any, tmp_path: Path) -> None:
    sts = aws_client("sts")
    raw = RawRecorder(tmp_path, Redactor())
    with Stubber(sts) as st:
        st.add_client_error("assume_role", "AccessDenied",
                            "not authorized to perform: sts:AssumeRole", 403)
        access, _, _ = _access(sts)
        acct = "222222222222"

        def client(service: str) -> Any:
            return access.client(acct, service, "eu-west-1")

        collectors = [
            IamCollector(acct, lambda: access.client(acct, "iam"), raw, AS_OF),
            PatchCollector(acct, "eu-west-1", client, raw, AS_OF, ReleaseDates()),
            BackupCollector(acct, "eu-west-1", client, raw, AS_OF),
        ]
        errors = [e for c in collectors for e in c.collect()]
        st.assert_no_pending_responses()  # asked once, refused once, remembered
    assert [(e.origin, e.kinds, e.operation) for e in errors] == [
        (f"aws/{acct}", ("identity",), "AssumeRole"),
        (f"aws/{acct}/eu-west-1", ("asset", "patch"), "AssumeRole"),
        (f"aws/{acct}/eu-west-1", ("asset", "backup", "restore_test"), "AssumeRole"),
    ]
    assert all(e.message.startswith("AccessDenied: ") for e in errors)


def _virtual_time(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """botocore's back-off and its adaptive rate limiter on a virtual clock: the tests never
    sleep through real back-off, and the waits botocore asked for are recorded."""
    now = [0.0]
    waits: list[float] = []

    def wait(seconds: float | None) -> None:
        waits.append(seconds or 0.0)
        now[0] += seconds or 0.0

    class Condition(threading.Condition):
        def wait(self, timeout: float | None = None) -> bool:
            wait(timeout)
            return True

    monkeypatch.setattr(botocore.endpoint, "time", SimpleNamespace(sleep=wait, time=time.time))
    monkeypatch.setattr(botocore.retries.bucket, "threading",
                        SimpleNamespace(Lock=threading.Lock, Condition=Condition))
    monkeypatch.setattr(botocore.retries.bucket.Clock, "current_time", lambda self: now[0])
    return waits


def _throttle_then(monkeypatch: pytest.MonkeyPatch, client: Any, throttles: int) -> list[int]:
    """Answer ``throttles`` ThrottlingExceptions, then a real page, at the HTTP layer."""
    calls: list[int] = []

    def send(request: Any, **_: Any) -> AWSResponse:
        calls.append(1)
        if len(calls) <= throttles:
            body = b'{"__type":"ThrottlingException","message":"Rate exceeded"}'
            return AWSResponse(request.url, 400, {"x-amzn-requestid": "r"}, _Raw(body))
        return AWSResponse(request.url, 200, {"x-amzn-requestid": "r"},
                           _Raw(b'{"InstanceInformationList":[]}'))

    client.meta.events.register("before-send.ssm.DescribeInstanceInformation", send)
    return calls


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def test_throttling_is_retried_by_botocore_adaptive_mode(monkeypatch: pytest.MonkeyPatch,
                                                         aws_client: Any) -> None:
    waits = _virtual_time(monkeypatch)
    ssm = aws_client("ssm", max_attempts=4)
    calls = _throttle_then(monkeypatch, ssm, throttles=2)
    assert ssm.describe_instance_information()["InstanceInformationList"] == []
    assert len(calls) == 3
    assert waits and all(w >= 0 for w in waits)  # botocore backed off between attempts


def test_throttling_retries_are_bounded(monkeypatch: pytest.MonkeyPatch, aws_client: Any,
                                        tmp_path: Path) -> None:
    _virtual_time(monkeypatch)
    ssm = aws_client("ssm", max_attempts=3)
    ec2 = aws_client("ec2")
    calls = _throttle_then(monkeypatch, ssm, throttles=99)
    with Stubber(ec2) as st:
        st.add_response("describe_instances", {"Reservations": []})
        c = PatchCollector("123456789012", "eu-west-3", {"ssm": ssm, "ec2": ec2}.__getitem__,
                           RawRecorder(tmp_path, Redactor()), AS_OF, ReleaseDates())
        (error,) = list(c.collect())
    assert len(calls) == 3  # max_attempts, then it gives up
    assert error.retryable and error.message.startswith("ThrottlingException")
    with pytest.raises(ClientError):
        ssm.describe_instance_information()


def test_default_chain_without_role_reads_the_caller_account(aws_client: Any) -> None:
    sts = aws_client("sts")
    with Stubber(sts) as st:
        st.add_response("get_caller_identity", {"Account": "333333333333"})
        access, _, _ = _access(sts, role_name=None)
        assert access.accounts(RawRecorder(None, Redactor())) == ["333333333333"]
        assert access.session_for("333333333333") is access._base
    assert isinstance(access._base, boto3.Session)
