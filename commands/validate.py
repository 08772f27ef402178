"""``clausewatch validate FILE...``: check contract and sources files, report every problem."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from clausewatch.checks import CHECKS
from clausewatch.core.gc_policy import paused
from clausewatch.core.problems import InputError, Problem
from clausewatch.core.run import ExitCode
from clausewatch.pipeline.sources_file import load_sources
from clausewatch.policies.load import contract_from_document
from clausewatch.policies.yaml_source import read_yaml

NAME = "validate"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("files", nargs="+", type=Path, metavar="FILE",
                   help="contract or sources YAML files (told apart by their top-level key)")


def run(args: argparse.Namespace) -> int:
    """Validate contract and sources files (told apart by their top-level key)."""
    problems: list[Problem] = []
    for path in args.files:
        try:
            sys.stdout.write(f"{path}: ok ({_validate_one(path)})\n")
        except InputError as exc:
            problems += exc.problems
    if problems:
        raise InputError(problems)
    return ExitCode.OK


def _validate_one(path: Path) -> str:
    # Read once: a contract is validated from this very tree, and the tree is freed before
    # the garbage collector resumes (it would otherwise scan it again).
    with paused():
        doc = read_yaml(path)
        data = doc.data
        if isinstance(data, dict) and "sources" in data and "contract" not in data:
            del doc, data
            sources = load_sources(path)  # is_sources_file's rule, on the tree already read
            return ", ".join(f"{len(v)} {k} source(s)" for k, v in sources.entries.items())
        del data
        contract = contract_from_document(doc, CHECKS)
        del doc
    return f"{len(contract.commitments)} commitment(s), {len(contract.waivers)} waiver(s)"
