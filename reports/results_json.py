"""``results.json``: the machine-readable run, valid against ``reports/results.schema.json``.

The text is ``json.dumps(to_document(...), indent=2, sort_keys=True, ensure_ascii=False)``
plus a newline, byte for byte. ``chunks`` writes it as a stream (a commitment at a time) and
encodes each part with orjson, which writes the same bytes for the same plain values, 20 times
faster: a part holding a value orjson would write differently (a float it formats otherwise or
a non-finite one, a key that is not text) is encoded by ``json`` instead (``pretty``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from importlib import resources
from typing import Any

import orjson

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


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready data: instants as text, mappings as dicts with text keys,
    sequences and sets as lists (the plain types of a results document pass as they are)."""
    t = type(value)
    if t in _SCALARS:
        return value
    if t is dict:
        return {k if type(k) is str else str(k): v if type(v) in _SCALARS else _plain(v)
                for k, v in value.items()}
    if t is list or t is tuple:
        return [v if type(v) in _SCALARS else _plain(v) for v in value]
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


def to_document(ev: Evaluation, info: RunInfo, *, commitments: bool = True) -> dict[str, Any]:
    """The whole run as a JSON-ready dict (without ``commitments``: every field but that)."""
    k = ev.contract
    doc = {
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
    if commitments:
        doc["commitments"] = [outcome_to_dict(o) for o in ev.outcomes]
    return doc


def dumps(ev: Evaluation, info: RunInfo) -> str:
    return b"".join(chunks(ev, info)).decode("utf-8")


def chunks(ev: Evaluation, info: RunInfo) -> Iterator[bytes]:
    """``results.json``'s bytes as a stream: the document's fields in key order, the
    commitments one at a time (each is built, encoded and dropped before the next)."""
    head = to_document(ev, info, commitments=False)
    keys = sorted([*head, "commitments"])
    yield b"{\n"
    for i, key in enumerate(keys):
        yield b"  " + pretty(key) + b": "
        if key != "commitments":
            yield pretty(head[key], 1)
        elif not ev.outcomes:
            yield b"[]"
        else:
            yield b"[\n"
            last = len(ev.outcomes) - 1
            for j, o in enumerate(ev.outcomes):
                yield b"    " + pretty(outcome_to_dict(o), 2) + (b",\n" if j < last else b"\n")
            yield b"  ]"
        yield b",\n" if i < len(keys) - 1 else b"\n"
    yield b"}\n"


def pretty(value: Any, depth: int = 0, *, sort_keys: bool = True) -> bytes:
    """``json.dumps(value, indent=2, sort_keys=sort_keys, ensure_ascii=False)`` as UTF-8, its
    lines after the first indented ``depth`` levels (to sit inside a document at that depth)."""
    data = None
    if same_in_orjson(value):
        option = orjson.OPT_INDENT_2 | (orjson.OPT_SORT_KEYS if sort_keys else 0)
        try:
            data = orjson.dumps(value, option=option)
        except orjson.JSONEncodeError:  # a lone surrogate, an integer beyond 64 bits
            data = None
    if data is None:
        data = json.dumps(value, indent=2, sort_keys=sort_keys, ensure_ascii=False).encode()
    return data.replace(b"\n", b"\n" + b"  " * depth) if depth else data


#: Floats orjson and ``json`` write alike: zero, and magnitudes where ``repr`` uses no exponent.
_FLOAT_LOW, _FLOAT_HIGH = 1e-4, 1e16


def same_in_orjson(value: Any) -> bool:
    """True when orjson writes ``value`` exactly as ``json.dumps`` does (indent 2, keys
    sorted, not ASCII-escaped): plain JSON values whose floats are finite and written without
    an exponent, dict keys of type ``str`` only."""
    stack = [value]
    while stack:
        v = stack.pop()
        t = type(v)
        if t is dict:
            if not all(type(k) is str for k in v):
                return False
            items = v.values()
        elif t is list or t is tuple:
            items = v
        else:
            items = (v,)
        for x in items:
            tx = type(x)
            if tx is str or tx is int or tx is bool or x is None:
                continue
            if tx is float:
                if not (x == 0 or _FLOAT_LOW <= abs(x) < _FLOAT_HIGH):  # NaN fails both
                    return False
            elif tx is dict or tx is list or tx is tuple:
                if x is not v:
                    stack.append(x)
            else:
                return False  # subclasses (enums) and other types: json's own rules
    return True
