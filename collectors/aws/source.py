"""The ``aws`` section of the sources file: its schema and how an entry becomes collectors.

    sources:
      aws:
        - name: morel-org
          profile: clausewatch-audit        # optional; else the standard credential chain
          region: eu-west-3                 # home region for STS, IAM, Organizations
          regions: [eu-west-3, eu-west-1]   # where EC2, SSM and AWS Backup are read
          organization: {exclude: ["444444444444"]}   # or: accounts: ["111111111111", ...]
          role:
            name: ClauseWatchReadOnly
            external_id_env: CLAUSEWATCH_AWS_EXTERNAL_ID
          collect: [identity, patch, backup]
          backup: {resource_types: [RDS, Aurora, EBS, EFS, DynamoDB], require_validation: true}
          retry: {max_attempts: 10, budget_seconds: 300}   # per call / whole entry
          endpoints: {ec2: "https://vpce-0123.ec2.eu-west-3.vpce.amazonaws.com"}

No secret is ever written here: credentials come from the profile or the credential chain, the
external id from the environment variable named. ``build`` first reaches AWS with the base
credentials (``GetCallerIdentity``, or ``ListAccounts`` for discovery): a missing or refused
credential, an unknown profile, an expired SSO session, an unset external-id variable or an
unreachable endpoint is a ``ConfigurationError`` (exit 7, ``collectors/aws/setup.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import partial
from typing import Any

from clausewatch.collectors.aws.backup import BackupCollector
from clausewatch.collectors.aws.errors import AWS_FAILURES, collection_error
from clausewatch.collectors.aws.iam import IamCollector
from clausewatch.collectors.aws.inventory import READERS
from clausewatch.collectors.aws.session import AwsAccess, AwsSettings
from clausewatch.collectors.aws.setup import configuration_problem
from clausewatch.collectors.aws.ssm import PatchCollector, ReleaseDates
from clausewatch.collectors.base import Collector, FailedCollector
from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.retry_budget import DEFAULT_BUDGET_SECONDS, RETRY_SCHEMA
from clausewatch.core.configuration import ConfigurationError, SetupProblem, source_label
from clausewatch.core.evidence import Kind

SERVICES = ["sts", "iam", "organizations", "ec2", "ssm", "backup", "rds", "efs", "dynamodb"]
JOBS = {
    "identity": (Kind.IDENTITY.value,),
    "patch": (Kind.ASSET.value, Kind.PATCH.value),
    "backup": (Kind.ASSET.value, Kind.BACKUP.value, Kind.RESTORE_TEST.value),
}
ACCOUNT_ID = {"type": "string", "pattern": "^[0-9]{12}$"}
REGION = {"type": "string", "pattern": "^[a-z]{2}(-[a-z]+)+-[0-9]+$"}
ENV_NAME = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$"}

ENTRY_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "regions"],
    "properties": {
        "name": {"type": "string", "minLength": 1, "description": "label of this estate"},
        "profile": {"type": "string", "minLength": 1, "description": "AWS named profile"},
        "region": {**REGION, "description": "home region (STS, Organizations); default: "
                   "the first of regions"},
        "regions": {"type": "array", "items": REGION, "minItems": 1, "uniqueItems": True},
        "accounts": {"type": "array", "items": ACCOUNT_ID, "minItems": 1, "uniqueItems": True},
        "organization": {
            "type": "object",
            "additionalProperties": False,
            "description": "discover the Organization's ACTIVE accounts (management or "
            "delegated administrator credentials)",
            "properties": {"exclude": {"type": "array", "items": ACCOUNT_ID}},
        },
        "role": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name"],
            "properties": {
                "name": {"type": "string", "pattern": "^[\\w+=,.@-]{1,64}$"},
                "path": {"type": "string", "pattern": "^/([\\w+=,.@-]+/)*$", "default": "/"},
                "external_id_env": {**ENV_NAME, "description": "environment variable holding "
                                    "the external id"},
                "session_name": {"type": "string", "pattern": "^[\\w+=,.@-]{2,64}$"},
                "duration_seconds": {"type": "integer", "minimum": 900, "maximum": 43200},
            },
        },
        "collect": {
            "type": "array",
            "items": {"enum": list(JOBS)},
            "minItems": 1,
            "uniqueItems": True,
            "default": list(JOBS),
        },
        "backup": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "resource_types": {"type": "array", "items": {"enum": list(READERS)},
                                   "uniqueItems": True},
                "restore_lookback_days": {"type": "number", "exclusiveMinimum": 0},
                "require_validation": {"type": "boolean"},
            },
        },
        "max_attempts": {"type": "integer", "minimum": 1, "maximum": 20,
                         "description": "botocore adaptive retry attempts per call (same as "
                                        "retry.max_attempts)"},
        "retry": RETRY_SCHEMA,
        "credential_report_wait_seconds": {"type": "number", "minimum": 0, "maximum": 900},
        "endpoints": {
            "type": "object",
            "additionalProperties": False,
            "description": "per-service endpoint URL (VPC endpoints, FIPS, LocalStack, moto)",
            "properties": {s: {"type": "string", "pattern": "^https?://"} for s in SERVICES},
        },
    },
}


def entry_problems(entry: Mapping[str, Any]) -> Iterable[tuple[list[Any], str]]:
    """Rules the schema cannot say."""
    if "accounts" in entry and "organization" in entry:
        yield ["organization"], "give either accounts or organization, not both"
    many = "organization" in entry or len(entry.get("accounts", [])) > 1
    if many and "role" not in entry:
        yield [], "reaching several accounts needs a role to assume in each (role.name)"
    if "max_attempts" in entry and "max_attempts" in entry.get("retry", {}):
        yield ["max_attempts"], "give max_attempts once (retry.max_attempts)"


def settings_from(entry: Mapping[str, Any], env: Mapping[str, str]) -> AwsSettings:
    role = entry.get("role", {})
    external_id = None
    if "external_id_env" in role:
        var = role["external_id_env"]
        external_id = env.get(var)
        if not external_id:
            raise ConfigurationError([SetupProblem(
                source_label("aws", entry["name"]),
                f"environment variable {var} (role.external_id_env) is not set",
                f"export {var} with the external id the role's trust policy requires")])
    org = entry.get("organization")
    return AwsSettings(
        name=entry["name"],
        home_region=entry.get("region") or entry["regions"][0],
        regions=tuple(entry["regions"]),
        profile=entry.get("profile"),
        accounts=tuple(entry.get("accounts", ())),
        discover=org is not None,
        exclude=frozenset((org or {}).get("exclude", ())),
        role_name=role.get("name"),
        role_path=role.get("path", "/"),
        external_id=external_id,
        session_name=role.get("session_name", "clausewatch"),
        duration_seconds=role.get("duration_seconds", 3600),
        max_attempts=entry.get("retry", {}).get("max_attempts", entry.get("max_attempts", 10)),
        budget_seconds=entry.get("retry", {}).get("budget_seconds", DEFAULT_BUDGET_SECONDS),
        endpoints=dict(entry.get("endpoints", {})),
    )


def build(
    entry: Mapping[str, Any], context: BuildContext, **access_options: Any
) -> list[Collector]:
    """One IAM collector per account, one patch and one backup collector per account x region.

    The run's pool (``collectors/runner.py``) reads them concurrently, each making one request
    at a time; they are listed longest first (patches: one request per node with updates, then
    backups, then identities), so the last to start are short and no worker idles while one
    long region finishes alone.

    ``access_options`` go to ``AwsAccess`` (``base_session``, ``client_factory``).
    """
    settings = settings_from(entry, context.env)
    if settings.external_id:
        context.secrets.add(settings.external_id)
    try:
        access = AwsAccess(settings, context.secrets, **access_options)
    except AWS_FAILURES as exc:  # e.g. the profile does not exist
        _raise_if_configuration(exc, settings)
        raise
    jobs = entry.get("collect", list(JOBS))
    try:
        if not settings.discover:  # preflight: the base credentials reach AWS
            access.caller_account()
        accounts = access.accounts(context.raw)
    except AWS_FAILURES as exc:
        _raise_if_configuration(exc, settings)
        operation = "ListAccounts" if settings.discover else "GetCallerIdentity"
        kinds = sorted({k for job in jobs for k in JOBS[job]})
        source = "aws.organizations" if settings.discover else "aws.sts"
        return [FailedCollector(collection_error(
            exc, source=source, origin="aws", kinds=kinds, operation=operation))]
    opts = entry.get("backup", {})
    releases = ReleaseDates()
    partition = access.partition
    patch: list[Collector] = []
    backup: list[Collector] = []
    identity: list[Collector] = []
    for account in accounts:
        if "identity" in jobs:
            identity.append(IamCollector(
                account, partial(access.client, account, "iam"), context.raw, context.as_of,
                report_wait_seconds=entry.get("credential_report_wait_seconds", 120),
                partition=partition,
            ))
        for region in settings.regions:
            client = partial(_regional, access, account, region)
            if "patch" in jobs or "backup" in jobs:  # EC2 instances are always inventoried
                patch.append(PatchCollector(
                    account, region, client, context.raw, context.as_of, releases,
                    partition=partition, with_patches="patch" in jobs,
                ))
            if "backup" in jobs:
                backup.append(BackupCollector(
                    account, region, client, context.raw, context.as_of,
                    resource_types=opts.get("resource_types", tuple(READERS)),
                    restore_lookback_days=opts.get("restore_lookback_days", 400),
                    require_validation=opts.get("require_validation", True),
                    partition=partition,
                ))
    return [*patch, *backup, *identity]


def _raise_if_configuration(exc: BaseException, settings: AwsSettings) -> None:
    problem = configuration_problem(exc, settings.name, settings.profile)
    if problem is not None:
        raise ConfigurationError([problem]) from exc


def _regional(access: AwsAccess, account: str, region: str, service: str) -> Any:
    return access.client(account, service, region)
