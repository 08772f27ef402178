"""The JSON Schema of one JSON Lines record, derived from the evidence kinds' declarations.

The envelope (kind, source, subject, observed_at, origin, raw_ref, id) and the collection
error are fixed here; each registered kind adds its facts (``clausewatch.core.kinds``).
``clausewatch schema evidence`` prints it; the reader validates against it.
"""

from __future__ import annotations

from typing import Any

from clausewatch.core.kinds import KINDS, EvidenceKind, Fact, FactType, KindRegistry

SCHEMA_ID = "https://clausewatch.dev/schema/evidence.schema.json"

#: The schema's own definitions, which no kind may be named after.
_FIXED_DEFS = frozenset({"text", "datetime", "optional_datetime", "evidence", "collection_error"})
#: The JSON type of each fact type that is a plain ``type`` keyword.
_JSON_TYPES = {
    FactType.STRING: "string",
    FactType.BOOLEAN: "boolean",
    FactType.INTEGER: "integer",
    FactType.NUMBER: "number",
}


def fact_schema(fact: Fact) -> dict[str, Any]:
    """The schema of one fact's value."""
    out: dict[str, Any]
    if fact.type in _JSON_TYPES:
        json_type = _JSON_TYPES[fact.type]
        out = {"type": [json_type, "null"] if fact.nullable else json_type}
        if fact.minimum is not None:
            out["minimum"] = fact.minimum
    elif fact.type is FactType.TIMESTAMP:
        out = {"$ref": "#/$defs/optional_datetime" if fact.nullable else "#/$defs/datetime"}
    elif fact.type is FactType.CHOICE:
        out = {"enum": [*fact.choices, None] if fact.nullable else list(fact.choices)}
    else:
        if fact.type is FactType.TEXT:
            out = {"$ref": "#/$defs/text"}
        elif fact.type is FactType.STRINGS:
            out = {"type": "array", "items": {"type": "string"}}
        else:  # FactType.LABELS
            out = {"type": "object",
                   "additionalProperties": {"type": ["string", "number", "boolean"]}}
        if fact.nullable:
            out = {"anyOf": [out, {"type": "null"}]}
    if fact.description:
        out["description"] = fact.description
    return out


def facts_schema(kind: EvidenceKind) -> dict[str, Any]:
    """The schema of a kind's ``facts`` object: declared facts typed, others allowed."""
    return {
        "type": "object",
        "description": kind.description,
        "required": [f.name for f in kind.facts if f.required],
        "properties": {f.name: fact_schema(f) for f in kind.facts},
    }


def evidence_schema(kinds: KindRegistry = KINDS) -> dict[str, Any]:
    """The JSON Schema of one line: an evidence record of a registered kind or an error."""
    names = list(kinds.names())
    if clash := set(names) & _FIXED_DEFS:
        raise ValueError(f"evidence kind names {sorted(clash)} are taken by the schema")
    defs: dict[str, Any] = {
        "text": {"type": "string", "minLength": 1},
        "datetime": {"type": "string", "format": "date-time",
                     "pattern": "(Z|z|[+-][0-9]{2}:[0-9]{2})$"},
        "optional_datetime": {"anyOf": [{"$ref": "#/$defs/datetime"}, {"type": "null"}]},
        "evidence": _evidence(names),
    }
    for kind in kinds:
        defs[kind.name] = facts_schema(kind)
    defs["collection_error"] = _collection_error(names)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "ClauseWatch evidence record (one JSON object per line)",
        "description": "The interchange format for evidence: every collector writes it and "
                       "`clausewatch evaluate --evidence FILE.jsonl` reads it, so that any tool "
                       "(an RMM export, a script) can feed a contract. Timestamps are RFC 3339 "
                       "with an explicit offset.",
        "type": "object",
        "required": ["kind", "source"],
        "properties": {
            "kind": {"enum": [*names, "collection_error"]},
            "source": {"$ref": "#/$defs/text",
                       "description": "Which tool said it, dotted: aws.iam, entra, intune, veeam"},
        },
        "allOf": [
            {"if": {"properties": {"kind": {"const": "collection_error"}}},
             "then": {"$ref": "#/$defs/collection_error"},
             "else": {"$ref": "#/$defs/evidence"}},
        ],
        "$defs": defs,
    }


def _evidence(names: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "source", "subject", "observed_at", "facts"],
        "properties": {
            "kind": True,
            "source": True,
            "id": {"$ref": "#/$defs/text",
                   "description": "Unique id; derived from kind, source, subject (and update id "
                                  "or completion time) when absent."},
            "subject": {"$ref": "#/$defs/text",
                        "description": "Stable id of what the fact is about: ARN, UPN, device id."},
            "observed_at": {"$ref": "#/$defs/datetime"},
            "origin": {"type": "string",
                       "description": "Where it was collected, as a path: aws/<account>/<region>, "
                                      "entra/<tenant>."},
            "raw_ref": {"type": ["string", "null"],
                        "description": "The raw API page the record was derived from."},
            "facts": {"type": "object"},
        },
        "allOf": [
            {"if": {"properties": {"kind": {"const": name}}},
             "then": {"properties": {"facts": {"$ref": f"#/$defs/{name}"}}}}
            for name in names
        ],
    }


def _collection_error(names: list[str]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["kind", "source", "origin", "kinds", "message"],
        "properties": {
            "kind": True,
            "source": True,
            "origin": {"type": "string",
                       "description": "What could not be read: aws/<account>[/<region>], "
                                      "entra/<tenant>; empty means everything from the source."},
            "kinds": {"type": "array", "minItems": 1, "items": {"enum": names}},
            "message": {"$ref": "#/$defs/text"},
            "operation": {"type": "string"},
            "occurred_at": {"$ref": "#/$defs/optional_datetime"},
            "retryable": {"type": "boolean"},
            "details": {"type": "object"},
            "asset_kinds": {"type": "array", "items": {"$ref": "#/$defs/text"},
                            "description": "Asset kinds it would have reported or informed; "
                                           "absent: any (docs/errors.md)."},
            "resource_types": {"type": "array", "items": {"$ref": "#/$defs/text"}},
            "subject": {"type": "string",
                        "description": "The one subject it concerns; absent: every subject "
                                       "at its origin."},
            "tags": {"type": "object", "additionalProperties": {"type": "string"},
                     "description": "Tags the source puts on every subject it reports."},
            "facts": {"type": "object",
                      "description": "Facts every subject it covers shares (tenant_id)."},
        },
    }
