"""One client per account x service x Region, shared by the collectors that read there."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.stub import Stubber

from clausewatch.collectors.aws.session import AwsAccess, AwsSettings
from clausewatch.core.redact import Redactor

CREDS = {"AccessKeyId": "ASIAEXAMPLEEXAMPLE02", "SecretAccessKey": "s3cr3t-key-material-2",
         "SessionToken": "session-token-material-2",
         "Expiration": datetime.now(UTC) + timedelta(hours=1)}


def test_clients_are_made_once_per_account_service_and_region(aws_client: Any) -> None:
    sts = aws_client("sts")
    made: list[tuple[str, str, str]] = []

    def factory(session: Any, service: str, **kw: Any) -> Any:
        if service == "sts":
            return sts
        made.append((kw["account_id"], service, kw["region"]))
        return session.client(service, region_name=kw["region"], config=kw["config"])

    settings = AwsSettings(name="t", home_region="eu-west-3", regions=("eu-west-3", "eu-west-1"),
                           role_name="ClauseWatchReadOnly")
    access = AwsAccess(settings, Redactor(), client_factory=factory)
    got: list[Any] = []
    with Stubber(sts) as st:
        st.add_response("assume_role", {"Credentials": CREDS})
        workers = [threading.Thread(target=lambda: got.append(
            access.client("111111111111", "ec2", "eu-west-1"))) for _ in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        other = access.client("111111111111", "ec2", "eu-west-3")
        st.assert_no_pending_responses()  # one AssumeRole for the account
    assert len({id(c) for c in got}) == 1  # every worker shares one client (and its limiter)
    assert other is not got[0] and other.meta.region_name == "eu-west-3"
    assert made == [("111111111111", "ec2", "eu-west-1"), ("111111111111", "ec2", "eu-west-3")]
    assert access.base_client("sts") is access.base_client("sts")
