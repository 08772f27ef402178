"""The channel registry: every channel module registered, the schema composed from it, delivery
driven by it (a type that needs HTTP gets a client without anything else to update)."""

from __future__ import annotations

import importlib
import json
import pkgutil
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from nights import B, contract, evaluation, info, night

import clausewatch.alerts.channels as channels_package
from clausewatch.alerts.channels import registry
from clausewatch.alerts.channels.base import COMMON_KEYS, ChannelSpec, Context
from clausewatch.alerts.config import AlertConfig, ChannelConfig, Retry, load_alerts
from clausewatch.alerts.deliver import deliver
from clausewatch.alerts.events import Rules, detect
from clausewatch.alerts.message import Digest
from clausewatch.alerts.notify import make_digest
from clausewatch.alerts.schema import alerts_schema, common_properties
from clausewatch.cli import main
from clausewatch.core.problems import InputError
from clausewatch.history.store import Prior
from clausewatch.pipeline.sources_file import load_sources

NOT_CHANNELS = {"base", "registry"}  # the package's shared modules


def unregistered(modules: tuple[str, ...]) -> list[str]:
    """Modules of the channels package that define a channel but are not in ``modules``."""
    out = []
    for info_ in pkgutil.iter_modules(channels_package.__path__):
        if info_.name in NOT_CHANNELS:
            continue
        name = f"{channels_package.__name__}.{info_.name}"
        module = importlib.import_module(name)
        defines = hasattr(module, "CHANNEL") or callable(getattr(module, "send", None))
        if defines and name not in modules:
            out.append(name)
    return out


def test_registry_is_exhaustive():
    assert unregistered(registry.MODULES) == []
    # the check itself: a channel module left out of MODULES is found
    without_slack = tuple(m for m in registry.MODULES if not m.endswith(".slack"))
    assert unregistered(without_slack) == ["clausewatch.alerts.channels.slack"]


def test_every_module_of_the_package_is_a_channel_or_shared():
    names = {i.name for i in pkgutil.iter_modules(channels_package.__path__)} - NOT_CHANNELS
    for name in names:
        spec = importlib.import_module(f"clausewatch.alerts.channels.{name}").CHANNEL
        assert isinstance(spec, ChannelSpec) and spec.type == name
    assert set(registry.CHANNELS) == names


def test_load_refuses_a_module_without_a_spec_and_a_type_registered_twice():
    with pytest.raises(TypeError, match="message declares no CHANNEL"):
        registry.load(("clausewatch.alerts.message",))
    with pytest.raises(ValueError, match="'slack' registered twice"):
        registry.load(("clausewatch.alerts.channels.slack",) * 2)


def _send(digest: Digest, ctx: Context) -> str:
    return "sent"


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"properties": {"a": {}}, "additionalProperties": False}, "'additionalProperties'"),
        ({"properties": {"events": {}}}, "option 'events' clashes with a common key"),
        ({"properties": {"a": {}}, "required": ["b"]}, "required 'b' is not an option"),
    ],
)
def test_a_spec_that_cannot_be_composed_is_refused(options, expected):
    with pytest.raises(ValueError, match=expected):
        ChannelSpec(type="x", options=options, needs_http=False, send=_send)


def test_the_composed_schema_is_valid_and_names_the_common_keys():
    Draft202012Validator.check_schema(alerts_schema())
    assert tuple(common_properties()) == COMMON_KEYS
    assert alerts_schema()["$defs"]["channel"]["properties"]["type"]["enum"] == list(
        registry.CHANNELS)


SPECS = list(registry.CHANNELS.values())


def _file(tmp_path: Path, channel: dict[str, Any], *, sources: bool) -> Path:
    doc: dict[str, Any] = {"alerts": {"channels": [channel]}}
    if sources:
        doc = {"version": 1, "sources": {"aws": [{"name": "a", "regions": ["eu-west-3"]}]}, **doc}
    path = tmp_path / ("sources.yaml" if sources else "alerts.yaml")
    path.write_text(json.dumps(doc, indent=2))  # JSON is YAML
    return path


def _problems(path: Path, *, sources: bool) -> list[str]:
    try:
        (load_sources if sources else load_alerts)(path)
    except InputError as exc:
        return [str(p) for p in exc.problems]
    return []


@pytest.mark.parametrize("sources", [False, True], ids=["alerts-file", "sources-file"])
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.type)
def test_every_type_takes_all_its_options_and_refuses_another_types(tmp_path, spec, sources):
    (example,) = spec.options["examples"]
    assert set(example) == set(spec.properties)  # the example shows every option
    channel = {"name": "ch", "type": spec.type, **example}
    assert _problems(_file(tmp_path, channel, sources=sources), sources=sources) == []
    if not sources:
        (cfg,) = load_alerts(_file(tmp_path, channel, sources=False)).channels
        assert (cfg.type, dict(cfg.options)) == (spec.type, example)

    foreign = next(k for s in SPECS for k in s.properties if k not in spec.properties)
    other = next(s for s in SPECS if foreign in s.properties)
    channel[foreign] = other.options["examples"][0][foreign]
    allowed = ", ".join(sorted([*COMMON_KEYS, *spec.properties]))
    (problem,) = _problems(_file(tmp_path, channel, sources=sources), sources=sources)
    assert problem.endswith(
        f"alerts.channels[0].{foreign}: unknown key(s) '{foreign}' (allowed: {allowed})")


@pytest.mark.parametrize("spec", [s for s in SPECS if s.required], ids=lambda s: s.type)
def test_each_required_option_is_required(tmp_path, spec):
    for key in spec.required:
        channel = {"name": "ch", "type": spec.type, **spec.options["examples"][0]}
        del channel[key]
        (problem,) = _problems(_file(tmp_path, channel, sources=False), sources=False)
        assert problem.endswith(f"alerts.channels[0]: '{key}' is required")


def test_schema_command_prints_the_composed_schema(capsys):
    assert main(["schema", "alerts"]) == 0
    assert json.loads(capsys.readouterr().out) == alerts_schema()


def _digest() -> Digest:
    ev = evaluation(contract(), night(0), {"srv-1": B})
    return make_digest(ev, info(night(0), "r1"), detect(Prior(), ev, Rules()))


def test_delivery_follows_the_registry_and_gives_http_channels_a_client(monkeypatch):
    seen: dict[str, object] = {}

    def recorder(name: str):
        def send(digest: Digest, ctx: Context) -> str:
            seen[name] = ctx.http
            return f"{name} got {len(digest.events)}"
        return send

    fakes = {
        "chatty": ChannelSpec(type="chatty", options={}, needs_http=True, send=recorder("chatty")),
        "local": ChannelSpec(type="local", options={}, needs_http=False, send=recorder("local")),
    }
    monkeypatch.setattr(registry, "CHANNELS", fakes)
    cfg = AlertConfig(
        channels=(ChannelConfig(name="a", type="chatty"), ChannelConfig(name="b", type="local"),
                  ChannelConfig(name="c", type="webhook")),
        retry=Retry(attempts=1),
    )
    a, b, c = deliver(_digest(), cfg, env={})
    assert (a.ok, a.detail, b.ok, b.detail) == (True, "chatty got 1", True, "local got 1")
    assert isinstance(seen["chatty"], httpx.Client) and seen["local"] is None
    # a type no module registers fails its own delivery, not the run
    assert (c.ok, c.attempts, c.detail) == (False, 0, "unknown channel type 'webhook'")
