"""The composed alerts schema refuses what the hand-written one it replaced refused, plus the
options a channel's type does not take (and nothing else); an option of any other type is
refused for every type, in the alerts file and the sources file alike, with the same message.

``handwritten_alerts.schema.json`` is ``alerts/schema/alerts.schema.json`` as last shipped
(commit 4974d4f), before the schema was composed from the channel registry.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from jsonschema import Draft202012Validator

from clausewatch.alerts.channels.base import COMMON_KEYS, ChannelSpec
from clausewatch.alerts.channels.registry import CHANNELS
from clausewatch.alerts.config import load_alerts
from clausewatch.alerts.schema import alerts_schema
from clausewatch.core.problems import InputError
from clausewatch.pipeline.sources_file import load_sources

HANDWRITTEN = json.loads(Path(__file__).with_name("handwritten_alerts.schema.json").read_text())
#: The channel types the hand-written schema knew (a type added since is not compared).
KNOWN = HANDWRITTEN["$defs"]["channel"]["properties"]["type"]["enum"]
SOURCES = "version: 1\nsources:\n  aws:\n    - name: a\n      regions: [eu-west-3]\n"


def example(spec: ChannelSpec) -> dict[str, Any]:
    (options,) = spec.options["examples"]
    return {"name": "ch", "type": spec.type, **options}


def corpus() -> list[dict[str, Any]]:
    """Channels of every known type: its example, without each key, with each option of any
    type, with bad values of its options and common keys; and channels of no or unknown type."""
    specs = [CHANNELS[t] for t in KNOWN]
    every = {k: v for s in specs for k, v in example(s).items() if k not in COMMON_KEYS}
    out: list[dict[str, Any]] = [{"name": "x"}, {"name": "x", "type": "msteams", "url_env": "A"},
                                 {"type": "slack", "url_env": "A"}, {"name": "x", "type": 3}]
    for spec in specs:
        base = example(spec)
        out.append(base)
        out += [{k: v for k, v in base.items() if k != key} for key in base]
        out += [{**base, option: value} for option, value in every.items()]
        out += [{**base, "events": []}, {**base, "events": ["fixed"]}, {**base, "name": "-x"},
                {**base, "events": ["cured", "cured"]}, {**base, "colour": "red"}]
        out += [{**base, option: bad} for option in spec.properties
                for bad in (None, "", 0, [], "has space", {"A": "1x"})]
    return out


def test_the_composed_schema_refuses_what_the_handwritten_one_did_plus_foreign_options():
    old = Draft202012Validator(HANDWRITTEN)
    new = Draft202012Validator(alerts_schema({t: CHANNELS[t] for t in KNOWN}))
    outcomes = set()
    for channel in corpus():
        doc = {"alerts": {"channels": [channel]}}
        spec = CHANNELS.get(channel.get("type"))
        own = spec is not None and set(channel) <= {*COMMON_KEYS, *spec.properties}
        assert new.is_valid(doc) == (old.is_valid(doc) and own), channel
        outcomes.add((old.is_valid(doc), own))
    # the corpus holds all four cases: valid, foreign option only, invalid before, both
    assert outcomes == {(True, True), (True, False), (False, True), (False, False)}


def test_the_rest_of_the_schema_is_the_handwritten_one():
    new = alerts_schema()
    assert {k: v for k, v in new.items() if k != "$defs"} == {
        k: v for k, v in HANDWRITTEN.items() if k != "$defs"}
    common, before = new["$defs"]["channel"]["properties"], HANDWRITTEN["$defs"]["channel"][
        "properties"]
    assert common["name"] == before["name"] and common["events"] == before["events"]
    assert common["type"]["enum"][: len(KNOWN)] == KNOWN  # same order, new types after


ANNOTATIONS = {"description", "default", "examples", "title"}


def validation(schema: Any, defs: dict[str, Any]) -> Any:
    """``schema`` with its ``$ref`` to ``#/$defs/...`` resolved and its annotations dropped."""
    if isinstance(schema, dict):
        if "$ref" in schema:
            ref = schema["$ref"].removeprefix("#/$defs/")
            schema = {**defs[ref], **{k: v for k, v in schema.items() if k != "$ref"}}
        return {k: validation(v, defs) for k, v in schema.items() if k not in ANNOTATIONS}
    if isinstance(schema, list):
        return [validation(v, defs) for v in schema]
    return schema


def handwritten_required(type_name: str) -> list[str]:
    out = []
    for branch in HANDWRITTEN["$defs"]["channel"]["allOf"]:
        when = branch["if"]["properties"]["type"]
        if type_name in when.get("enum", [when.get("const")]):
            out += branch["then"]["required"]
    return out


@pytest.mark.parametrize("type_name", KNOWN)
def test_each_option_keeps_its_handwritten_schema_and_requiredness(type_name):
    spec = CHANNELS[type_name]
    old_defs = HANDWRITTEN["$defs"]
    flat = old_defs["channel"]["properties"]
    for option, schema in spec.properties.items():
        assert validation(schema, old_defs) == validation(flat[option], old_defs), option
    assert sorted(spec.required) == sorted(handwritten_required(type_name))


def problems_of(tmp_path: Path, channel: dict[str, Any]) -> list[str]:
    """``path: message`` of each problem of an alerts file and of a sources file holding this
    one channel; the two must agree."""
    alerts = yaml.safe_dump({"alerts": {"channels": [channel]}}, sort_keys=False)
    (tmp_path / "alerts.yaml").write_text(alerts)
    (tmp_path / "sources.yaml").write_text(SOURCES + alerts)
    found = []
    for name, load in (("alerts.yaml", load_alerts), ("sources.yaml", load_sources)):
        try:
            load(tmp_path / name)
            found.append([])
        except InputError as exc:
            found.append([f"{p.path}: {p.message}" for p in exc.problems])
    assert found[0] == found[1]
    return found[0]


OPTIONS = {o for s in CHANNELS.values() for o in s.properties}
FOREIGN = [(s, o) for s in CHANNELS.values() for o in sorted(OPTIONS - set(s.properties))]


@pytest.mark.parametrize(("spec", "option"), FOREIGN, ids=[f"{s.type}+{o}" for s, o in FOREIGN])
def test_every_type_refuses_every_other_types_option(tmp_path, spec, option):
    owner = next(s for s in CHANNELS.values() if option in s.properties)
    allowed = ", ".join(sorted([*COMMON_KEYS, *spec.properties]))
    assert problems_of(tmp_path, {**example(spec), option: example(owner)[option]}) == [
        f"alerts.channels[0].{option}: unknown key(s) '{option}' (allowed: {allowed})"
    ]
