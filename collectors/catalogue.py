"""The source types ClauseWatch can collect from, and what a source needs to build its collectors.

Each source type is a module exposing ``ENTRY_SCHEMA`` (the JSON Schema of one entry of its
section of the sources file), optionally ``entry_problems(entry)`` (rules no schema can say) and
``build(entry, context) -> list[Collector]``. Adding a source is that module and one line in
:data:`CATALOGUE`. Modules are imported only when their section is used, so an AWS-only run
loads no Microsoft 365 code.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any, Protocol

from clausewatch.collectors.base import Collector
from clausewatch.collectors.raw import RawRecorder
from clausewatch.core.configuration import ConfigurationError, SetupProblem

#: section name of the sources file -> module of that source type.
CATALOGUE: Mapping[str, str] = {
    "aws": "clausewatch.collectors.aws.source",
    "m365": "clausewatch.collectors.m365.source",
    "veeam": "clausewatch.collectors.veeam.source",
    "gcp": "clausewatch.collectors.gcp.source",
    "workspace": "clausewatch.collectors.workspace.source",
    "wazuh": "clausewatch.collectors.wazuh.source",
    "defender": "clausewatch.collectors.defender.source",
    "attestations": "clausewatch.collectors.attestations.source",
}


class SecretSink(Protocol):
    def add(self, secret: str) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class BuildContext:
    """What a source needs to build its collectors (the command layer provides it)."""

    as_of: datetime
    raw: RawRecorder
    env: Mapping[str, str]
    base_dir: Path  # relative paths in the sources file resolve against its folder
    secrets: SecretSink  # every credential a build reads is registered here for redaction


def source_module(section: str) -> ModuleType:
    """The module of source type ``section`` (imported on first use)."""
    return importlib.import_module(CATALOGUE[section])


def entry_schemas(sections: Sequence[str] | None = None) -> dict[str, Any]:
    """Section name -> JSON Schema of the section (an array of entries)."""
    names = list(CATALOGUE) if sections is None else list(sections)
    return {name: {"type": "array", "items": source_module(name).ENTRY_SCHEMA} for name in names}


def build_collectors(
    entries: Mapping[str, Sequence[Mapping[str, Any]]], context: BuildContext
) -> list[Collector]:
    """Every collector of every entry, in file order.

    A source's ``build`` checks that it can be reached as configured (its credential, secret
    variables, login and host) and raises ``ConfigurationError`` when not; every entry is
    tried, so one ``ConfigurationError`` names every misconfigured source of the file.
    """
    out: list[Collector] = []
    problems: list[SetupProblem] = []
    for section, section_entries in entries.items():
        build = source_module(section).build
        for entry in section_entries:
            try:
                out += build(entry, context)
            except ConfigurationError as exc:
                problems += exc.problems
    if problems:
        raise ConfigurationError(problems)
    return out
