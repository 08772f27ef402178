"""The subcommands of ``clausewatch``, one module each.

A command module exposes ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> int``;
adding a command is that module and one line in :data:`COMMANDS`.
"""

from __future__ import annotations

from types import ModuleType

from clausewatch.commands import (
    alert,
    attest,
    checks,
    evaluate,
    keygen,
    report,
    run,
    schema,
    validate,
    verify,
)

#: The subcommands, in the order ``--help`` lists them.
COMMANDS: tuple[ModuleType, ...] = (
    validate,
    evaluate,
    run,
    report,
    alert,
    verify,
    attest,
    keygen,
    checks,
    schema,
)
