"""``results.json``: the machine-readable run, valid against ``reports/results.schema.json``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

from clausewatch.core.evaluation import Evaluation, Outcome
from clausewatch.core.result import Result
from clausewatch.core.run import RunInfo, exit_code_for

SCHEMA_VERSION = "1"


def results_schema() -> dict[str, Any]:
    text = resources.files("clausewatch.reports").joinpath("results.schema.json")
    return json.loads(text.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


def iso(value: datetime | date | None) -> str | None:
    """UTC timestamps as ``...Z``; dates as ``YYYY-MM-DD``."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    return value.isoformat()


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return iso(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    return value


def result_to_dict(r: Result) -> dict[str, Any]:
    out: dict[str, Any] = {
        "subject": r.subject,
        "label": r.label or r.subject,
        "status": str(r.status),
        "reason": r.reason,
        "reason_id": r.reason_id or None,
        "reason_params": _plain(r.reason_params),
        "measured": _plain(r.measured),
        "expected": _plain(r.expected),
        "due": iso(r.due),
        "evidence_ids": list(r.evidence_ids),
    }
    if r.waiver is not None:
        out["waiver"] = _plain(r.waiver)
    return out


def outcome_to_dict(o: Outcome) -> dict[str, Any]:
    c, v = o.commitment, o.verdict
    return {
        "id": c.id,
        "clause": c.clause,
        "title": c.title,
        "check": c.check,
        "responsible": str(c.responsible),
        "source_line": c.source_line,
        "status": str(v.status),
        "reason": v.reason,
        "measured": v.measured,
        "target": v.target,
        "counts": dict(v.counts),
        "due": iso(v.due),
        "params": _plain(c.params),
        "results": [result_to_dict(r) for r in o.results],
    }


def to_document(ev: Evaluation, info: RunInfo) -> dict[str, Any]:
    """The whole run as a JSON-ready dict."""
    k = ev.contract
    return {
        "schema_version": SCHEMA_VERSION,
        "run": info.to_dict(),
        "contract": {
            "id": k.id,
            "title": k.title,
            "provider": k.provider,
            "customer": k.customer,
            "effective_from": iso(k.effective_from),
            "effective_to": iso(k.effective_to),
            "timezone": k.timezone.key,
            "language": k.language,
            "file": k.source_file,
            "sha256": k.digest,
        },
        "as_of": iso(ev.as_of),
        "status": str(ev.status),
        "exit_code": int(exit_code_for(ev)),
        "partial": ev.partial,
        "evidence_count": ev.evidence_count,
        "commitments": [outcome_to_dict(o) for o in ev.outcomes],
        "waivers": [
            {
                "commitment": w.waiver.commitment,
                "subjects": list(w.waiver.subjects),
                "reason": w.waiver.reason,
                "approver": w.waiver.approver,
                "expires": iso(w.waiver.expires),
                "granted": iso(w.waiver.granted),
                "reference": w.waiver.reference,
                "status": w.status,
                "applied_to": list(w.applied_to),
            }
            for w in ev.waivers
        ],
        "collection_errors": [
            {
                "id": e.id,
                "source": e.source,
                "origin": e.origin,
                "kinds": list(e.kinds),
                "operation": e.operation,
                "asset_kinds": list(e.asset_kinds),
                "subject": e.subject,
                "message": e.message,
                "occurred_at": iso(e.occurred_at),
            }
            for e in ev.errors
        ],
    }


def dumps(ev: Evaluation, info: RunInfo) -> str:
    return json.dumps(to_document(ev, info), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
