"""AWS at start-up: configuration problems (exit 7) against evidence gaps, and the retry budget.

No network: moto, a botocore ``Stubber``, or a ``before-send`` handler that answers in place of
AWS (botocore's documented hook: a handler returning a response short-circuits the HTTP send,
so botocore's real retry machinery runs on it).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError
from botocore.stub import Stubber
from moto import mock_aws
from virtual_clock import VirtualClock

from clausewatch.collectors.aws import source
from clausewatch.collectors.aws.session import AwsAccess, AwsSettings
from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.retry_budget import RetryBudget
from clausewatch.core.configuration import ConfigurationError
from clausewatch.core.redact import Redactor

AS_OF = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)
ENTRY = {"name": "prod", "regions": ["eu-west-3"]}


def _context(tmp_path: Path) -> tuple[BuildContext, Redactor]:
    redactor = Redactor()
    return BuildContext(as_of=AS_OF, raw=RawRecorder(tmp_path, redactor), env={},
                        base_dir=tmp_path, secrets=redactor), redactor


def _problem(tmp_path: Path, entry: dict[str, Any], **options: Any) -> str:
    with pytest.raises(ConfigurationError) as info:
        source.build(entry, _context(tmp_path)[0], **options)
    (problem,) = info.value.problems
    assert problem.source == "aws source 'prod'"
    return str(problem)


def test_no_credentials_names_the_source_and_the_fix(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    text = _problem(tmp_path, ENTRY)
    assert text.startswith("aws source 'prod': no credentials found")
    assert "set AWS_PROFILE" in text


def test_expired_sso_session_says_aws_sso_login(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "config"
    config.write_text("[profile audit]\nsso_session = corp\nsso_account_id = 111111111111\n"
                      "sso_role_name = ReadOnly\nregion = eu-west-3\n\n[sso-session corp]\n"
                      "sso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("HOME", str(tmp_path))  # no ~/.aws/sso/cache: never logged in
    text = _problem(tmp_path, {**ENTRY, "profile": "audit"})
    assert "IAM Identity Center (SSO) session of profile 'audit'" in text
    assert text.endswith("run aws sso login --profile audit")


def test_credentials_aws_refuses_are_configuration(tmp_path: Path, aws_client: Any) -> None:
    sts = aws_client("sts")
    with Stubber(sts) as stub:
        stub.add_client_error("get_caller_identity", "InvalidClientTokenId",
                              "The security token included in the request is invalid.", 403)
        text = _problem(tmp_path, ENTRY, client_factory=lambda *a, **k: sts)
    assert "AWS refused the credentials of the default credential chain (InvalidClientTokenId" \
        in text


def test_unreachable_endpoint_at_start_is_configuration(tmp_path: Path) -> None:
    clock = VirtualClock()
    budget = RetryBudget(30, clock=clock, sleep=clock.sleep)
    entry = {**ENTRY, "endpoints": {"sts": "http://127.0.0.1:9"}}  # discard port: refused
    text = _problem(tmp_path, entry, budget=budget)
    assert "cannot reach AWS" in text and "127.0.0.1:9" in text
    assert sum(clock.slept) <= 30  # retried, within the budget, on the virtual clock


def test_access_denied_on_one_account_stays_an_evidence_gap(tmp_path: Path,
                                                            aws_client: Any) -> None:
    """The base credentials work; one account's role refuses: a collection error, exit 4."""
    sts = aws_client("sts")
    stub = Stubber(sts)
    stub.add_response("get_caller_identity", {"Account": "999999999999", "Arn":
                      "arn:aws:iam::999999999999:user/audit", "UserId": "AIDA"})
    stub.add_client_error("assume_role", "AccessDenied", "not authorized to sts:AssumeRole",
                          403)
    stub.activate()
    entry = {**ENTRY, "accounts": ["111111111111"], "role": {"name": "Audit"},
             "collect": ["identity"]}
    (collector,) = source.build(entry, _context(tmp_path)[0],
                                client_factory=lambda *a, **k: sts)
    (error,) = list(collector.collect())
    assert error.origin == "aws/111111111111" and "AccessDenied" in error.message


@mock_aws
def test_assumed_role_credentials_are_registered(tmp_path: Path) -> None:
    ctx, redactor = _context(tmp_path)
    access = AwsAccess(AwsSettings(name="prod", home_region="eu-west-3", regions=("eu-west-3",),
                                   role_name="Audit"), redactor)
    session = access.session_for("111111111111")
    creds = session.get_credentials().get_frozen_credentials()
    for value in (creds.access_key, creds.secret_key, creds.token):
        assert value in redactor.known
        assert redactor.text(f"echo {value}!") == "echo [REDACTED]!"


# -- the retry budget -------------------------------------------------------------------------
class _Body:
    def __init__(self, data: bytes) -> None:
        self.data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.data

    def read(self, *_: Any) -> bytes:
        return self.data


ERROR_500 = (b'<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
             b"<Type>Receiver</Type><Code>InternalFailure</Code><Message>boom</Message></Error>"
             b"<RequestId>r1</RequestId></ErrorResponse>")


class FailingAws:
    """Answers every request with HTTP 500; each attempt takes one virtual second."""

    def __init__(self, clock: VirtualClock) -> None:
        self.clock = clock
        self.attempts = 0

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.attempts += 1
        self.clock.advance(1.0)
        return AWSResponse(request.url, 500, {}, _Body(ERROR_500))


def _sts(max_attempts: int, budget_seconds: float) -> tuple[Any, FailingAws, VirtualClock]:
    clock = VirtualClock()
    settings = AwsSettings(name="prod", home_region="eu-west-3", regions=("eu-west-3",),
                           max_attempts=max_attempts)
    access = AwsAccess(settings, Redactor(), base_session=boto3.Session(),
                       budget=RetryBudget(budget_seconds, clock=clock, sleep=clock.sleep))
    sts = access.base_client("sts")
    server = FailingAws(clock)
    sts.meta.events.register("before-send.sts", server)
    return sts, server, clock


def test_attempts_bound_each_call() -> None:
    sts, server, clock = _sts(max_attempts=4, budget_seconds=3600)
    with pytest.raises(ClientError, match="InternalFailure"):
        sts.get_caller_identity()
    assert server.attempts == 4  # botocore's attempts bound, total attempts
    assert len(clock.slept) == 3  # three back-offs, slept on the virtual clock


def test_time_budget_bounds_the_whole_source() -> None:
    sts, server, clock = _sts(max_attempts=20, budget_seconds=5)
    with pytest.raises(ClientError, match="InternalFailure"):
        sts.get_caller_identity()
    first_call = server.attempts
    assert 2 <= first_call <= 6  # retried while the 5 s lasted (each retry costs 1 s + wait)
    for _ in range(5):
        with pytest.raises(ClientError, match="InternalFailure"):
            sts.get_caller_identity()
    # without the budget: 6 x 20 attempts; with it, the later calls barely retry at all
    assert server.attempts - first_call <= 5 + 1
    assert sum(clock.slept) <= 5
