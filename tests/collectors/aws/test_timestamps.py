"""AWS timestamps: the C fast path gives botocore's instants, in UTC, on every client made."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import Stubber
from botocore.utils import parse_timestamp as botocore_parse

from clausewatch.collectors.aws.session import AwsAccess, AwsSettings
from clausewatch.collectors.aws.timestamps import parse_timestamp
from clausewatch.core.redact import Redactor

SAMPLES = [
    1764482400, 1764482400.123, 0, "1764482400", "1764482400.5",
    "2026-11-30T06:00:00Z", "2026-11-30T06:00:00.000Z", "2026-11-30T06:00:00.123456Z",
    "2026-11-30T06:00:00.1Z", "2026-11-30T07:00:00+01:00", "2026-11-30T01:00:00.5-05:00",
    "2026-11-30T06:00:00.123456789Z", "Mon, 30 Nov 2026 06:00:00 GMT", "2026-11-30 06:00:00",
]


@pytest.mark.parametrize("value", SAMPLES)
def test_same_instant_as_botocore_always_in_utc(value: Any) -> None:
    got = parse_timestamp(value)
    want = botocore_parse(value)
    if want.tzinfo is None or want.utcoffset() is None:  # botocore's naive text: local time
        want = want.astimezone(UTC)
    assert got == want
    assert got.tzinfo is UTC


def test_text_botocore_cannot_read_is_refused_as_botocore_refuses_it() -> None:
    with pytest.raises(ValueError, match="Invalid timestamp"):
        parse_timestamp("not a time")


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Any:
        yield self._data


def _answering(client: Any, body: dict[str, Any]) -> Any:
    """``client`` answering every request with ``body`` (JSON), parsed by botocore."""

    def send(request: Any, **_: Any) -> AWSResponse:
        data = json.dumps(body).encode()
        return AWSResponse(request.url, 200, {"x-amzn-RequestId": "r"},
                           _Body(data))  # type: ignore[arg-type]

    client.meta.events.register("before-send", send)
    return client


def test_every_client_of_the_entry_parses_with_it(aws_client: Any) -> None:
    """Base-credential and assumed-role clients alike: botocore's default would give the
    machine's local zone (dateutil ``tzlocal``), ours gives UTC."""
    sts = aws_client("sts")
    creds = {"AccessKeyId": "ASIAEXAMPLEEXAMPLE03", "SecretAccessKey": "s3cr3t-key-material-3",
             "SessionToken": "session-token-material-3",
             "Expiration": datetime.now(UTC) + timedelta(hours=1)}

    def factory(session: Any, service: str, **kw: Any) -> Any:
        if service == "sts":
            return sts
        return session.client(service, region_name=kw["region"], config=kw["config"])

    base = boto3.Session(aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="x",
                         region_name="eu-west-3")
    settings = AwsSettings(name="t", home_region="eu-west-3", regions=("eu-west-3",),
                           role_name="ClauseWatchReadOnly")
    access = AwsAccess(settings, Redactor(), base_session=base, client_factory=factory)
    with Stubber(sts) as st:
        st.add_response("assume_role", {"Credentials": creds})
        role_ssm = access.client("111111111111", "ssm", "eu-west-3")
    base_ssm = access.base_client("ssm")
    page = {"InstanceInformationList": [{"InstanceId": "i-1", "LastPingDateTime": 1764482400}]}
    for client in (role_ssm, base_ssm):
        got = _answering(client, page).describe_instance_information()
        seen = got["InstanceInformationList"][0]["LastPingDateTime"]
        assert seen == datetime(2025, 11, 30, 6, 0, tzinfo=UTC) and seen.tzinfo is UTC
