"""``patch_lag``: security updates installed within the deadline for their severity, per asset.

Every judged asset's result lists in ``measured["outstanding"]`` each outstanding update that
has a deadline: its vendor ``severity``, the ``deadline_severity`` its deadline comes from (after
``unrated_as``), its ``state`` and its ``due`` instant as this check computed it. The report's
patch-age chart draws from that list and never recomputes a deadline.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

from clausewatch.checks.deadlines import add_days, age_days, deadline_status, fmt_day, whole
from clausewatch.checks.evidence_view import EvidenceView
from clausewatch.checks.registry import CHECKS
from clausewatch.core.contract import Commitment
from clausewatch.core.evidence import Evidence, Kind
from clausewatch.core.result import Result, Status, message

PARAMS_SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["deadlines_days"],
    "properties": {
        "deadlines_days": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"minLength": 1, "maxLength": 64},
            "additionalProperties": {"type": "number", "minimum": 0, "maximum": 3650},
            "description": "Severity -> days allowed to install. Other severities are ignored.",
        },
        "clock": {
            "enum": ["release", "detection"],
            "default": "release",
            "description": "Start the clock at vendor release or at first detection.",
        },
        "window_days": {
            "type": "number",
            "minimum": 0,
            "maximum": 3650,
            "default": 30,
            "description": "Installs that came late within this many days (0 to 3650) still count "
            "as breaches.",
        },
        "freshness_days": {
            "type": "number",
            "exclusiveMinimum": 0,
            "maximum": 3650,
            "default": 7,
            "description": "Patch data older than this many days (more than 0, at most 3650) is "
            "stale: no_evidence.",
        },
        "unrated_as": {
            "type": "string",
            "minLength": 1,
            "maxLength": 64,
            "description": "Severity given to outstanding updates the vendor did not rate "
            "('ignore' to leave them out). Default: the asset is no_evidence, since an unrated "
            "update may be critical.",
        },
    },
}

#: Severities that say nothing: an outstanding update carrying one cannot be given a deadline.
UNRATED = frozenset({"", "unspecified", "unrated", "unknown", "none"})

OUTSTANDING = frozenset({"missing", "failed"})


@CHECKS.register(
    "patch_lag",
    evidence=[Kind.ASSET, Kind.PATCH],
    params_schema=PARAMS_SCHEMA,
    summary="Per asset, security updates not installed within the deadline for their severity.",
)
def patch_lag(commitment: Commitment, view: EvidenceView, as_of: datetime) -> Iterator[Result]:
    rules = _Rules(commitment, as_of)
    for asset in view.assets(commitment.scope):
        yield rules.judge(asset, view.about(Kind.PATCH, asset.subject))


class _Rules:
    def __init__(self, commitment: Commitment, as_of: datetime) -> None:
        params = commitment.params
        self.commitment = commitment
        self.as_of = as_of
        self.tz = commitment.timezone
        self.deadlines: dict[str, float] = {
            k.lower(): float(v) for k, v in params["deadlines_days"].items()
        }
        self.clock: str = params.get("clock", "release")
        self.window_start = add_days(as_of, -float(params.get("window_days", 30)), self.tz)
        self.freshness = float(params.get("freshness_days", 7))
        unrated_as = params.get("unrated_as")
        self.unrated_as: str | None = None if unrated_as is None else unrated_as.lower()
        self.expected = {"deadlines_days": self.deadlines, "clock": self.clock}

    def judge(self, asset: Evidence, patches: Sequence[Evidence]) -> Result:
        label = str(asset.facts.get("name") or asset.subject)
        assessed = _assessed_at(asset, patches)
        base: dict[str, Any] = {
            "commitment_id": self.commitment.id,
            "subject": asset.subject,
            "label": label,
            "expected": self.expected,
        }
        if assessed is None:
            return Result(
                **base,
                status=Status.NO_EVIDENCE,
                reason=f"{label}: in inventory but no patch data from any source"
                f"{_note(asset)}.",
                reason_id="patch_lag.no_data",
                reason_params={"label": label, "note": _note(asset)},
                evidence_ids=(asset.id,),
            )
        age = age_days(assessed, self.as_of)
        if age > self.freshness:
            return Result(
                **base,
                status=Status.NO_EVIDENCE,
                reason=f"{label}: patch data is {age:.1f} days old "
                f"(freshness limit {self.freshness:g}).",
                reason_id="patch_lag.stale",
                reason_params={"label": label, "age": round(age, 1),
                               "limit": whole(self.freshness)},
                measured={"patch_data_age_days": round(age, 2)},
                evidence_ids=(asset.id,),
            )
        overdue: list[dict[str, Any]] = []
        soon: list[dict[str, Any]] = []
        outstanding: list[dict[str, Any]] = []
        undated: list[str] = []
        ids = [asset.id]
        unrated: list[str] = []
        for p in patches:
            f = p.facts
            state = f.get("state")
            if state == "not_applicable":
                continue
            severity = str(f.get("severity") or "").lower()
            if severity in UNRATED:
                if self.unrated_as is None:
                    if state in OUTSTANDING:
                        unrated.append(str(f.get("update_id")))
                        ids.append(p.id)
                    continue
                severity = self.unrated_as
            days = self.deadlines.get(severity)
            if days is None:
                continue
            start = self._start(f)
            if start is None:
                undated.append(str(f.get("update_id")))
                ids.append(p.id)
                continue
            due = add_days(start, days, self.tz)
            if state == "installed":
                installed = f.get("installed_at")
                if installed is None or installed < self.window_start or installed <= due:
                    continue
                ids.append(p.id)
                overdue.append(self._finding(p, due, installed, "installed late"))
                continue
            if state not in OUTSTANDING:
                continue
            ids.append(p.id)
            outstanding.append(self._outstanding(p, severity, due, str(state)))
            status = deadline_status(due, self.as_of, self.commitment.warning_days, self.tz)
            if status is Status.BREACHED:
                overdue.append(self._finding(p, due, self.as_of, state))
            elif status is Status.AT_RISK:
                soon.append(self._finding(p, due, None, state))
        return self._verdict(base, overdue, soon, undated, unrated, outstanding, tuple(ids))

    def _start(self, facts: Mapping[str, Any]) -> datetime | None:
        if self.clock == "release":
            return facts.get("released_at") or facts.get("first_seen_at")
        return facts.get("first_seen_at") or facts.get("released_at")

    def _finding(
        self, patch: Evidence, due: datetime, until: datetime | None, state: str
    ) -> dict[str, Any]:
        f = patch.facts
        finding = {
            "update_id": f.get("update_id"),
            "severity": f.get("severity"),
            "state": state,
            "due": due,
            "evidence_id": patch.id,
        }
        if until is not None:
            finding["days_late"] = round(age_days(due, until), 1)
        return finding

    @staticmethod
    def _outstanding(
        patch: Evidence, deadline_severity: str, due: datetime, state: str
    ) -> dict[str, Any]:
        f = patch.facts
        return {
            "update_id": f.get("update_id"),
            "severity": f.get("severity"),
            "deadline_severity": deadline_severity,
            "state": state,
            "due": due,
            "evidence_id": patch.id,
        }

    def _verdict(
        self,
        base: dict[str, Any],
        overdue: list[dict[str, Any]],
        soon: list[dict[str, Any]],
        undated: list[str],
        unrated: list[str],
        outstanding: list[dict[str, Any]],
        ids: tuple[str, ...],
    ) -> Result:
        label = base["label"]
        if overdue:
            overdue.sort(key=lambda x: -x["days_late"])
            worst = overdue[0]
            late_installs = sum(1 for x in overdue if x["state"] == "installed late")
            detail = f", {late_installs} installed late" if late_installs else ""
            return Result(
                **base,
                status=Status.BREACHED,
                reason=f"{label}: {len(overdue)} security update(s) past deadline{detail}; worst "
                f"{worst['update_id']} ({worst['severity']}) {worst['days_late']:g} days late.",
                reason_id="patch_lag.overdue",
                reason_params={
                    "label": label, "n": len(overdue), "update": worst["update_id"],
                    "severity": message(f"severity.{str(worst['severity']).lower()}",
                                        str(worst["severity"])),
                    "days_late": whole(worst["days_late"]),
                    "late": message("patch_lag.installed_late", detail, n=late_installs)
                    if late_installs else "",
                },
                measured={
                    "overdue": len(overdue),
                    "due_soon": len(soon),
                    "findings": overdue,
                    "outstanding": outstanding,
                },
                evidence_ids=ids,
                due=min(x["due"] for x in overdue),
            )
        if undated:
            return Result(
                **base,
                status=Status.NO_EVIDENCE,
                reason=f"{label}: {len(undated)} update(s) carry neither release nor detection "
                f"date ({', '.join(undated[:3])}), so their deadline is unknown.",
                reason_id="patch_lag.undated",
                reason_params={"label": label, "n": len(undated), "ids": list(undated[:3])},
                measured={"undated": undated, "outstanding": outstanding},
                evidence_ids=ids,
            )
        if unrated:
            return Result(
                **base,
                status=Status.NO_EVIDENCE,
                reason=f"{label}: {len(unrated)} outstanding update(s) without a severity "
                f"({', '.join(unrated[:3])}), so their deadline is unknown.",
                reason_id="patch_lag.unrated",
                reason_params={"label": label, "n": len(unrated), "ids": list(unrated[:3])},
                measured={"unrated": unrated, "outstanding": outstanding},
                evidence_ids=ids,
            )
        if soon:
            due = min(x["due"] for x in soon)
            return Result(
                **base,
                status=Status.AT_RISK,
                reason=f"{label}: {len(soon)} security update(s) fall due by "
                f"{fmt_day(due, self.tz)}.",
                reason_id="patch_lag.soon",
                reason_params={"label": label, "n": len(soon), "due": fmt_day(due, self.tz)},
                measured={
                    "overdue": 0,
                    "due_soon": len(soon),
                    "findings": soon,
                    "outstanding": outstanding,
                },
                evidence_ids=ids,
                due=due,
            )
        return Result(
            **base,
            status=Status.COMPLIANT,
            reason=f"{label}: no security update past its deadline.",
            reason_id="patch_lag.ok",
            reason_params={"label": label},
            measured={"overdue": 0, "due_soon": 0, "outstanding": outstanding},
            evidence_ids=ids,
        )


def _note(asset: Evidence) -> str:
    """The source's own word on why an asset has no patch data (``patch_data_note``)."""
    note = asset.facts.get("patch_data_note")
    return f" ({note})" if isinstance(note, str) and note else ""


def _assessed_at(asset: Evidence, patches: Sequence[Evidence]) -> datetime | None:
    """When the asset's patch state was last assessed: the newest of the asset's own stamp and
    its patch records. None means no patch data at all."""
    stamps = [p.observed_at for p in patches]
    own = asset.facts.get("patch_assessed_at")
    if isinstance(own, datetime):
        stamps.append(own)
    return max(stamps, default=None)
