"""The portfolio file: the (contract, sources) pairs an MSP runs every night, and their shards.

    version: 1
    history: /var/lib/clausewatch/history.sqlite   # or postgresql://... (shared by every shard)
    output: /var/lib/clausewatch/out      # each contract writes <output>/<contract file stem>/
    contracts:
      - contract: customers/acme/contract.yaml
        sources: customers/acme/sources.yaml
      - contract: customers/morel/contrat.yaml
        sources: customers/morel/sources.yaml
        output: /srv/morel/clausewatch             # optional, per entry

Paths are relative to the portfolio file. **Shards** are deterministic: shard ``I`` of ``N``
(``0 <= I < N``) takes the entries whose position in the file is ``I`` modulo ``N``, so a
Kubernetes Indexed Job runs shard ``$JOB_COMPLETION_INDEX`` of ``completions`` and every entry
runs in exactly one shard. Adding entries at the end moves no existing entry to another shard
as long as ``N`` stays the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clausewatch.core.problems import InputError, Problem
from clausewatch.policies.yaml_source import read_yaml, schema_problems

SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "ClauseWatch portfolio file",
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "contracts"],
    "properties": {
        "version": {"const": 1},
        "history": {"type": "string", "minLength": 1,
                    "description": "history store shared by every entry: a path or postgresql://"},
        "output": {"type": "string", "minLength": 1,
                   "description": "parent folder of every entry's output folder"},
        "contracts": {
            "type": "array",
            "minItems": 1,
            "maxItems": 100000,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["contract", "sources"],
                "properties": {
                    "contract": {"type": "string", "minLength": 1},
                    "sources": {"type": "string", "minLength": 1},
                    "output": {"type": "string", "minLength": 1},
                },
            },
        },
    },
}


@dataclass(frozen=True, slots=True, kw_only=True)
class Entry:
    """One customer contract and the sources that measure it."""

    index: int  # position in the file, from 0
    contract: Path
    sources: Path
    output: Path


@dataclass(frozen=True, slots=True, kw_only=True)
class PortfolioFile:
    file: Path
    history: str | None
    entries: tuple[Entry, ...]

    def shard(self, index: int, count: int) -> tuple[Entry, ...]:
        """The entries of shard ``index`` of ``count`` (see the module docstring)."""
        if count < 1 or not 0 <= index < count:
            raise ValueError(f"shard {index}/{count}: need 0 <= I < N")
        return tuple(e for e in self.entries if e.index % count == index)


def parse_shard(text: str) -> tuple[int, int]:
    """``--shard I/N`` -> (I, N)."""
    left, sep, right = text.partition("/")
    try:
        if not sep:
            raise ValueError
        index, count = int(left), int(right)
    except ValueError:
        raise ValueError(f"--shard {text!r}: expected I/N, e.g. 0/4") from None
    if count < 1 or not 0 <= index < count:
        raise ValueError(f"--shard {text}: need 0 <= I < N")
    return index, count


def load_portfolio(path: Path) -> PortfolioFile:
    """Read and validate a portfolio file; ``InputError`` with every problem located."""
    doc = read_yaml(path)
    problems = schema_problems(doc, SCHEMA)
    if problems:
        raise InputError(problems)
    base = path.resolve().parent
    data = doc.data
    default_out = base / data.get("output", "clausewatch-out")
    entries: list[Entry] = []
    seen: dict[Path, int] = {}
    for i, item in enumerate(data["contracts"]):
        contract = base / item["contract"]
        output = base / item["output"] if "output" in item else default_out / contract.stem
        entries.append(Entry(index=i, contract=contract, sources=base / item["sources"],
                             output=output))
        if output.resolve() in seen:
            problems.append(doc.problem(
                ["contracts", i],
                f"writes to the same output folder as entry {seen[output.resolve()]} "
                f"({output}): give it its own 'output'"))
        seen[output.resolve()] = i
    problems += _missing(doc, entries)
    if problems:
        raise InputError(problems)
    history = data.get("history")
    if history is not None and "://" not in history:
        history = str(base / history)
    return PortfolioFile(file=path, history=history, entries=tuple(entries))


def _missing(doc: Any, entries: Sequence[Entry]) -> list[Problem]:
    out = []
    for e in entries:
        for key, target in (("contract", e.contract), ("sources", e.sources)):
            if not target.is_file():
                out.append(doc.problem(["contracts", e.index, key], f"no such file: {target}"))
    return out
