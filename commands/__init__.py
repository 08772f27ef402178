"""The subcommands of ``clausewatch``, one module each.

A command module exposes ``NAME``, ``add_arguments(parser)`` and ``run(args) -> int`` (and may
set ``DESCRIPTION`` and ``EPILOG``); adding a command is that module and one line in
:data:`COMMANDS`, which holds each command's name and help line only: ``--help`` lists every
command without importing one, and a run imports the module of the command chosen alone.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True, slots=True)
class Command:
    """A subcommand as ``--help`` lists it; :meth:`load` imports its module."""

    name: str
    help: str

    def load(self) -> ModuleType:
        """The command's module (``clausewatch.commands.<name>``), imported on first use."""
        return importlib.import_module(f"{__name__}.{self.name}")


#: The subcommands, in the order ``--help`` lists them.
COMMANDS: tuple[Command, ...] = (
    Command("validate", "check contract and sources files; report every problem"),
    Command("evaluate", "evaluate a contract against a JSON Lines evidence file"),
    Command("run", "collect, evaluate and report (--demo: the built-in demo)"),
    Command("report", "render the report of a contract period from the history"),
    Command("portfolio",
            "roll up every contract of the history: status, attainment, breaches, exposure, trend"),
    Command("history", "manage the run history: migrate a SQLite store into PostgreSQL"),
    Command("alert", "alert channels"),
    Command("verify", "check an evidence pack: hashes, signature, chain, and re-evaluation"),
    Command("attest",
            "record a manual restore test or disaster-recovery exercise, with its signed report"),
    Command("keygen", "write an Ed25519 key pair to sign evidence packs"),
    Command("checks", "list the checks and the params each accepts"),
    Command("schema", "print a JSON Schema shipped with ClauseWatch"),
)
