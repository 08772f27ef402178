"""``patch_lag``: security updates installed within the deadline for their severity, per asset.

Severities are compared in one canonical form, :func:`severity_key` (surrounding white space
stripped, Unicode case folded: ``"Critical "`` is ``critical``), in the deadline table, in
``unrated_as`` and on each update. An update whose severity is in the table gets its deadline;
one whose severity is a known vendor rating the table leaves out (:data:`RATED`: the contract
sets no deadline for it) is not judged; any other (:data:`UNRATED`, or a word no vendor vocabulary
has, such as ``n/a`` or ``not rated``) is given ``unrated_as``, and without it an outstanding one
makes its asset ``no_evidence``, since it may be critical.

Patch records join their asset in the canonical subject form (``core/subjects.py``). A record
naming a case-sensitive id that differs from its asset's only in case makes that asset
``no_evidence`` (unless breached on its own records); records about an asset no inventory lists
are a subject of their own, ``no_evidence`` ("not in the inventory"), never dropped.

Every judged asset's result lists in ``measured["outstanding"]`` each outstanding update that
has a deadline: its vendor ``severity``, the ``deadline_severity`` its deadline comes from (after
``unrated_as``), its ``state`` and its ``due`` instant as this check computed it. The report's
patch-age chart draws from that list and never recomputes a deadline.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any

from msgspec import UNSET

from clausewatch.checks.deadlines import add_days, age_days, deadline_status, fmt_day, whole
from clausewatch.checks.evidence_view import EvidenceView, fact_rows, source_matches
from clausewatch.checks.registry import CHECKS
from clausewatch.core.contract import Commitment
from clausewatch.core.evidence import Evidence, Kind
from clausewatch.core.result import Result, Status, message

#: The facts the judgement of each update reads, in the order ``judge`` unpacks them.
_ROW = ("state", "severity", "released_at", "first_seen_at", "installed_at")
_FACTS_OF = attrgetter("facts")
#: What a severity text means to a commitment: ``(severity, days, dues)`` (``_Rules._rule``).
_Rule = tuple[str | None, float | None, dict[datetime, datetime]]
_OBSERVED_OF = attrgetter("observed_at")

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
            "description": "Severity -> days allowed to install (severities compared stripped and "
            "case-folded). A known vendor rating left out has no deadline; any other severity is "
            "given unrated_as.",
        },
        "clock": {
            "enum": ["release", "detection"],
            "default": "release",
            "description": "Start the clock at vendor release or at first detection.",
        },
        "release_fallback": {
            "enum": ["detection", "no_evidence"],
            "default": "detection",
            "description": "With clock: release, an update whose release date is unknown "
            "starts its clock at first detection (detection), or leaves the asset "
            "no_evidence (no_evidence).",
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
#: The ratings vendors give (canonical form): MSRC and Red Hat (critical, important, moderate,
#: low), AWS Systems Manager patch ``Severity`` (adds medium, informational), CVSS v3 / NVD bands
#: and Google OS Config (critical, high, medium, low, minimal), Ubuntu priorities (negligible).
#: A rated update whose rating the deadline table leaves out has no deadline by contract.
RATED = frozenset({"critical", "important", "high", "moderate", "medium", "low", "minimal",
                   "negligible", "informational"})

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
        result = rules.judge(asset, view.about(Kind.PATCH, asset.subject))
        variants = view.case_variants(Kind.PATCH, asset.subject)
        yield result if not variants else _case_variant(result, asset, variants)
    for records in view.unknown(Kind.PATCH).values():
        mine = [p for p in records if source_matches(p.source, commitment.scope.sources)]
        if mine:
            yield _unknown_asset(commitment, mine, rules.expected)


def severity_key(severity: object) -> str:
    """The canonical form of a severity: stripped of surrounding white space, case folded."""
    return str(severity if severity is not None else "").strip().casefold()


def _case_variant(result: Result, asset: Evidence, variants: Sequence[Evidence]) -> Result:
    """The asset's result when patch records name its id but for case (a case-sensitive id)."""
    if result.status is Status.BREACHED:
        return result
    names = sorted({p.subject for p in variants})
    return dataclasses.replace(
        result,
        status=Status.NO_EVIDENCE,
        reason=f"{result.label}: {len(variants)} patch record(s) name {names[0]!r}, which "
        f"differs from this asset's id {asset.subject!r} only in case; ids of this form are "
        f"case-sensitive, so whether they are about this asset cannot be told (on its own "
        f"records: {result.reason})",
        reason_id="patch_lag.case_variant",
        reason_params={"label": result.label, "n": len(variants), "name": repr(names[0]),
                       "subject": repr(asset.subject),
                       "inner": message(result.reason_id, result.reason,
                                        **result.reason_params)},
        measured={**result.measured, "case_variants": names},
        evidence_ids=(*result.evidence_ids, *(p.id for p in variants)),
        due=None,
    )


def _unknown_asset(
    commitment: Commitment, records: Sequence[Evidence], expected: Mapping[str, Any]
) -> Result:
    """Patch records about an asset no inventory lists: it may be in scope; nobody can tell."""
    subject = records[0].subject
    sources = ", ".join(sorted({p.source for p in records}))
    return Result(
        commitment_id=commitment.id,
        subject=subject,
        label=subject,
        status=Status.NO_EVIDENCE,
        reason=f"{subject}: {len(records)} patch record(s) from {sources} about an asset not in "
        "the inventory: cannot tell whether it is in scope.",
        reason_id="patch_lag.unknown_asset",
        reason_params={"label": subject, "n": len(records), "sources": sources},
        measured={"unknown_asset": True, "patch_records": len(records)},
        expected=expected,
        evidence_ids=tuple(p.id for p in records),
    )


class _Rules:
    def __init__(self, commitment: Commitment, as_of: datetime) -> None:
        params = commitment.params
        self.commitment = commitment
        self.as_of = as_of
        self.tz = commitment.timezone
        self.deadlines: dict[str, float] = {}
        for k, v in params["deadlines_days"].items():
            key = severity_key(k)  # two spellings of one severity: the shorter deadline holds
            self.deadlines[key] = min(float(v), self.deadlines.get(key, float(v)))
        self.clock: str = params.get("clock", "release")
        self.fallback: str = params.get("release_fallback", "detection")
        self.window_start = add_days(as_of, -float(params.get("window_days", 30)), self.tz)
        self.freshness = float(params.get("freshness_days", 7))
        unrated_as = params.get("unrated_as")
        self.unrated_as: str | None = None if unrated_as is None else severity_key(unrated_as)
        self.expected = {"deadlines_days": self.deadlines, "clock": self.clock}
        #: severity text as reported -> what :meth:`_rule` makes of it (once per spelling)
        self.by_severity: dict[str, _Rule] = {}
        #: deadline in days -> release (or detection) instant -> due instant
        self.dues: dict[float, dict[datetime, datetime]] = {}

    def _rule(self, raw: object) -> _Rule:
        """What a reported severity means here: ``(severity, days, dues)``.

        ``days`` is the deadline (after ``unrated_as``) and ``severity`` the one it comes from;
        without a deadline, ``severity`` is None when the contract sets none by design (a
        known rating the table leaves out, or ``unrated_as`` naming one), else its canonical
        form: an outstanding update with it leaves the asset ``no_evidence`` (unrated, or a
        word no vendor rates with). ``dues`` caches the due instants of that deadline.
        """
        severity = severity_key(raw)
        days = self.deadlines.get(severity)
        if days is None and severity not in RATED:  # unrated, or a word nobody rates with
            if self.unrated_as is not None:
                severity = self.unrated_as
                days = self.deadlines.get(severity)
        if days is None:  # judged never; flagged when outstanding, unless so by contract
            flagged = self.unrated_as is None and severity not in RATED
            return self._keep(raw, (severity if flagged else None, None, {}))
        return self._keep(raw, (severity, days, self.dues.setdefault(days, {})))

    def _keep(self, raw: object, rule: _Rule) -> _Rule:
        """Remember ``rule`` for a severity text (one per spelling, not per record)."""
        if isinstance(raw, str) and raw.__class__ is str:
            self.by_severity[raw] = rule
        return rule

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
            note = _note(asset)
            return Result(
                **base,
                status=Status.NO_EVIDENCE,
                reason=f"{label}: no patch data: {note or 'no source reported any'}.",
                reason_id="patch_lag.no_data",
                reason_params={"label": label, "note": note or message(
                    "patch_lag.no_source", "no source reported any")},
                measured={"cause": note or "no patch data"},
                evidence_ids=(asset.id,),
            )
        age = age_days(assessed, self.as_of)
        if age > self.freshness:
            return Result(
                **base,
                status=Status.NO_EVIDENCE,
                reason=f"{label}: patch data stale since {fmt_day(assessed, self.tz)} "
                f"({age:.1f} days old; freshness limit {self.freshness:g}).",
                reason_id="patch_lag.stale",
                reason_params={"label": label, "since": fmt_day(assessed, self.tz),
                               "age": round(age, 1), "limit": whole(self.freshness)},
                measured={"patch_data_age_days": round(age, 2),
                          "patch_assessed_at": assessed},
                evidence_ids=(asset.id,),
            )
        overdue: list[dict[str, Any]] = []
        soon: list[dict[str, Any]] = []
        outstanding: list[dict[str, Any]] = []
        undated: list[str] = []
        notes: list[str] = []
        ids = [asset.id]
        unrated: list[str] = []
        unknown: list[str] = []
        rules = self.by_severity
        window_start = self.window_start
        release_clock = self.clock == "release"
        release_only = release_clock and self.fallback == "no_evidence"
        rows = fact_rows(list(map(_FACTS_OF, patches)), _ROW)
        for p, (state, raw, released, first_seen, installed) in zip(patches, rows,
                                                                    strict=True):
            if state == "installed" and installed.__class__ is datetime \
                    and installed < window_start \
                    and (released if release_clock else first_seen).__class__ is datetime:
                continue  # most updates: installed before the window, the clock dated (below)
            if state == "not_applicable":
                continue
            rule = rules.get(raw) if raw.__class__ is str else None
            if rule is None:
                rule = self._rule(raw)
            severity, days, dues = rule
            if days is None:
                if severity is not None and state in OUTSTANDING:  # no deadline can be told
                    if severity in UNRATED:
                        unrated.append(update_name(p.facts))
                    else:
                        unknown.append(f"{update_name(p.facts)}: {raw!r}")
                    ids.append(p.id)
                continue
            if release_only:
                start = released
            elif release_clock:
                start = released or first_seen
            else:
                start = first_seen or released
            if start is None or start is UNSET:
                f = p.facts
                undated.append(update_name(f))
                release_note = f.get("release_date_note")
                if isinstance(release_note, str) and release_note:
                    notes.append(release_note)
                ids.append(p.id)
                continue
            if state == "installed":
                if installed is None or installed is UNSET or installed < window_start:
                    continue
                due = dues.get(start)
                if due is None:
                    due = dues[start] = add_days(start, days, self.tz)
                if installed <= due:
                    continue
                ids.append(p.id)
                overdue.append(self._finding(p, due, installed, "installed late"))
                continue
            if state not in OUTSTANDING:
                continue
            due = dues.get(start)
            if due is None:
                due = dues[start] = add_days(start, days, self.tz)
            ids.append(p.id)
            outstanding.append(self._outstanding(p, str(severity), due, str(state)))
            status = deadline_status(due, self.as_of, self.commitment.warning_days, self.tz)
            if status is Status.BREACHED:
                overdue.append(self._finding(p, due, self.as_of, state))
            elif status is Status.AT_RISK:
                soon.append(self._finding(p, due, None, state))
        return self._verdict(base, overdue, soon, undated, unrated, outstanding, tuple(ids),
                             notes, unknown)

    def _start(self, facts: Mapping[str, Any]) -> datetime | None:
        if self.clock == "release":
            if self.fallback == "no_evidence":
                return facts.get("released_at")
            return facts.get("released_at") or facts.get("first_seen_at")
        return facts.get("first_seen_at") or facts.get("released_at")

    def _finding(
        self, patch: Evidence, due: datetime, until: datetime | None, state: str
    ) -> dict[str, Any]:
        f = patch.facts
        finding = {
            "update_id": f.get("update_id"),
            "name": update_name(f),
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
        notes: Sequence[str] = (),
        unknown: Sequence[str] = (),
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
                f"{worst['name']} ({worst['severity']}) {worst['days_late']:g} days late.",
                reason_id="patch_lag.overdue",
                reason_params={
                    "label": label, "n": len(overdue), "update": worst["name"],
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
            what = ("no release date (release_fallback: no_evidence)"
                    if self.clock == "release" and self.fallback == "no_evidence"
                    else "neither release nor detection date")
            why = f"; {notes[0]}" if notes else ""
            return Result(
                **base,
                status=Status.NO_EVIDENCE,
                reason=f"{label}: {len(undated)} update(s) carry {what} "
                f"({', '.join(undated[:3])}), so their deadline is unknown{why}.",
                reason_id="patch_lag.undated",
                reason_params={
                    "label": label, "n": len(undated), "ids": list(undated[:3]),
                    "what": message("patch_lag.no_release_date" if self.clock == "release"
                                    and self.fallback == "no_evidence"
                                    else "patch_lag.neither_date", what),
                    "why": message("patch_lag.why", why, note=notes[0]) if notes else "",
                },
                measured={"undated": undated, "outstanding": outstanding},
                evidence_ids=ids,
            )
        if unknown:
            return Result(
                **base,
                status=Status.NO_EVIDENCE,
                reason=f"{label}: {len(unknown)} outstanding update(s) with a severity neither "
                f"in the deadline table nor a known rating ({', '.join(unknown[:3])}), so their "
                "deadline is unknown (unrated_as can map it).",
                reason_id="patch_lag.unknown_severity",
                reason_params={"label": label, "n": len(unknown), "ids": list(unknown[:3])},
                measured={"unknown_severity": list(unknown), "unrated": unrated,
                          "outstanding": outstanding},
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


#: A catalogue id that tells a person nothing (a GUID): the update's title says more.
_OPAQUE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_KB = re.compile(r"\bKB\d{6,8}\b", re.I)
TITLE_CHARS = 90


def update_name(facts: Mapping[str, Any]) -> str:
    """An update as a person looks it up: its KB number and title (``KB5044281 "2024-10
    Cumulative Update for Windows 11 Version 23H2"``), the title alone when the id is an opaque
    catalogue GUID, else its id."""
    update_id = str(facts.get("update_id") or "")
    title = " ".join(str(facts.get("title") or "").split())
    if len(title) > TITLE_CHARS:
        title = title[: TITLE_CHARS - 1].rstrip() + "…"
    kb_fact = facts.get("kb")
    found = _KB.search(update_id) or _KB.search(title)
    kb = str(kb_fact) if kb_fact else (found.group(0).upper() if found else "")
    ident = kb or ("" if _OPAQUE.match(update_id) else update_id)
    if title and ident and ident.lower() not in title.lower():
        return f'{ident} "{title}"'
    if title:
        return f'"{title}"'
    return ident or update_id


def _note(asset: Evidence) -> str:
    """The source's own word on why an asset has no patch data (``patch_data_note``;
    ``patch_note`` as written by earlier versions of the Intune collector)."""
    for key in ("patch_data_note", "patch_note"):
        note = asset.facts.get(key)
        if isinstance(note, str) and note.strip():
            return " ".join(note.split())
    return ""


def _assessed_at(asset: Evidence, patches: Sequence[Evidence]) -> datetime | None:
    """When the asset's patch state was last assessed: the newest of the asset's own stamp and
    its patch records. None means no patch data at all."""
    stamps = list(map(_OBSERVED_OF, patches))
    if stamps and stamps.count(stamps[0]) == len(stamps):  # one assessment (by identity: fast)
        stamps = stamps[:1]  # what max gives of equal instants: the first
    own = asset.facts.get("patch_assessed_at")
    if isinstance(own, datetime):
        stamps.append(own)
    return max(stamps, default=None)
