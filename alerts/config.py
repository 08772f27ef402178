"""The ``alerts:`` configuration: read from YAML, validated by JSON Schema, problems located.

The schema is composed from the channel registry (``alerts/schema.py``); a channel's options are
exactly those its type declares.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clausewatch.alerts.channels.base import ALL_EVENTS, COMMON_KEYS, ChannelConfig
from clausewatch.alerts.events import EventKind, Rules
from clausewatch.alerts.schema import alerts_schema
from clausewatch.core.problems import InputError
from clausewatch.policies.yaml_source import read_yaml, schema_problems

__all__ = [
    "ALL_EVENTS",
    "AlertConfig",
    "ChannelConfig",
    "Retry",
    "alerts_schema",
    "from_mapping",
    "load_alerts",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Retry:
    attempts: int = 4
    initial_wait_seconds: float = 1.0
    max_wait_seconds: float = 30.0


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertConfig:
    channels: tuple[ChannelConfig, ...]
    rules: Rules = field(default_factory=Rules)
    retry: Retry = field(default_factory=Retry)
    timeout_seconds: float = 10.0
    base_dir: Path = Path(".")  # relative paths (outbox, ca_file) are resolved from here


def load_alerts(path: Path | str) -> AlertConfig:
    """Read and validate an alerts file; ``InputError`` with file:line on any problem."""
    doc = read_yaml(path)
    problems = schema_problems(doc, alerts_schema())
    names: dict[str, int] = {}
    if not problems:
        for i, ch in enumerate(doc.data["alerts"]["channels"]):
            if ch["name"] in names:
                problems.append(
                    doc.problem(
                        ["alerts", "channels", i, "name"],
                        f"duplicate channel name {ch['name']!r} (also channel {names[ch['name']]})",
                    )
                )
            names.setdefault(ch["name"], i)
    if problems:
        raise InputError(problems)
    return from_mapping(doc.data["alerts"], base_dir=Path(path).resolve().parent)


def from_mapping(data: Mapping[str, Any], base_dir: Path = Path(".")) -> AlertConfig:
    """Build from an already validated ``alerts:`` mapping."""
    retry = data.get("retry", {})
    channels = []
    for ch in data["channels"]:
        options = {k: v for k, v in ch.items() if k not in COMMON_KEYS}
        events = frozenset(EventKind(e) for e in ch["events"]) if "events" in ch else ALL_EVENTS
        channels.append(
            ChannelConfig(name=ch["name"], type=ch["type"], events=events, options=options)
        )
    return AlertConfig(
        channels=tuple(channels),
        rules=Rules(
            reminder_days=float(data.get("reminder_days", 7)),
            waiver_warning_days=float(data.get("waiver_warning_days", 14)),
        ),
        retry=Retry(
            attempts=int(retry.get("attempts", 4)),
            initial_wait_seconds=float(retry.get("initial_wait_seconds", 1)),
            max_wait_seconds=float(retry.get("max_wait_seconds", 30)),
        ),
        timeout_seconds=float(data.get("timeout_seconds", 10)),
        base_dir=base_dir,
    )
