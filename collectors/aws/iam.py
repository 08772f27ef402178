"""IAM identities of one account: the credential report, root MFA, who is an administrator.

* Console users and their MFA come from the credential report (generated, polled with a bound,
  parsed as CSV). An IAM user with an active MFA device cannot sign in to the console without
  it, so ``mfa_enforced`` = an active device, for console users.
* Service users (access keys, no console password) are ``account_type: service``; whether MFA
  is enforced for them depends on policy conditions this collector does not analyse (``None``).
* The root user's MFA comes from ``GetAccountSummary`` (``AccountMFAEnabled``); a root without
  password or keys (centralised root access) is reported disabled, not "root without MFA".
* Privileged = AdministratorAccess (or IAMFullAccess, which can grant itself anything), or a
  customer-managed/inline policy allowing ``*`` or ``iam:*`` on every resource, attached to the
  user directly or through a group (``GetAccountAuthorizationDetails``).
"""

from __future__ import annotations

import csv
import io
import json
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import KW_ONLY, dataclass
from datetime import datetime
from typing import Any, ClassVar

from clausewatch.collectors.aws.errors import AWS_FAILURES, collection_error
from clausewatch.collectors.aws.pagination import PageReader
from clausewatch.collectors.raw import RawRecorder
from clausewatch.core.clock import parse_utc
from clausewatch.core.evidence import CollectionError, Evidence, Kind

SOURCE = "aws.iam"
ADMIN_MANAGED = {
    "AdministratorAccess": "AdministratorAccess",
    "IAMFullAccess": "IAMFullAccess (can grant itself any permission)",
}
ADMIN_ACTIONS = frozenset({"*", "*:*", "iam:*"})


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
        admins: Mapping[str, str] | None = None
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
        while True:
            state = reader.client.generate_credential_report().get("State")
            if state == "COMPLETE":
                break
            if time.monotonic() >= deadline:
                raise ReportTimeout(
                    f"credential report still {state} after {self.report_wait_seconds:g} s"
                )
            self.sleep(self.poll_seconds)
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

    def _admins(self, reader: PageReader) -> dict[str, str]:
        """User ARN -> why the user is an administrator."""
        users: list[dict[str, Any]] = []
        groups: dict[str, dict[str, Any]] = {}
        policies: dict[str, dict[str, Any]] = {}
        for page, _ in reader.pages(
            "get_account_authorization_details", Filter=["User", "Group", "LocalManagedPolicy"]
        ):
            users += page.get("UserDetailList", [])
            groups.update({g["GroupName"]: g for g in page.get("GroupDetailList", [])})
            policies.update({p["Arn"]: p for p in page.get("Policies", [])})
        out: dict[str, str] = {}
        for user in users:
            why = _admin_reason(user, "UserPolicyList", policies)
            for name in user.get("GroupList", []):
                if why is None and name in groups:
                    found = _admin_reason(groups[name], "GroupPolicyList", policies)
                    why = f"{found} via group {name}" if found else None
            if why:
                out[user["Arn"]] = why
        return out

    def _user(
        self,
        row: Mapping[str, str],
        generated: datetime,
        ref: str | None,
        admins: Mapping[str, str] | None,
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
        if admins is not None:
            facts["privileged"] = row["arn"] in admins
            facts["privileged_reason"] = admins.get(row["arn"])
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


def _admin_reason(
    principal: Mapping[str, Any], inline_key: str, policies: Mapping[str, Mapping[str, Any]]
) -> str | None:
    """Why a user or group is an administrator, from its attached and inline policies."""
    for attached in principal.get("AttachedManagedPolicies", []):
        arn = attached["PolicyArn"]
        name = attached.get("PolicyName") or arn.rsplit("/", 1)[-1]
        if ":iam::aws:policy/" in arn and name in ADMIN_MANAGED:
            return ADMIN_MANAGED[name]
        local = policies.get(arn)
        if local and any(
            v.get("IsDefaultVersion") and allows_admin(v.get("Document"))
            for v in local.get("PolicyVersionList", [])
        ):
            return f"managed policy {name} allows full access"
    for inline in principal.get(inline_key, []):
        if allows_admin(inline.get("PolicyDocument")):
            return f"inline policy {inline.get('PolicyName')} allows full access"
    return None


def allows_admin(document: Any) -> bool:
    """True if a policy document allows ``*`` (or ``iam:*``) on every resource."""
    if isinstance(document, str):
        document = json.loads(urllib.parse.unquote(document))
    if not isinstance(document, Mapping):
        return False
    statements = document.get("Statement", [])
    for st in statements if isinstance(statements, list) else [statements]:
        if st.get("Effect") != "Allow":
            continue
        if ADMIN_ACTIONS.intersection(_as_list(st.get("Action"))) and "*" in _as_list(
            st.get("Resource")
        ):
            return True
    return False


def _as_list(value: Any) -> Iterable[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
