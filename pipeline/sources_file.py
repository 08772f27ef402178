"""The sources file (``sources.yaml``): which sources to collect and how to reach them.

Credentials are never written in it: an entry names a profile, a role, an environment variable
or a file. Each source type owns the JSON Schema of one entry of its section and a ``build``
function that turns a validated entry into ready collectors (``collectors/catalogue.py``). The file
also carries the run's settings: history store, output folder and alerts.

    version: 1
    concurrency: 8
    sources:
      aws:
        - name: production-org
          ...
      m365:
        - name: morel-tenant
          ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from clausewatch.alerts.config import alerts_schema
from clausewatch.collectors.base import Collector
from clausewatch.collectors.catalogue import (
    CATALOGUE,
    BuildContext,
    build_collectors,
    entry_schemas,
    source_module,
)
from clausewatch.core.problems import InputError
from clausewatch.pipeline.archive import SCHEMA as ARCHIVE_SCHEMA
from clausewatch.policies.yaml_source import read_yaml, schema_problems


@dataclass(frozen=True, slots=True, kw_only=True)
class SourcesConfig:
    """A validated sources file."""

    file: str
    entries: Mapping[str, Sequence[Mapping[str, Any]]]
    concurrency: int = 8
    settings: Mapping[str, Any] = field(default_factory=dict)

    def build(self, context: BuildContext) -> list[Collector]:
        """Every collector of every entry, in file order."""
        return build_collectors(self.entries, context)


def sources_schema(sections: Sequence[str] | None = None) -> dict[str, Any]:
    """The whole file's JSON Schema, composed from each source type's entry schema."""
    alerts = alerts_schema()  # the run's alerts may live here too
    return {
        "$defs": alerts.get("$defs", {}),
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ClauseWatch sources file",
        "type": "object",
        "additionalProperties": False,
        "required": ["version", "sources"],
        "properties": {
            "version": {"const": 1},
            "concurrency": {"type": "integer", "minimum": 1, "maximum": 64},
            "history": {"type": "string", "description": "path of the run-history store"},
            "output": {"type": "string", "description": "default output folder"},
            "archive": {
                "type": "object",
                "additionalProperties": False,
                "properties": {"s3": ARCHIVE_SCHEMA},
            },
            "alerts": alerts["properties"]["alerts"],
            "sources": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": entry_schemas(sections),
            },
        },
    }


def _sections_named(data: object) -> list[str]:
    """The known source types a sources file names: only their modules are imported to
    validate it (so an AWS-only file loads no Microsoft 365 or Google code). A section no
    source type owns is still refused, by ``additionalProperties: false``."""
    sources = data.get("sources") if isinstance(data, dict) else None
    if not isinstance(sources, dict):
        return []
    return [name for name in sources if name in CATALOGUE]


def is_sources_file(path: Path | str) -> bool:
    """True for a sources file: a top-level ``sources:`` and no ``contract:``."""
    doc = read_yaml(path)
    return isinstance(doc.data, dict) and "sources" in doc.data and "contract" not in doc.data


def load_sources(path: Path | str) -> SourcesConfig:
    """Read and validate a sources file; raise ``InputError`` with every problem located."""
    doc = read_yaml(path)
    problems = schema_problems(doc, sources_schema(_sections_named(doc.data)))
    if problems:
        raise InputError(problems)
    data = doc.data
    for section, entries in data["sources"].items():
        check = getattr(source_module(section), "entry_problems", None)
        if check is None:
            continue
        for i, entry in enumerate(entries):
            for where, message in check(entry):
                problems.append(doc.problem(["sources", section, i, *where], message))
    if problems:
        raise InputError(problems)
    return SourcesConfig(
        file=str(path),
        entries=data["sources"],
        concurrency=data.get("concurrency", 8),
        settings={k: v for k, v in data.items() if k not in ("sources", "version")},
    )
