"""Shared set-up of the AWS collector tests: fake credentials, no network, least privilege.

Every AWS client the collectors make goes through ``session.boto3_client``; the autouse
``api_calls`` fixture wraps it to record each operation with botocore's ``before-parameter-build``
event (it fires for stubbed and moto-served calls alike), and fails the test if one is not
allowed by ``docs/aws-readonly-policy.json``.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from clausewatch.collectors.aws import session as aws_session

POLICY = Path(__file__).resolve().parents[3] / "docs" / "aws-readonly-policy.json"


def allowed_actions() -> list[str]:
    doc = json.loads(POLICY.read_text(encoding="utf-8"))
    out: list[str] = []
    for st in doc["Statement"]:
        assert st["Effect"] == "Allow" and st["Resource"] == "*"
        out += st["Action"]
    return out


def is_allowed(action: str, allowed: list[str]) -> bool:
    return any(fnmatch.fnmatchcase(action.lower(), a.lower()) for a in allowed)


class CallLog:
    """IAM action names (``ssm:DescribeInstancePatches``) of every call a collector made."""

    def __init__(self) -> None:
        self.actions: list[str] = []

    def hook(self, client: Any) -> None:
        prefix = client.meta.service_model.signing_name

        def record(model: Any, **_: Any) -> None:
            self.actions.append(f"{prefix}:{model.name}")

        client.meta.events.register("before-parameter-build.*.*", record)


@pytest.fixture(autouse=True)
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Fake credentials; no config file, no instance metadata: nothing can leave the host."""
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_ROLE_ARN",
                "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-3")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture(autouse=True)
def api_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[CallLog]:
    log = CallLog()
    real = aws_session.boto3_client

    def recording(*args: Any, **kwargs: Any) -> Any:
        client = real(*args, **kwargs)
        log.hook(client)
        return client

    monkeypatch.setattr(aws_session, "boto3_client", recording)
    yield log
    allowed = allowed_actions()
    outside = sorted({a for a in log.actions if not is_allowed(a, allowed)})
    assert not outside, f"AWS operations outside {POLICY.name}: {outside}"


def make_client(service: str, region: str = "eu-west-3", **kwargs: Any) -> Any:
    """A collector-side client, made the production way (and so recorded)."""
    settings = aws_session.AwsSettings(name="t", home_region=region, regions=(region,),
                                       max_attempts=kwargs.pop("max_attempts", 3))
    return aws_session.boto3_client(
        boto3.Session(), service, region=region, endpoint_url=kwargs.pop("endpoint_url", None),
        config=settings.config(), account_id=kwargs.pop("account_id", "123456789012"),
    )


@pytest.fixture
def aws_client() -> Any:
    """``aws_client(service, region=..., endpoint_url=...)``: see ``make_client``."""
    return make_client


@pytest.fixture
def raw(tmp_path: Path) -> Any:
    """A raw-page recorder writing under ``tmp_path``."""
    from clausewatch.collectors.raw import RawRecorder
    from clausewatch.core.redact import Redactor

    return RawRecorder(tmp_path, Redactor())


@pytest.fixture
def outside_policy() -> Any:
    """``outside_policy(actions)``: the actions the shipped policy does not allow."""
    return lambda actions: sorted({a for a in actions if not is_allowed(a, allowed_actions())})
