"""Reaching AWS accounts: the credential chain, Organizations discovery, AssumeRole per account.

Every client is made once per account, service and Region and shared by the collectors that read
there (botocore clients are thread-safe; boto3 sessions are not, so clients of one session are
made under that account's lock: https://boto3.amazonaws.com/v1/documentation/api/latest/guide/
clients.html#multithreading-or-multiprocessing-with-clients). One client per account x Region x
service is also AWS's throttling scope (EC2, SSM and AWS Backup throttle each account in each
Region per API), so the adaptive mode's client-side rate limiter, which lives on the client, is
shared by every worker that calls that API there: throttling slows them all, as botocore
intends. Each client is made by ``boto3_client`` (looked up at call time, so a test can wrap it
to attach a Stubber or record calls; the production path stays the same code) with botocore's
adaptive retry mode, bounded by ``max_attempts`` and by the entry's retry time budget
(``collectors/aws/retry.py``), and the entry's per-service endpoint override. Assumed-role
credentials (access key id, secret key, session token) are registered with the run's redactor.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import botocore.session
from botocore.config import Config

from clausewatch.collectors.aws import retry, timestamps
from clausewatch.collectors.aws.pagination import PageReader
from clausewatch.collectors.catalogue import SecretSink
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.retry_budget import DEFAULT_BUDGET_SECONDS, RetryBudget

USER_AGENT = "clausewatch"
#: Assume the role again when its credentials have less than this left (long runs).
RENEW_BEFORE = timedelta(minutes=5)


@dataclass(frozen=True, slots=True, kw_only=True)
class AwsSettings:
    """How one sources entry reaches its accounts (already validated)."""

    name: str
    home_region: str
    regions: tuple[str, ...]
    profile: str | None = None
    accounts: tuple[str, ...] = ()
    discover: bool = False
    exclude: frozenset[str] = frozenset()
    role_name: str | None = None
    role_path: str = "/"
    external_id: str | None = None  # the value, read from the environment variable named
    session_name: str = "clausewatch"
    duration_seconds: int = 3600
    max_attempts: int = 10
    budget_seconds: float = DEFAULT_BUDGET_SECONDS  # retrying, all calls of the entry together
    endpoints: Mapping[str, str] = field(default_factory=dict)

    def config(self) -> Config:
        return Config(
            # total attempts, the first call included (botocore's "max_attempts" counts retries)
            retries={"mode": "adaptive", "total_max_attempts": self.max_attempts},
            connect_timeout=10,
            read_timeout=60,
            user_agent_extra=USER_AGENT,
            # botocore's client-side check of every request's parameters against the model
            # (https://docs.aws.amazon.com/botocore/latest/reference/config.html: "You can
            # disable parameter validation for performance reasons"): the collectors send only
            # their own page sizes, filters and the ids AWS itself returned, and AWS checks
            # every request again (a bad one is a ValidationError, a collection error)
            parameter_validation=False,
        )


ClientFactory = Callable[..., Any]
#: botocore's wire trace: at DEBUG these log every request's headers (the session token, the
#: access key id), its canonical request and every response body (an AssumeRole answer's secret
#: key, before it can be registered). boto3 warns of it ("the full wire trace will appear in
#: your logs", ``boto3.set_stream_logger``); they are held at INFO whatever the root level.
WIRE_LOGGERS = ("botocore.auth", "botocore.endpoint", "botocore.parsers", "botocore.httpsession",
                "botocore.awsrequest", "botocore.retryhandler")


def quiet_wire_logs() -> None:
    """Keep botocore's wire trace (credentials and bodies) out of every log."""
    for name in WIRE_LOGGERS:
        logger = logging.getLogger(name)
        if logger.level < logging.INFO:
            logger.setLevel(logging.INFO)


def boto3_client(
    session: boto3.Session,
    service: str,
    *,
    region: str,
    endpoint_url: str | None,
    config: Config,
    account_id: str,
) -> Any:
    """The one place a boto3 client is made (``account_id`` is for test seams and logs)."""
    # service names are chosen at run time, so no typed overload of Session.client applies
    return session.client(  # type: ignore[call-overload]
        service, region_name=region, endpoint_url=endpoint_url, config=config
    )


class AwsAccess:
    """Sessions and clients for one entry: base credentials, then one role session per account,
    assumed lazily (from the collector's thread) and once."""

    def __init__(
        self,
        settings: AwsSettings,
        secrets: SecretSink,
        *,
        base_session: boto3.Session | None = None,
        client_factory: ClientFactory | None = None,
        budget: RetryBudget | None = None,
    ) -> None:
        self.settings = settings
        self.secrets = secrets
        self.budget = budget or RetryBudget(settings.budget_seconds)
        quiet_wire_logs()
        self._base = base_session or boto3.Session(profile_name=settings.profile)
        base = getattr(self._base, "_session", None)  # boto3.Session's botocore session
        if isinstance(base, botocore.session.Session):
            timestamps.install(base)
        self._factory = client_factory
        self._config = settings.config()
        self._lock = threading.Lock()
        self._base_lock = threading.Lock()  # the base session's clients
        self._client_locks: dict[str, threading.Lock] = {}
        self._clients: dict[tuple[str, str, str], tuple[boto3.Session, Any]] = {}
        self._sessions: dict[str, tuple[boto3.Session, datetime | None]] = {}
        self._failures: dict[str, BaseException] = {}
        self._caller: str | None = None

    @property
    def partition(self) -> str:
        return self._base.get_partition_for_region(self.settings.home_region)

    def _client(self, session: boto3.Session, account_id: str, service: str, region: str) -> Any:
        factory = self._factory or boto3_client
        client = factory(
            session,
            service,
            region=region,
            endpoint_url=self.settings.endpoints.get(service),
            config=self._config,
            account_id=account_id,
        )
        if not getattr(client, "_clausewatch_budget", False):  # a test may hand one out twice
            retry.install(client, self.budget, self.settings.max_attempts,
                          f"aws {self.settings.name}")
            client._clausewatch_budget = True
        return client

    def base_client(self, service: str, region: str | None = None) -> Any:
        """The client with the entry's own credentials (the management or audit account)."""
        key = ("", service, region or self.settings.home_region)
        with self._base_lock:
            if key not in self._clients:
                self._clients[key] = (self._base, self._client(self._base, "", service, key[2]))
            return self._clients[key][1]

    def caller_account(self) -> str:
        """The account the base credentials belong to (sts:GetCallerIdentity)."""
        if self._caller is None:
            self._caller = str(self.base_client("sts").get_caller_identity()["Account"])
        return self._caller

    def discover_accounts(self, raw: RawRecorder) -> list[str]:
        """ACTIVE accounts of the Organization (suspended and closing ones are skipped)."""
        reader = PageReader(self.base_client("organizations"), raw, "aws.organizations", "aws")
        found: list[str] = []
        for page, _ in reader.pages("list_accounts"):
            for account in page.get("Accounts", []):
                state = account.get("State") or account.get("Status")
                if state == "ACTIVE" and account["Id"] not in self.settings.exclude:
                    found.append(str(account["Id"]))
        return sorted(found)

    def accounts(self, raw: RawRecorder) -> Sequence[str]:
        """The explicit list, the discovered Organization, or the caller's own account."""
        if self.settings.discover:
            return self.discover_accounts(raw)
        if self.settings.accounts:
            return [a for a in self.settings.accounts if a not in self.settings.exclude]
        return [self.caller_account()]

    def role_arn(self, account_id: str) -> str:
        s = self.settings
        return f"arn:{self.partition}:iam::{account_id}:role{s.role_path}{s.role_name}"

    def session_for(self, account_id: str) -> boto3.Session:
        """The session that reads ``account_id``; raises the AWS error if the role is refused
        (and the same error again for every later caller, without asking twice)."""
        if self.settings.role_name is None:
            return self._base
        with self._lock:
            if account_id in self._failures:
                raise self._failures[account_id]
            cached = self._sessions.get(account_id)
            if cached and (cached[1] is None or cached[1] - RENEW_BEFORE > datetime.now(UTC)):
                return cached[0]
            try:
                self._sessions[account_id] = self._assume(account_id)
            except Exception as exc:
                self._failures[account_id] = exc
                raise
            return self._sessions[account_id][0]

    def _assume(self, account_id: str) -> tuple[boto3.Session, datetime | None]:
        params: dict[str, Any] = {
            "RoleArn": self.role_arn(account_id),
            "RoleSessionName": self.settings.session_name,
            "DurationSeconds": self.settings.duration_seconds,
        }
        if self.settings.external_id:
            params["ExternalId"] = self.settings.external_id
        creds = self.base_client("sts").assume_role(**params)["Credentials"]
        self.secrets.add(creds["AccessKeyId"])
        self.secrets.add(creds["SecretAccessKey"])
        self.secrets.add(creds["SessionToken"])
        session = boto3.Session(
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
            botocore_session=self._role_botocore_session(),
        )
        return session, creds.get("Expiration")

    def _role_botocore_session(self) -> botocore.session.Session:
        """A new botocore session (its own credentials) sharing the base session's data loader
        and response parser factory: the service models (EC2's is megabytes of JSON) are read
        and parsed once per run, not once per account, and every answer's timestamps are read
        by ``timestamps.parse_timestamp``. Both are botocore session components
        (``Session.register_component``); the loader's cache only ever holds the shipped
        models, the factory holds no state but its parser defaults."""
        session = botocore.session.Session()
        base = getattr(self._base, "_session", None)  # boto3.Session's botocore session
        if isinstance(base, botocore.session.Session):
            for name in ("data_loader", "response_parser_factory"):
                session.register_component(name, base.get_component(name))
        else:
            timestamps.install(session)
        return session

    def client(self, account_id: str, service: str, region: str | None = None) -> Any:
        """The client reading ``account_id`` in ``region`` (the home region for global
        services): made once, again only when the role session was renewed."""
        session = self.session_for(account_id)
        key = (account_id, service, region or self.settings.home_region)
        if session is self._base:
            lock = self._base_lock
        else:
            with self._lock:
                lock = self._client_locks.setdefault(account_id, threading.Lock())
        with lock:  # one thread at a time uses a session
            cached = self._clients.get(key)
            if cached is not None and cached[0] is session:
                return cached[1]
            client = self._client(session, account_id, service, key[2])
            self._clients[key] = (session, client)
            return client
