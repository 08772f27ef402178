"""The ``attestations`` section of the sources file: stores written by ``clausewatch attest``.

    sources:
      attestations:
        - name: pra                           # origin attestations/pra
          store: attestations/                # the store folder, relative to this file
          systems:                            # systems that must be attested (become assets)
            - subject: si-morel               # the subject attestations name (--system)
              name: "SI Morel (site de secours)"
              asset_kind: system              # default
              tags: {pra: annual}

An attestation may also name a subject another source inventories (a Veeam VM,
``veeam:vbr01:srv-erp-01``): its restore test joins that asset. No credential is involved; the
store is a local folder (docs/attest.md).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from clausewatch.collectors.attestations.collector import AttestationCollector
from clausewatch.collectors.base import Collector
from clausewatch.collectors.catalogue import BuildContext

ENTRY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "Attestation store (clausewatch attest)",
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "store"],
    "properties": {
        "name": {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]*$",
                 "description": "names the store in origins (attestations/<name>)"},
        "store": {"type": "string", "minLength": 1,
                  "description": "the store folder (attestations.jsonl and reports/), "
                  "relative to the sources file"},
        "systems": {
            "type": "array",
            "description": "systems that must have attested tests: each becomes an asset, so "
            "one nobody attested is breached rather than absent",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["subject"],
                "properties": {
                    "subject": {"type": "string", "minLength": 1, "maxLength": 512},
                    "name": {"type": "string", "minLength": 1},
                    "asset_kind": {"type": "string", "minLength": 1, "default": "system"},
                    "tags": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
        },
    },
}


def entry_problems(entry: Mapping[str, Any]) -> Iterator[tuple[list[Any], str]]:
    """A system declared twice."""
    seen: dict[str, int] = {}
    for i, system in enumerate(entry.get("systems") or ()):
        subject = system.get("subject") if isinstance(system, Mapping) else None
        if not isinstance(subject, str):
            continue
        if subject in seen:
            yield ["systems", i, "subject"], \
                f"system {subject!r} is declared twice (first as systems[{seen[subject]}])"
        else:
            seen[subject] = i


def store_path(entry: Mapping[str, Any], base_dir: Path) -> Path:
    """The entry's store folder (relative paths resolve against the sources file's folder)."""
    return (base_dir / str(entry["store"])).resolve()


def build(entry: Mapping[str, Any], context: BuildContext) -> list[Collector]:
    """One collector for the store."""
    return [AttestationCollector(
        entry["name"], store_path(entry, context.base_dir), context.raw, context.as_of,
        tuple(entry.get("systems") or ()))]
