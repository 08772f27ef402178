"""Every number a contract can carry, tried with any float: refused with its place, or accepted
within its documented range and evaluated without a traceback; never compliant when not finite.

The numbers are found by walking the schemas themselves (every check's params schema in the
registry, and the contract envelope's commitment), so a new check or parameter is covered
without touching this file.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
import yaml
from builders import AS_OF, asset, commitment, contract, days_ago, ev, identity, patch
from hypothesis import given, settings
from hypothesis import strategies as st

from clausewatch.checks import CHECKS
from clausewatch.checks.engine import evaluate
from clausewatch.core.problems import InputError
from clausewatch.core.result import Status
from clausewatch.policies.load import _CONTRACT_SCHEMA, load_contract
from clausewatch.policies.yaml_source import format_path

Slot = tuple[str, tuple[str, ...], Mapping[str, Any]]  # (check, path from the commitment, schema)


def _resolve(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Mapping[str, Any]:
    while "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        schema = {**root["$defs"][name], **{k: v for k, v in schema.items() if k != "$ref"}}
    return schema


def numeric_slots(
    schema: Mapping[str, Any], root: Mapping[str, Any], path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], Mapping[str, Any]]]:
    """Every place a quantity goes, with its schema (``additionalProperties`` as key
    ``critical``). A value that may also be a boolean (a tag) is a label, not a quantity."""
    schema = _resolve(schema, root)
    types = schema.get("type")
    kinds = set(types) if isinstance(types, list) else {types}
    if kinds & {"number", "integer"} and "boolean" not in kinds:
        yield path, schema
    for key, sub in schema.get("properties", {}).items():
        yield from numeric_slots(sub, root, (*path, key))
    extra = schema.get("additionalProperties")
    if isinstance(extra, Mapping):
        yield from numeric_slots(extra, root, (*path, "critical"))


def minimal(schema: Mapping[str, Any], root: Mapping[str, Any]) -> Any:
    """A small valid instance of ``schema`` (its required properties only)."""
    schema = _resolve(schema, root)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        out = {k: minimal(schema["properties"][k], root) for k in schema.get("required", [])}
        if not out and isinstance(schema.get("additionalProperties"), Mapping):
            out["critical"] = minimal(schema["additionalProperties"], root)
        return out
    if kind in ("number", "integer"):
        return 1
    if kind == "boolean":
        return True
    return "x"


SLOTS: list[Slot] = [
    (name, ("params", *path), sub)
    for name in CHECKS.names()
    for path, sub in numeric_slots(CHECKS.params_schema(name), CHECKS.params_schema(name))
]
ENVELOPE: list[Slot] = [
    ("restore_test", path, sub)
    for path, sub in numeric_slots(_CONTRACT_SCHEMA["$defs"]["commitment"], _CONTRACT_SCHEMA)
]

SPECIAL = [math.nan, math.inf, -math.inf, 1e308, -1e308, 1.7976931348623157e308, 5e-324,
           -5e-324, 0.0, -0.0, 1e30, -1.0, 0.5, 1.0, 1.0000001, 24.0, 3650.0, 3650.0001,
           87600.0, 87600.5, 5256000.0, 1e12, 1e12 + 1]
NUMBERS = st.one_of(
    st.sampled_from(SPECIAL),
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=1e6),
    st.integers(min_value=-(10**30), max_value=10**30),
)

EVIDENCE = [
    asset("srv-1", tags={"restore_test": "required"}, patch_assessed_at=days_ago(0, 2)),
    asset("db-1", "database", tags={"restore_test": "required"}, patch_assessed_at=days_ago(0, 2)),
    patch("srv-1", "KB1", "critical", "missing", released_at=days_ago(30)),
    patch("db-1", "KB2", "critical", "installed", released_at=days_ago(9),
          installed_at=days_ago(8)),
    ev("backup", "db-1", {"outcome": "success", "completed_at": days_ago(0, 5)}),
    ev("backup", "srv-1", {"outcome": "success", "completed_at": days_ago(3)}),
    ev("restore_test", "db-1", {"outcome": "success", "completed_at": days_ago(40),
                                "duration_minutes": 30, "method": "tool"}),
    identity("alice", created_at=days_ago(1)), identity("bob", mfa_enforced=False),
]


def contract_text(check: str, path: tuple[str, ...], value: float | int) -> str:
    params = minimal(CHECKS.params_schema(check), CHECKS.params_schema(check))
    item: dict[str, Any] = {"id": "c1", "clause": "§1", "title": "t", "check": check,
                            "responsible": "provider", "params": params, "target": "50%"}
    if path[0] == "penalty":
        item["penalty"] = {"per_breach": 1}
    node = item
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    head = {"id": "k", "title": "T", "provider": "P", "customer": "C",
            "effective_from": "2026-01-01", "timezone": "Europe/Paris"}
    return yaml.safe_dump({"contract": head, "commitments": [item]}, allow_unicode=True)


def in_range(value: float, schema: Mapping[str, Any]) -> bool:
    return (
        math.isfinite(value)
        and value >= schema.get("minimum", -math.inf)
        and value > schema.get("exclusiveMinimum", -math.inf)
        and value <= schema.get("maximum", math.inf)
    )


def check_one(slot: Slot, value: float | int) -> None:
    check, path, schema = slot
    text = contract_text(check, path, value)
    where = format_path(["commitments", 0, *path])
    try:
        k = load_contract("c.yaml", CHECKS, raw=text.encode())
    except InputError as exc:
        assert not in_range(value, schema), (value, [str(p) for p in exc.problems])
        # Located: the problem names the number's place and the line it is on.
        lines = text.splitlines()
        (hit,) = [p for p in exc.problems if p.path == where]
        assert hit.line >= 1 and hit.col >= 1 and hit.message
        assert path[-1] in lines[hit.line - 1] or hit.line > 1
        return
    assert in_range(value, schema), (value, "accepted out of its documented range")
    run = evaluate(k, EVIDENCE, [], AS_OF)
    for o in run.outcomes:
        json.dumps([o.verdict.measured, o.verdict.target], allow_nan=False)
        for r in o.results:
            json.dumps(r.measured, allow_nan=False, default=str)


def test_every_number_has_a_documented_finite_range():
    """Each numeric parameter, duration and amount states both bounds (a regression guard)."""
    assert len(SLOTS) >= 8 and len(ENVELOPE) >= 5
    for check, path, schema in SLOTS + ENVELOPE:
        has_low = "minimum" in schema or "exclusiveMinimum" in schema
        assert has_low and math.isfinite(schema.get("maximum", math.inf)), (check, path)
        assert path[-1] == "critical" or schema.get("description"), (check, path)


@settings(max_examples=300, deadline=None)
@given(slot=st.sampled_from(SLOTS + ENVELOPE), value=NUMBERS)
def test_any_number_is_refused_with_its_place_or_evaluated(slot, value):
    check_one(slot, value)


@pytest.mark.parametrize("slot", SLOTS + ENVELOPE, ids=lambda s: f"{s[0]}:{'.'.join(s[1])}")
@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf, 1e308, -1.0, 5e-324])
def test_each_number_against_the_edge_values(slot, value):
    check_one(slot, value)


HAND_BUILT = [(check, path[1:]) for check, path, _ in SLOTS]


@settings(max_examples=200, deadline=None)
@given(slot=st.sampled_from(HAND_BUILT),
       bad=st.sampled_from([math.nan, math.inf, -math.inf]),
       target=st.sampled_from([0.0, 0.5, 1.0, math.nan]))
def test_a_non_finite_number_built_by_hand_never_yields_compliant(slot, bad, target):
    """Past the loader (a commitment built in code), the engine still fails closed."""
    check, path = slot
    params = minimal(CHECKS.params_schema(check), CHECKS.params_schema(check))
    node = params
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = bad
    c = commitment(check, params, target=target, tags={"restore_test": "required"}
                   if check == "restore_test" else {})
    try:
        run = evaluate(contract(c), EVIDENCE, [], AS_OF)
    except (ValueError, OverflowError):
        return  # the check could not compute a deadline from it: no verdict at all
    (outcome,) = run.outcomes
    assert outcome.verdict.status is Status.NO_EVIDENCE
    assert "no verdict can be given" in outcome.verdict.reason
