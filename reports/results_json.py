"""``results.json``: the machine-readable run, valid against ``reports/results.schema.json``.

The text is ``json.dumps(to_document(...), indent=2, sort_keys=True, ensure_ascii=False)``
plus a newline, byte for byte. ``chunks`` writes it as a stream (a commitment at a time) and
encodes each part with orjson, which writes the same bytes for the same plain values, 20 times
faster: a part holding a value orjson would write differently (a float it formats otherwise or
a non-finite one, a key that is not text) is encoded by ``json`` instead (``pretty``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
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


#: Floats orjson and ``json`` write alike: zero, and magnitudes where ``repr`` uses no exponent.
_FLOAT_LOW, _FLOAT_HIGH = 1e-4, 1e16
_STR = frozenset({str})
_TEXT_OR_NONE = frozenset({str, type(None)})
_TEXTS = ("subject", "label", "status", "reason")


def _plain(value: Any) -> Any:
    """``value`` as JSON-ready data: instants as text, mappings as dicts with text keys,
    sequences and sets as lists (the plain types of a results document pass as they are)."""
    return _plain_noting(value, [])


def _plain_noting(value: Any, odd: list[Any]) -> Any:
    """``_plain(value)``, noting in ``odd`` every value of it orjson may write otherwise than
    ``json`` (a float out of ``same_in_orjson``'s range, a type that is not plain JSON): one
    walk both converts and checks (``result_plain``). Scalars inside a dict or list are taken
    there, without a call per value."""
    t = type(value)
    if t is dict:
        out = {}
        for k, v in value.items():
            tv = type(v)
            if tv is float:
                if not (v == 0 or _FLOAT_LOW <= abs(v) < _FLOAT_HIGH):  # NaN fails both
                    odd.append(v)
            elif not (tv is str or tv is int or tv is bool or v is None):
                v = _plain_noting(v, odd)
            out[k if type(k) is str else str(k)] = v
        return out
    if t is list or t is tuple:
        items = []
        for v in value:
            tv = type(v)
            if tv is float:
                if not (v == 0 or _FLOAT_LOW <= abs(v) < _FLOAT_HIGH):
                    odd.append(v)
            elif not (tv is str or tv is int or tv is bool or v is None):
                v = _plain_noting(v, odd)
            items.append(v)
        return items
    if t is str or t is int or t is bool or value is None:
        return value
    if t is float:
        if not (value == 0 or _FLOAT_LOW <= abs(value) < _FLOAT_HIGH):
            odd.append(value)
        return value
    if isinstance(value, datetime | date):
        return iso(value)
    if isinstance(value, Mapping):
        return {str(k): _plain_noting(v, odd) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain_noting(v, odd) for v in value]
    odd.append(value)  # left as it is: json's own rules (subclasses, enums, other types)
    return value


def result_to_dict(r: Result) -> dict[str, Any]:
    return result_plain(r, [])


def result_plain(r: Result, odd: list[Any]) -> dict[str, Any]:
    """``result_to_dict(r)``, noting in ``odd`` what orjson may write otherwise (see
    ``_plain_noting``): empty, the dict is written by orjson as ``json`` would write it."""
    out: dict[str, Any] = {
        "subject": r.subject,
        "label": r.label or r.subject,
        "status": str(r.status),
        "reason": r.reason,
        "reason_id": r.reason_id or None,
        "reason_params": _plain_noting(r.reason_params, odd),
        "measured": _plain_noting(r.measured, odd),
        "expected": _plain_noting(r.expected, odd),
        "due": iso(r.due),
        "evidence_ids": list(r.evidence_ids),
    }
    if {type(out[k]) for k in _TEXTS} - _STR or set(map(type, r.evidence_ids)) - _STR \
            or type(out["reason_id"]) not in _TEXT_OR_NONE:
        odd.append(r)  # text fields that are not plain text: json's rules
    if r.waiver is not None:
        out["waiver"] = _plain_noting(r.waiver, odd)
    return out


def outcome_to_dict(o: Outcome) -> dict[str, Any]:
    return outcome_plain(o)[0]


def outcome_plain(o: Outcome) -> tuple[dict[str, Any], bool]:
    """``outcome_to_dict(o)``, and whether orjson writes it exactly as ``json`` would (its
    results checked as they are made plain, the rest by ``same_in_orjson``)."""
    odd: list[Any] = []
    results = [result_plain(r, odd) for r in o.results]
    c, v = o.commitment, o.verdict
    out = {
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
    }
    same = not odd and same_in_orjson(out)
    out["results"] = results
    return out, same


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


#: Called with each outcome, its results made plain (``result_to_dict``) and whether orjson
#: writes them as ``json`` does: another file written from the same dicts (``results.csv``).
EachOutcome = Callable[[Outcome, list[dict[str, Any]], bool], None]


def chunks(ev: Evaluation, info: RunInfo, each: EachOutcome | None = None) -> Iterator[bytes]:
    """``results.json``'s bytes as a stream: the document's fields in key order, the
    commitments one at a time (each is built, encoded and dropped before the next; ``each``,
    if given, sees its plain results first)."""
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
                doc, same = outcome_plain(o)
                if each is not None:
                    each(o, doc["results"], same)
                yield b"    " + pretty(doc, 2, same=same) + (b",\n" if j < last else b"\n")
            yield b"  ]"
        yield b",\n" if i < len(keys) - 1 else b"\n"
    yield b"}\n"


def pretty(value: Any, depth: int = 0, *, sort_keys: bool = True,
           same: bool | None = None) -> bytes:
    """``json.dumps(value, indent=2, sort_keys=sort_keys, ensure_ascii=False)`` as UTF-8, its
    lines after the first indented ``depth`` levels (to sit inside a document at that depth).
    ``same``: ``same_in_orjson(value)`` if the caller knows it already."""
    data = None
    if same_in_orjson(value) if same is None else same:
        option = orjson.OPT_INDENT_2 | (orjson.OPT_SORT_KEYS if sort_keys else 0)
        try:
            data = orjson.dumps(value, option=option)
        except orjson.JSONEncodeError:  # a lone surrogate, an integer beyond 64 bits
            data = None
    if data is None:
        data = json.dumps(value, indent=2, sort_keys=sort_keys, ensure_ascii=False).encode()
    return data.replace(b"\n", b"\n" + b"  " * depth) if depth else data


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
