"""``clausewatch checks``: the checks a contract can use, and the params each accepts."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console

from clausewatch.checks import CHECKS
from clausewatch.core.run import ExitCode

NAME = "checks"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print the params schemas as JSON")


def run(args: argparse.Namespace) -> int:
    if args.json:
        doc = {name: dict(CHECKS[name].params_schema) for name in CHECKS}
        sys.stdout.write(json.dumps(doc, indent=2) + "\n")
        return ExitCode.OK
    console = Console()
    for name in CHECKS:
        spec = CHECKS[name]
        params = ", ".join(spec.params_schema.get("properties", {}))
        console.print(f"[bold]{name}[/bold]: {spec.summary}\n  params: {params}")
    return ExitCode.OK
