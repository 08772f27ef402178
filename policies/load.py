"""Load a contract YAML into a ``Contract``, reporting every problem with its file and line.

Loading runs in stages, each collecting every problem before stopping: the YAML itself
(see ``yaml_source``), the envelope schema, then each commitment's params against the schema its
check owns, then the rules no schema can say (known check, unique ids, dates in order, valid time
zone, waivers that name a commitment).
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping
from datetime import date
from importlib import resources
from pathlib import Path
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from clausewatch.core.contract import Commitment, Contract, Party, Penalty, Scope, Waiver
from clausewatch.core.gc_policy import paused
from clausewatch.core.problems import InputError, Problem
from clausewatch.policies.yaml_source import (
    YamlDocument,
    read_yaml,
    schema_problems,
)


class CheckCatalog(Protocol):
    """What the loader needs to know of the checks (the registry satisfies it)."""

    def names(self) -> list[str]: ...

    def params_schema(self, name: str) -> Mapping[str, Any]: ...


def contract_schema() -> dict[str, Any]:
    """The envelope JSON Schema (Draft 2020-12), shipped as package data (a fresh copy)."""
    text = resources.files("clausewatch.policies.schema").joinpath("contract.schema.json")
    return json.loads(text.read_text(encoding="utf-8"))  # type: ignore[no-any-return]


#: The one copy the loader validates with (its validators are built once).
_CONTRACT_SCHEMA = contract_schema()


def load_contract(
    path: Path | str, catalog: CheckCatalog, name: str | None = None, raw: bytes | None = None
) -> Contract:
    """Read, validate and build the contract at ``path`` (or from ``raw``, its bytes); raise
    ``InputError`` on any problem.

    ``name`` is how messages and results call the file (default: ``path`` as given).
    """
    with paused():
        return contract_from_document(read_yaml(path, name, raw), catalog)


def contract_from_document(doc: YamlDocument, catalog: CheckCatalog) -> Contract:
    """Validate and build the contract of a file already read (so it is parsed once)."""
    with paused():
        if not isinstance(doc.data, dict):
            raise InputError(
                [doc.problem([], "the file must be a mapping (contract:, commitments:)")]
            )
        problems = schema_problems(doc, _CONTRACT_SCHEMA)
        # The later stages read defensively, so one pass reports every problem in the file.
        problems += _params_problems(doc, catalog) + _semantic_problems(doc)
        if problems:
            raise InputError(sorted(set(problems)))
        return _build(doc)


def _items(value: Any) -> list[tuple[int, dict[str, Any]]]:
    """(index, mapping) for the well-formed entries of a list that may be malformed."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, dict)]


def _date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _params_problems(doc: YamlDocument, catalog: CheckCatalog) -> list[Problem]:
    known = catalog.names()
    out: list[Problem] = []
    for i, c in _items(doc.data.get("commitments")):
        name = c.get("check")
        if not isinstance(name, str):
            continue
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            out.append(
                doc.problem(
                    ["commitments", i, "check"],
                    f"unknown check {name!r}{hint} (known: {', '.join(known)})",
                )
            )
            continue
        params = c.get("params", {})
        if isinstance(params, dict):
            out += schema_problems(
                doc, catalog.params_schema(name), params, base=["commitments", i, "params"]
            )
    return out


def _semantic_problems(doc: YamlDocument) -> list[Problem]:
    data = doc.data
    out: list[Problem] = []
    head = data.get("contract") if isinstance(data.get("contract"), dict) else {}
    tz = head.get("timezone")
    if isinstance(tz, str) and tz:
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            out.append(
                doc.problem(
                    ["contract", "timezone"],
                    f"unknown time zone {tz!r} (use an IANA name such as Europe/Paris)",
                )
            )
    start, end = _date(head.get("effective_from")), _date(head.get("effective_to"))
    if start and end and end < start:
        out.append(
            doc.problem(
                ["contract", "effective_to"],
                f"effective_to {end} is before effective_from {start}",
            )
        )
    first_line: dict[str, int] = {}
    for i, c in _items(data.get("commitments")):
        cid = c.get("id")
        if not isinstance(cid, str):
            continue
        if cid in first_line:
            out.append(
                doc.problem(
                    ["commitments", i, "id"],
                    f"duplicate commitment id {cid!r} (first on line {first_line[cid]})",
                )
            )
        else:
            first_line[cid] = doc.node_at(["commitments", i, "id"]).start_mark.line + 1
    for i, c in _items(data.get("commitments")):
        params = c.get("params")
        accept = params.get("accept_attested") if isinstance(params, dict) else None
        mode = c.get("evidence")
        if (accept is False and mode == "attested") or (accept is True and mode == "automated"):
            out.append(
                doc.problem(
                    ["commitments", i, "params", "accept_attested"],
                    f"accept_attested: {str(accept).lower()} contradicts evidence: {mode} "
                    "(say it once, with evidence: automated | attested | any)",
                )
            )
    for i, w in _items(data.get("waivers")):
        target = w.get("commitment")
        if isinstance(target, str) and target not in first_line:
            close = difflib.get_close_matches(target, list(first_line), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            out.append(
                doc.problem(
                    ["waivers", i, "commitment"],
                    f"waiver for unknown commitment {target!r}{hint}",
                )
            )
        granted, expires = _date(w.get("granted")), _date(w.get("expires"))
        if granted and expires and granted > expires:
            out.append(
                doc.problem(
                    ["waivers", i, "expires"],
                    f"waiver expires {expires}, before it was granted {granted}",
                )
            )
    return out


#: The schema's percentage (0% to 100%, an optional space before the sign), read in full.
_PERCENT = re.compile("(100(?:\\.0+)?|[0-9]{1,2}(?:\\.[0-9]+)?)[ \u00a0\u202f]?%")


def parse_target(value: float | int | str) -> float:
    """``"95%"`` or ``0.95`` -> 0.95; a share outside 0..1 or not finite is a ``ValueError``."""
    if isinstance(value, str):
        match = _PERCENT.fullmatch(value)
        if match is None:
            raise ValueError(f"not a percentage from 0% to 100%: {value!r}")
        return float(match.group(1)) / 100
    share = float(value)
    if not 0 <= share <= 1:  # also false for NaN
        raise ValueError(f"not a share from 0 to 1: {value!r}")
    return share


def _scope(data: Mapping[str, Any]) -> Scope:
    return Scope(
        sources=tuple(data.get("sources", ())),
        asset_kinds=tuple(data.get("asset_kinds", ())),
        tags=dict(data.get("tags", {})),
        exclude_tags=dict(data.get("exclude_tags", {})),
        population=dict(data.get("population", {})),
        facts=dict(data.get("facts", {})),
        exclude_facts=dict(data.get("exclude_facts", {})),
    )


def _penalty(data: Mapping[str, Any] | None, period: str) -> Penalty | None:
    if data is None:
        return None
    cap = data.get("cap_per_period")
    return Penalty(
        per_breach=float(data.get("per_breach", 0)),
        per_day_late=float(data.get("per_day_late", 0)),
        cap_per_period=float(cap) if cap is not None else None,
        currency=data.get("currency", "EUR"),
        period=data.get("period", period),
    )


def _build(doc: YamlDocument) -> Contract:
    data = doc.data
    head = data["contract"]
    tz = ZoneInfo(head["timezone"])
    commitments = tuple(
        Commitment(
            id=c["id"],
            clause=c["clause"],
            title=c["title"],
            check=c["check"],
            responsible=Party(c["responsible"]),
            scope=_scope(c.get("scope", {})),
            params=c.get("params", {}),
            target=parse_target(c["target"]),
            warning_days=float(c.get("warning_days", 0)),
            timezone=tz,
            description=c.get("description", ""),
            source_file=doc.file,
            source_line=doc.node_at(["commitments", i]).start_mark.line + 1,
            penalty=_penalty(c.get("penalty"), head.get("period", "month")),
            evidence=c.get("evidence", "any"),
        )
        for i, c in enumerate(data["commitments"])
    )
    waivers = tuple(
        Waiver(
            commitment=w["commitment"],
            subjects=tuple(w["subjects"]),
            reason=w["reason"],
            approver=w["approver"],
            expires=date.fromisoformat(w["expires"]),
            granted=date.fromisoformat(w["granted"]) if "granted" in w else None,
            reference=w.get("reference", ""),
            source_line=doc.node_at(["waivers", i]).start_mark.line + 1,
        )
        for i, w in enumerate(data.get("waivers", []))
    )
    return Contract(
        id=head["id"],
        title=head["title"],
        provider=head["provider"],
        customer=head["customer"],
        effective_from=date.fromisoformat(head["effective_from"]),
        effective_to=date.fromisoformat(head["effective_to"]) if "effective_to" in head else None,
        timezone=tz,
        commitments=commitments,
        waivers=waivers,
        language=head.get("language", "en"),
        source_file=doc.file,
        digest=hashlib.sha256(doc.raw).hexdigest(),
        period=head.get("period", "month"),
        evidence_retention_days=head.get("evidence_retention_days"),
    )


__all__ = [
    "CheckCatalog",
    "InputError",
    "Problem",
    "contract_from_document",
    "contract_schema",
    "load_contract",
]
