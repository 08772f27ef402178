"""The alert channel registry: type name -> ``ChannelSpec``, in the order listed here.

A channel is one module of this package that declares ``CHANNEL = ChannelSpec(...)`` (its type
name, the JSON Schema of its options, whether it needs HTTP, its ``send``); adding one is that
module and one line in :data:`MODULES`. The alerts schema (``alerts/schema.py``) and delivery
(``alerts/deliver.py``) both iterate this registry.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping

from clausewatch.alerts.channels.base import ChannelSpec

#: The modules of the registered channels, one line each.
MODULES: tuple[str, ...] = (
    "clausewatch.alerts.channels.webhook",
    "clausewatch.alerts.channels.slack",
    "clausewatch.alerts.channels.teams",
    "clausewatch.alerts.channels.email",
    "clausewatch.alerts.channels.pagerduty",
    "clausewatch.alerts.channels.outbox",
)


def load(modules: tuple[str, ...] = MODULES) -> Mapping[str, ChannelSpec]:
    """Type name -> spec of each module's ``CHANNEL``; a module without one, or two modules
    declaring the same type, is a programming error (``TypeError``/``ValueError``)."""
    specs: dict[str, ChannelSpec] = {}
    for name in modules:
        spec = getattr(importlib.import_module(name), "CHANNEL", None)
        if not isinstance(spec, ChannelSpec):
            raise TypeError(f"{name} declares no CHANNEL = ChannelSpec(...)")
        if spec.type in specs:
            raise ValueError(f"channel type {spec.type!r} registered twice ({name})")
        specs[spec.type] = spec
    return specs


CHANNELS: Mapping[str, ChannelSpec] = load()


def channel(type_name: str) -> ChannelSpec | None:
    """The spec of channel type ``type_name``, or None for a type nobody registered."""
    return CHANNELS.get(type_name)
