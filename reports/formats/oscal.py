"""``oscal-assessment-results.json``: the run as an OSCAL 1.1 Assessment Results document.

Plain JSON built from the evaluation (no OSCAL library at run time); the tests validate it
against NIST's published JSON Schema. Mapping:

- each commitment is a control objective: one ``finding`` whose target is the commitment id,
  ``satisfied`` when compliant, at risk or waived, ``not-satisfied`` when breached or without
  evidence (reason ``fail`` and ``other`` respectively);
- one ``observation`` per commitment (the verdict) and one per subject that is not compliant
  (its reason, due date and the evidence record ids), linked from the finding;
- the contract file, results.json and evidence.jsonl are back-matter resources with their
  SHA-256, and the contract is what ``import-ap`` points at (there is no separate assessment
  plan: the contract's commitments are the plan).

UUIDs are version 5, derived from the run id, so the same run always gives the same document.
"""

from __future__ import annotations

import hashlib
import re
import string
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from clausewatch.core.evaluation import Outcome
from clausewatch.core.result import Result, Status, is_offender
from clausewatch.reports.formats.registry import FORMATS, RunView
from clausewatch.reports.results_json import iso, pretty, same_in_orjson

OSCAL_VERSION = "1.1.3"
NS = "urn:clausewatch:oscal"
_TOKEN = re.compile(r"[^\w.\-]", re.UNICODE)

STATE = {
    Status.COMPLIANT: ("satisfied", "pass"),
    Status.AT_RISK: ("satisfied", "pass"),
    Status.WAIVED: ("satisfied", "other"),
    Status.BREACHED: ("not-satisfied", "fail"),
    Status.NO_EVIDENCE: ("not-satisfied", "other"),
}


def token(text: str) -> str:
    """An OSCAL token (letters, digits, ``.-_``; starting with a letter or ``_``)."""
    out = _TOKEN.sub("_", text)
    return out if out[:1].isalpha() or out[:1] == "_" else f"_{out}"


class _Ids:
    """Version 5 UUIDs in the run's namespace: ``str(uuid.uuid5(base, name))``, made from the
    SHA-1 digest directly (RFC 4122 section 4.3: the first 16 bytes of SHA-1(namespace + name),
    version 5 in the high nibble of byte 6, variant ``10`` in the high bits of byte 8), which
    costs a tenth of building a ``UUID`` per observation."""

    def __init__(self, run_id: str) -> None:
        self.base = uuid.uuid5(uuid.NAMESPACE_URL, f"urn:clausewatch:run:{run_id}")
        self._namespace = self.base.bytes

    def __call__(self, *parts: str) -> str:
        name = "\x1f".join(parts).encode("utf-8")
        d = bytearray(hashlib.sha1(self._namespace + name, usedforsecurity=False).digest()[:16])
        d[6] = d[6] & 0x0F | 0x50
        d[8] = d[8] & 0x3F | 0x80
        h = d.hex()
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


#: ``quote(text, safe="")`` of ASCII text as one ``str.translate``: every byte but letters,
#: digits and ``_.-~`` (urllib's always-safe set) as ``%XX``, upper-case hex, as urllib writes.
_SAFE = frozenset(string.ascii_letters + string.digits + "_.-~")
_QUOTED = {c: f"%{c:02X}" for c in range(128) if chr(c) not in _SAFE}


def quote_all(text: str) -> str:
    """``urllib.parse.quote(text, safe="")``, for the fragments of evidence ids."""
    return text.translate(_QUOTED) if text.isascii() else quote(text, safe="")


def _prop(name: str, value: object, *, ns: bool = True) -> dict[str, str]:
    text = " ".join(str(value).split()) or "-"
    out = {"name": name, "value": text}
    if ns:
        out["ns"] = NS
    return out


def to_document(view: RunView) -> dict[str, Any]:
    """The OSCAL document as a dict. The view's digests of ``results.json`` and
    ``evidence.jsonl`` (and the contract's) are recorded on their back-matter resources."""
    ev, info = view.evaluation, view.info
    ids = _Ids(info.run_id)
    k = ev.contract
    digests = view.digests
    digests.setdefault("contract.yaml", k.digest)
    as_of = iso(ev.as_of) or ""
    start = iso(info.started_at) or as_of
    end = iso(info.finished_at) or start
    provider, customer = ids("party", "provider"), ids("party", "customer")
    resources = [
        _resource(ids, "contract.yaml", "Contract as evaluated", k.source_file, digests),
        _resource(ids, "results.json", "ClauseWatch results", "results.json", digests),
        _resource(ids, "evidence.jsonl", "Normalised evidence", "evidence.jsonl", digests),
    ]
    observations: list[dict[str, Any]] = []
    findings: list[dict[str, Any]] = []
    for o in ev.outcomes:
        obs = _observations(ids, o, as_of)
        observations += obs
        findings.append(_finding(ids, o, [x["uuid"] for x in obs]))
    result: dict[str, Any] = {
        "uuid": ids("result"),
        "title": f"{k.title} — as of {as_of}",
        "description": f"ClauseWatch evaluation of contract {k.id} ({k.provider} for "
        f"{k.customer}) against {ev.evidence_count} evidence records; overall {ev.status}.",
        "start": start,
        "end": end,
        "props": [
            _prop("as-of", as_of),
            _prop("overall-status", ev.status),
            _prop("partial", str(ev.partial).lower()),
            _prop("evidence-count", ev.evidence_count),
        ],
        "reviewed-controls": {
            "control-selections": [
                {
                    "description": "The commitments of the contract, each a control objective.",
                    "include-controls": [{"control-id": token(c.id)} for c in k.commitments],
                }
            ]
        },
        "observations": observations,
        "findings": findings,
    }
    if ev.errors:
        result["remarks"] = "Collection errors: " + "; ".join(
            f"{e.source} {e.origin}: {e.message}" for e in ev.errors
        )
    return {
        "assessment-results": {
            "uuid": ids("assessment-results"),
            "metadata": {
                "title": f"{k.title}: security commitments assessment",
                "last-modified": end,
                "version": info.run_id,
                "oscal-version": OSCAL_VERSION,
                "props": [
                    _prop("contract-id", k.id),
                    _prop("contract-sha256", k.digest),
                    _prop("tool", f"clausewatch {info.tool_version}"),
                ],
                "roles": [
                    {"id": "provider", "title": "Provider (infogérant)"},
                    {"id": "customer", "title": "Customer"},
                ],
                "parties": [
                    {"uuid": provider, "type": "organization", "name": k.provider},
                    {"uuid": customer, "type": "organization", "name": k.customer},
                ],
                "responsible-parties": [
                    {"role-id": "provider", "party-uuids": [provider]},
                    {"role-id": "customer", "party-uuids": [customer]},
                ],
            },
            "import-ap": {
                "href": f"#{resources[0]['uuid']}",
                "remarks": "The contract's commitments are the assessment plan.",
            },
            "results": [result],
            "back-matter": {"resources": resources},
        }
    }


def _resource(
    ids: _Ids, key: str, title: str, href: str, digests: Mapping[str, str]
) -> dict[str, Any]:
    rlink: dict[str, Any] = {"href": quote(href or key)}
    if digests.get(key):
        rlink["hashes"] = [{"algorithm": "SHA-256", "value": digests[key]}]
    return {"uuid": ids("resource", key), "title": title, "rlinks": [rlink]}


def _observations(ids: _Ids, o: Outcome, as_of: str) -> list[dict[str, Any]]:
    c, v = o.commitment, o.verdict
    counts = ", ".join(f"{n} {s}" for s, n in sorted(v.counts.items()) if n)
    out = [
        {
            "uuid": ids("observation", c.id),
            "title": f"{c.clause}: verdict",
            "description": v.reason,
            "props": [
                _prop("commitment", c.id),
                _prop("clause", c.clause),
                _prop("status", v.status),
                _prop("responsible", c.responsible),
                _prop("target", f"{v.target:g}"),
                _prop("measured", "none" if v.measured is None else f"{v.measured:.6g}"),
                _prop("counts", counts or "none"),
            ],
            "methods": ["TEST"],
            "types": ["control-objective"],
            "relevant-evidence": [
                {"href": "results.json", "description": "Per-subject results of this run."}
            ],
            "collected": as_of,
        }
    ]
    out += [_subject_observation(ids, c.id, r, as_of) for r in o.results if _offends(r)]
    return out


def _offends(r: Result) -> bool:
    return is_offender(r.status)


def _subject_observation(ids: _Ids, cid: str, r: Result, as_of: str) -> dict[str, Any]:
    props = [
        _prop("commitment", cid),
        _prop("subject", r.subject),
        _prop("status", r.status),
    ]
    if r.due is not None:
        props.append(_prop("due", iso(r.due)))
    evidence = [
        {"href": f"evidence.jsonl#{quote_all(e)}", "description": f"Evidence record {e}."}
        for e in r.evidence_ids
    ] or [{"href": "results.json", "description": "No evidence record: see the reason."}]
    return {
        "uuid": ids("observation", cid, r.subject),
        "title": f"{r.label or r.subject}: {r.status}",
        "description": r.reason,
        "props": props,
        "methods": ["TEST"],
        "types": ["finding"],
        "relevant-evidence": evidence,
        "collected": as_of,
    }


def _finding(ids: _Ids, o: Outcome, observation_ids: list[str]) -> dict[str, Any]:
    c, v = o.commitment, o.verdict
    state, reason = STATE[v.status]
    return {
        "uuid": ids("finding", c.id),
        "title": f"{c.clause} — {c.title}",
        "description": v.reason,
        "props": [_prop("clausewatch-status", v.status), _prop("responsible", c.responsible)],
        "target": {
            "type": "objective-id",
            "target-id": token(c.id),
            "title": c.title,
            "status": {"state": state, "reason": reason},
        },
        "related-observations": [{"observation-uuid": u} for u in observation_ids],
    }


@FORMATS.register(
    "oscal",
    file_name="oscal-assessment-results.json",
    media_type="application/json",
    description={
        "en": "OSCAL 1.1 Assessment Results, for GRC tools",
        "fr": "OSCAL 1.1, Assessment Results, pour les outils de GRC",
    },
)
def render(view: RunView) -> bytes:
    """The OSCAL Assessment Results document, JSON."""
    doc = to_document(view)
    return pretty(doc, sort_keys=False, same=_same_in_orjson(doc)) + b"\n"


_SUBJECT = ["finding"]  # the ``types`` of a subject's observation (``_subject_observation``)


def _same_in_orjson(doc: dict[str, Any]) -> bool:
    """``same_in_orjson(doc)`` without walking each subject's observation: all of one is
    text by construction (ids, ``_prop`` values, f-strings, as_of) but its description (the
    result's reason), which alone is checked there; the rest of the document is walked."""
    top = doc["assessment-results"]
    result = top["results"][0]
    subjects = [x for x in result["observations"] if x["types"] == _SUBJECT]
    if any(type(x["description"]) is not str for x in subjects):
        return False
    rest = [x for x in result["observations"] if x["types"] != _SUBJECT]
    return same_in_orjson({**top, "results": [{**result, "observations": rest}]})
