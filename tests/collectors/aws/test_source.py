"""The ``aws`` section of the sources file: schema, rules, example, and what it builds."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from clausewatch import cli
from clausewatch.collectors.aws import source
from clausewatch.collectors.aws.backup import BackupCollector
from clausewatch.collectors.aws.iam import IamCollector
from clausewatch.collectors.aws.ssm import PatchCollector
from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.raw import RawRecorder
from clausewatch.core.configuration import ConfigurationError
from clausewatch.core.problems import InputError
from clausewatch.core.redact import Redactor
from clausewatch.pipeline.sources_file import load_sources

REPO = Path(__file__).resolve().parents[3]
EXAMPLE = REPO / "policies" / "examples" / "sources-aws.yaml"
AS_OF = datetime(2026, 11, 20, 6, 0, tzinfo=UTC)


def _problems(tmp_path: Path, body: str) -> list[str]:
    path = tmp_path / "sources.yaml"
    path.write_text("version: 1\nsources:\n  aws:\n" + body)
    with pytest.raises(InputError) as info:
        load_sources(path)
    return [str(p) for p in info.value.problems]


def test_example_sources_file_validates(capsys: pytest.CaptureFixture[str]) -> None:
    config = load_sources(EXAMPLE)
    assert [e["name"] for e in config.entries["aws"]] == ["morel-organization", "legacy-account"]
    assert cli.main(["validate", str(EXAMPLE)]) == 0
    assert "2 aws source(s)" in capsys.readouterr().out


def test_problems_are_located_and_secrets_have_no_field(tmp_path: Path) -> None:
    found = _problems(tmp_path, """\
    - name: a
      regions: [eu-west-3, "Paris"]
      accounts: ["1234"]
      secret_access_key: abc
      endpoints: {ssm: "ftp://x"}
""")
    text = "\n".join(found)
    assert all(p.startswith(str(tmp_path / "sources.yaml") + ":") for p in found)
    assert "sources.yaml:5:" in text and "Paris" in text  # line of the bad region
    assert "1234" in text and "secret_access_key" in text and "ftp://x" in text


def test_rules_the_schema_cannot_say(tmp_path: Path) -> None:
    found = _problems(tmp_path, """\
    - name: a
      regions: [eu-west-3]
      accounts: ["111111111111", "222222222222"]
      organization: {}
""")
    assert any("either accounts or organization" in p for p in found)
    assert any("needs a role" in p and ":4:" in p for p in found)


def _context(tmp_path: Path, env: dict[str, str] | None = None) -> tuple[BuildContext, Redactor]:
    redactor = Redactor()
    return BuildContext(as_of=AS_OF, raw=RawRecorder(tmp_path, redactor), env=env or {},
                        base_dir=tmp_path, secrets=redactor), redactor


@mock_aws
def test_build_discovers_active_accounts_and_makes_one_collector_per_job(tmp_path: Path) -> None:
    org = boto3.client("organizations", region_name="us-east-1")
    org.create_organization(FeatureSet="ALL")
    ids = [org.create_account(AccountName=n, Email=f"{n}@x.fr")["CreateAccountStatus"]
           ["AccountId"] for n in ("a", "b", "c")]
    org.close_account(AccountId=ids[2])  # SUSPENDED: not collected
    master = org.describe_organization()["Organization"]["MasterAccountId"]
    entry = {"name": "org", "regions": ["eu-west-3", "eu-west-1"],
             "organization": {"exclude": [master]},
             "role": {"name": "Audit", "external_id_env": "EXT_ID"}}
    ctx, redactor = _context(tmp_path, {"EXT_ID": "ext-5f1c-secret"})
    collectors = source.build(entry, ctx)
    assert "ext-5f1c-secret" in redactor.known  # the external id is masked wherever it shows
    by_type: dict[type, list[str]] = {}
    for c in collectors:
        by_type.setdefault(type(c), []).append(c.origin)
    assert sorted(by_type[IamCollector]) == sorted(f"aws/{a}" for a in ids[:2])
    regional = sorted(f"aws/{a}/{r}" for a in ids[:2] for r in ("eu-west-3", "eu-west-1"))
    assert sorted(by_type[PatchCollector]) == regional == sorted(by_type[BackupCollector])
    assert list((tmp_path / "raw/aws.organizations/aws").glob("ListAccounts-*.json"))


def test_missing_external_id_variable_is_a_configuration_problem(tmp_path: Path) -> None:
    entry = {"name": "org", "regions": ["eu-west-3"], "accounts": ["111111111111"],
             "role": {"name": "Audit", "external_id_env": "NOPE"}}
    with pytest.raises(ConfigurationError, match="aws source 'org': environment variable NOPE"):
        source.build(entry, _context(tmp_path)[0])


def test_unknown_profile_is_a_configuration_problem(tmp_path: Path) -> None:
    entry = {"name": "x", "regions": ["eu-west-3"], "profile": "does-not-exist"}
    with pytest.raises(ConfigurationError, match="profile 'does-not-exist' is not in the AWS"):
        source.build(entry, _context(tmp_path)[0])


def test_refused_discovery_is_a_collection_error_not_a_crash(tmp_path: Path,
                                                              aws_client: Any) -> None:
    from botocore.stub import Stubber

    client = aws_client("organizations", "eu-west-3")
    stub = Stubber(client)
    stub.add_client_error("list_accounts", "AWSOrganizationsNotInUseException",
                          "Your account is not a member of an organization.", 400)
    stub.activate()
    entry = {"name": "org", "regions": ["eu-west-3"], "organization": {},
             "role": {"name": "Audit"}, "collect": ["identity", "patch"]}
    (failed,) = source.build(entry, _context(tmp_path)[0],
                             client_factory=lambda *a, **k: client)
    (error,) = list(failed.collect())
    assert (error.source, error.origin, error.operation) == ("aws.organizations", "aws",
                                                             "ListAccounts")
    assert error.kinds == ("asset", "identity", "patch")
