"""Every way a botocore call can fail becomes one ``CollectionError`` naming the operation and
what it covered; the rest of the collection goes on (RDS failing leaves DynamoDB read)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import (
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)
from botocore.stub import Stubber
from moto import mock_aws

from clausewatch.collectors.aws.backup import BackupCollector
from clausewatch.core.evidence import CollectionError, Evidence

AS_OF = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
ACCOUNT = "123456789012"
REGION = "eu-west-3"
URL = f"https://rds.{REGION}.amazonaws.com/"


class _Raw:
    """The raw body botocore reads from an HTTP response."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_: Any) -> Any:
        yield self.body


def _answer(status: int, body: bytes) -> Any:
    return lambda **_: AWSResponse(URL, status, {"Content-Type": "text/html"}, _Raw(body))


def _raise(exc: Exception) -> Any:
    def hook(**_: Any) -> Any:
        raise exc
    return hook


HTML = b"<html><body><h1>502 Bad Gateway</h1></body>"
FAILURES = {
    "502 with an HTML body": _answer(502, HTML),
    "200 with an HTML body (ResponseParserError)": _answer(200, HTML),
    "200 with an empty body": _answer(200, b"<"),
    "EndpointConnectionError": _raise(EndpointConnectionError(endpoint_url=URL)),
    "ReadTimeoutError": _raise(ReadTimeoutError(endpoint_url=URL)),
    "ConnectTimeoutError": _raise(ConnectTimeoutError(endpoint_url=URL)),
    "NoCredentialsError": _raise(NoCredentialsError()),
    "ParamValidationError": _raise(ParamValidationError(report="bad")),
}


@mock_aws
@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
def test_a_failed_rds_listing_is_one_error_and_the_rest_is_read(
    failure: str, aws_client: Any, raw: Any
) -> None:
    table = boto3.client("dynamodb", region_name=REGION).create_table(
        TableName="sessions", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )["TableDescription"]["TableArn"]
    backup = aws_client("backup", REGION)
    rds = aws_client("rds", REGION, max_attempts=1)
    rds.meta.events.register_first("before-send.rds", FAILURES[failure])
    clients = {"rds": rds, "dynamodb": aws_client("dynamodb", REGION), "backup": backup}
    collector = BackupCollector(ACCOUNT, REGION, clients.__getitem__, raw, AS_OF,
                                resource_types=["RDS", "DynamoDB"])
    with Stubber(backup) as st:
        st.add_response("list_protected_resources", {"Results": []})
        st.add_response("list_backup_jobs", {"BackupJobs": []})
        st.add_response("list_restore_testing_plans", {"RestoreTestingPlans": []})
        st.add_response("list_restore_jobs", {"RestoreJobs": []})
        items = list(collector.collect())
    errors = [i for i in items if isinstance(i, CollectionError)]
    ev = [i for i in items if isinstance(i, Evidence)]
    (err,) = errors
    assert (err.source, err.origin, err.kinds, err.operation) == (
        "aws.rds", f"aws/{ACCOUNT}/{REGION}", ("asset",), "DescribeDBInstances")
    assert err.asset_kinds == ("database",) and err.resource_types == ("RDS",)
    assert [e.subject for e in ev if e.kind == "asset"] == [table]  # DynamoDB still read


EC2_NS = b'xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"'


@pytest.mark.parametrize(("body", "failed"), [
    (b"<DescribeInstancesResponse " + EC2_NS + b"><requestId>r</requestId>"
     b"</DescribeInstancesResponse>", True),
    (b"<DescribeInstancesResponse " + EC2_NS + b"><requestId>r</requestId><reservationSet/>"
     b"</DescribeInstancesResponse>", False),
])
def test_describe_instances_without_reservations_is_an_error_not_an_empty_region(
    body: bytes, failed: bool, aws_client: Any, raw: Any
) -> None:
    from clausewatch.collectors.aws.ssm import PatchCollector, ReleaseDates

    ec2 = aws_client("ec2", REGION, max_attempts=1)
    ec2.meta.events.register_first("before-send.ec2", _answer(200, body))
    collector = PatchCollector(ACCOUNT, REGION, lambda _service: ec2, raw, AS_OF, ReleaseDates(),
                               with_patches=False)
    items = list(collector.collect())
    errors = [i for i in items if isinstance(i, CollectionError)]
    assert not [i for i in items if isinstance(i, Evidence)]
    if failed:
        (err,) = errors
        assert err.operation == "DescribeInstances" and "Reservations" in err.message
        assert err.asset_kinds == ("server",)
    else:
        assert errors == []  # a region without instances says so: <reservationSet/>
