"""IAM identities of one account: the credential report, root MFA, who is an administrator.

* Console users and their MFA come from the credential report (generated, polled with a
  short doubling back-off and a bound, parsed as CSV). An IAM user with an active MFA device
  cannot sign in to the console without it, so ``mfa_enforced`` = an active device, for
  console users.
* Service users (access keys, no console password) are ``account_type: service``; whether MFA
  is enforced for them depends on policy conditions this collector does not analyse (``None``).
* The root user's MFA comes from ``GetAccountSummary`` (``AccountMFAEnabled``); a root without
  password or keys (centralised root access) is reported disabled, not "root without MFA".
* Privileged = administrator-equivalent as AWS evaluates the user's policies (inline and
  managed, its own and its groups', within its permissions boundary): see
  ``collectors/aws/iam_admins.py`` for what counts and ``iam_policy.py`` for the evaluation.
  ``GetAccountAuthorizationDetails`` is read whole (every page, ``MaxItems`` 1000); if it cannot
  be, or a user is missing from it, ``privileged`` is None (unknown), never False.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import Any, ClassVar

from clausewatch.collectors.aws.errors import AWS_FAILURES, collection_error
from clausewatch.collectors.aws.iam_admins import Assessment, assess_users
from clausewatch.collectors.aws.pagination import PageReader
from clausewatch.collectors.raw import RawRecorder
from clausewatch.core.clock import parse_utc
from clausewatch.core.evidence import CollectionError, Evidence, Kind

SOURCE = "aws.iam"
#: Users, groups and both kinds of managed policy (the documents of those attached are needed).
DETAILS_FILTER = ("User", "Group", "LocalManagedPolicy", "AWSManagedPolicy")
DETAILS_PAGE_SIZE = 1000  # GetAccountAuthorizationDetails MaxItems: 1-1000, default 100
#: The credential report is polled after 0.2 s, then 0.4, 0.8... up to ``poll_seconds``: IAM
#: answers COMPLETE at once when a report less than four hours old exists, and otherwise
#: generates one in seconds (https://docs.aws.amazon.com/IAM/latest/UserGuide/
#: id_credentials_getting-report.html), so a fixed long sleep only delays small accounts.
FIRST_POLL_SECONDS = 0.2


class ReportTimeout(Exception):
    """The credential report was not ready within the bound."""


@dataclass(frozen=True, slots=True)
class IamCollector:
    """Identity evidence for one account (a global service: origin ``aws/<account>``)."""

    account_id: str
    client: Callable[[], Any]  # -> the IAM client of this account (assumed role)
    raw: RawRecorder
    observed_at: datetime
    _: KW_ONLY
    report_wait_seconds: float = 120.0
    poll_seconds: float = 2.0
    sleep: Callable[[float], None] = time.sleep
    partition: str = "aws"
    source: ClassVar[str] = SOURCE
    kinds: ClassVar[tuple[str, ...]] = (Kind.IDENTITY.value,)

    @property
    def origin(self) -> str:
        return f"aws/{self.account_id}"

    def _error(self, exc: BaseException, operation: str = "") -> CollectionError:
        return collection_error(
            exc, source=SOURCE, origin=self.origin, kinds=self.kinds, operation=operation
        )

    def collect(self) -> Iterator[Evidence | CollectionError]:
        try:
            reader = PageReader(self.client(), self.raw, SOURCE, self.origin)
        except AWS_FAILURES as exc:
            yield self._error(exc, "AssumeRole")
            return
        admins: Mapping[str, Assessment] | None = None
        try:
            admins = self._admins(reader)
        except AWS_FAILURES as exc:
            yield self._error(exc)
        try:
            rows, generated, ref = self._report(reader)
        except ReportTimeout as exc:
            yield CollectionError(
                source=SOURCE, origin=self.origin, kinds=self.kinds, operation=
                "GenerateCredentialReport", message=str(exc), retryable=True,
            )
            rows, generated, ref = [], self.observed_at, None
        except AWS_FAILURES as exc:
            yield self._error(exc)
            rows, generated, ref = [], self.observed_at, None
        for row in rows:
            if row.get("user") != "<root_account>":
                yield self._user(row, generated, ref, admins)
        try:
            summary, summary_ref = reader.call("get_account_summary")
        except AWS_FAILURES as exc:
            yield self._error(exc)
            return
        yield self._root(summary.get("SummaryMap", {}), summary_ref)

    def _report(
        self, reader: PageReader
    ) -> tuple[list[dict[str, str]], datetime, str]:
        deadline = time.monotonic() + self.report_wait_seconds
        wait = min(FIRST_POLL_SECONDS, self.poll_seconds)
        while True:
            state = reader.client.generate_credential_report().get("State")
            if state == "COMPLETE":
                break
            if time.monotonic() >= deadline:
                raise ReportTimeout(
                    f"credential report still {state} after {self.report_wait_seconds:g} s"
                )
            self.sleep(wait)
            wait = min(wait * 2, self.poll_seconds)
        report = reader.client.get_credential_report()
        content = report["Content"]
        text = content.decode("utf-8") if isinstance(content, bytes) else str(content)
        generated = report["GeneratedTime"]
        ref = self.raw.save(
            SOURCE,
            self.origin,
            "GetCredentialReport",
            {"GeneratedTime": generated, "ReportFormat": report.get("ReportFormat"),
             "Content": text},
        )
        return list(csv.DictReader(io.StringIO(text))), generated, ref

    def _admins(self, reader: PageReader) -> dict[str, Assessment]:
        """User ARN -> administrator or not, and why, from every page of the details."""
        users: list[dict[str, Any]] = []
        groups: list[dict[str, Any]] = []
        policies: list[dict[str, Any]] = []
        for page, _ in reader.pages(
            "get_account_authorization_details",
            Filter=list(DETAILS_FILTER),
            PaginationConfig={"PageSize": DETAILS_PAGE_SIZE},
        ):
            users += page.get("UserDetailList", [])
            groups += page.get("GroupDetailList", [])
            policies += page.get("Policies", [])
        return assess_users(
            users, groups, policies, account=self.account_id, partition=self.partition
        )

    def _user(
        self,
        row: Mapping[str, str],
        generated: datetime,
        ref: str | None,
        admins: Mapping[str, Assessment] | None,
    ) -> Evidence:
        console = row.get("password_enabled") == "true"
        keys = "true" in (row.get("access_key_1_active"), row.get("access_key_2_active"))
        mfa = row.get("mfa_active") == "true"
        facts: dict[str, Any] = {
            "account": row["user"],
            "display_name": row["user"],
            "enabled": console or keys,
            "account_type": "service" if keys and not console else "member",
            "mfa_registered": mfa,
            "mfa_enforced": mfa if console else None,
            "mfa_enforced_by": "IAM MFA device, required at console sign-in"
            if console and mfa
            else None,
            "created_at": _time(row.get("user_creation_time")),
            "console_access": console,
            "access_keys_active": keys,
        }
        if admins is None:
            found = Assessment(None, "GetAccountAuthorizationDetails could not be read")
        else:
            found = admins.get(row["arn"]) or Assessment(
                None, "not listed by GetAccountAuthorizationDetails (created since?)"
            )
        facts["privileged"] = found.privileged
        facts["privileged_reason"] = found.reason
        return self._evidence(row["arn"], facts, generated, ref)

    def _root(self, summary: Mapping[str, int], ref: str) -> Evidence:
        mfa = summary.get("AccountMFAEnabled") == 1
        credentials = summary.get("AccountPasswordPresent", 1) or summary.get(
            "AccountAccessKeysPresent", 0
        )
        facts = {
            "account": "root",
            "display_name": f"root user of {self.account_id}",
            "enabled": bool(credentials),
            "account_type": "root",
            "privileged": True,
            "privileged_reason": "root user",
            "mfa_registered": mfa,
            "mfa_enforced": mfa,
            "mfa_enforced_by": "root MFA device (GetAccountSummary AccountMFAEnabled)"
            if mfa
            else None,
        }
        subject = f"arn:{self.partition}:iam::{self.account_id}:root"
        return self._evidence(subject, facts, self.observed_at, ref)

    def _evidence(
        self, subject: str, facts: dict[str, Any], observed: datetime, ref: str | None
    ) -> Evidence:
        return Evidence(
            id=f"{SOURCE}:identity:{subject}",
            kind=Kind.IDENTITY,
            source=SOURCE,
            subject=subject,
            observed_at=observed,
            facts=facts,
            origin=self.origin,
            raw_ref=ref,
        )


def _time(text: str | None) -> datetime | None:
    if not text or text in ("N/A", "no_information", "not_supported"):
        return None
    try:
        return parse_utc(text)
    except ValueError:
        return None
