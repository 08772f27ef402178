"""``clausewatch schema``: print a JSON Schema shipped with ClauseWatch."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from clausewatch.alerts.config import alerts_schema
from clausewatch.collectors.jsonl import evidence_schema
from clausewatch.core.run import ExitCode
from clausewatch.policies.load import contract_schema
from clausewatch.reports import results_json

NAME = "schema"
SCHEMAS: dict[str, Callable[[], dict[str, Any]]] = {
    "alerts": alerts_schema,
    "contract": contract_schema,
    "evidence": evidence_schema,
    "results": results_json.results_schema,
}


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("which", choices=list(SCHEMAS), help="which schema to print")


def run(args: argparse.Namespace) -> int:
    sys.stdout.write(json.dumps(SCHEMAS[args.which](), indent=2, ensure_ascii=False) + "\n")
    return ExitCode.OK
