"""The alerts file's JSON Schema, composed from the channel registry.

The common keys of a channel (``name``, ``type``, ``events``) are declared here; each registered
type adds, through one ``if type == X then ...`` branch, exactly the options its spec declares,
with its required ones. An option of another type is refused as an unknown key of that channel,
listing the keys the type allows (if/then rather than oneOf, so each problem is one located line).
``clausewatch schema alerts`` prints it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from clausewatch.alerts.channels.base import ALL_EVENTS, COMMON_KEYS, ChannelSpec
from clausewatch.alerts.channels.registry import CHANNELS
from clausewatch.alerts.events import ORDER

SCHEMA_ID = "https://clausewatch.dev/schema/alerts.schema.json"



def common_properties(channels: Mapping[str, ChannelSpec] = CHANNELS) -> dict[str, Any]:
    """The schemas of the keys every channel has (``base.COMMON_KEYS``)."""
    return {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$"},
        "type": {"enum": list(channels)},
        "events": {
            "type": "array",
            "minItems": 1,
            "uniqueItems": True,
            "items": {"enum": [str(k) for k in ORDER if k in ALL_EVENTS]},
            "description": "Which events this channel receives (default: all).",
        },
    }


def _branch(spec: ChannelSpec) -> dict[str, Any]:
    """``if type is spec.type then`` exactly its options (and the common keys) are allowed."""
    return {
        "if": {"properties": {"type": {"const": spec.type}}, "required": ["type"]},
        "then": {
            "required": list(spec.required),
            "properties": {**{k: True for k in COMMON_KEYS}, **spec.properties},
            "additionalProperties": False,
        },
    }


def channel_schema(channels: Mapping[str, ChannelSpec] = CHANNELS) -> dict[str, Any]:
    """The schema of one entry of ``alerts.channels``."""
    return {
        "type": "object",
        "required": ["name", "type"],
        "properties": common_properties(channels),
        "allOf": [_branch(spec) for spec in channels.values()],
    }


def alerts_schema(channels: Mapping[str, ChannelSpec] = CHANNELS) -> dict[str, Any]:
    """The whole alerts file (``alerts:`` at the top; the sources file embeds that section)."""
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "ClauseWatch alerts",
        "description": "Where alerts go and when. Secrets (webhook URLs, routing keys, "
        "passwords) are never written here: each is named by the environment variable that "
        "holds it.",
        "type": "object",
        "additionalProperties": False,
        "required": ["alerts"],
        "properties": {
            "alerts": {
                "type": "object",
                "additionalProperties": False,
                "required": ["channels"],
                "properties": {
                    "reminder_days": {
                        "type": "number", "minimum": 0, "default": 7,
                        "description": "Remind every this many days while a breach lasts "
                        "(0: never).",
                    },
                    "waiver_warning_days": {
                        "type": "number", "minimum": 0, "default": 14,
                        "description": "Warn this many days before a waiver expires.",
                    },
                    "timeout_seconds": {
                        "type": "number", "exclusiveMinimum": 0, "maximum": 120, "default": 10,
                    },
                    "retry": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "attempts": {
                                "type": "integer", "minimum": 1, "maximum": 10, "default": 4,
                            },
                            "initial_wait_seconds": {
                                "type": "number", "minimum": 0, "maximum": 60, "default": 1,
                            },
                            "max_wait_seconds": {
                                "type": "number", "minimum": 0, "maximum": 300, "default": 30,
                            },
                        },
                    },
                    "channels": {
                        "type": "array", "minItems": 1, "items": {"$ref": "#/$defs/channel"},
                    },
                },
            }
        },
        "$defs": {"channel": channel_schema(channels)},
    }
