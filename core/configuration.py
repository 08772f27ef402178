"""Configuration problems: a source that cannot be reached as the sources file sets it up.

A missing credential, an unset secret variable, an unknown profile, a logged-out CLI, a refused
login or a host that cannot be reached when the run starts is not missing evidence: no
collector could have read anything there, and the next night will fail the same way. Each
source checks these before it collects (its ``build``); the run stops before collecting,
writing nothing, and exits ``ExitCode.CONFIGURATION`` (7) with one line per problem naming the
source, what is wrong and the fix. An account that refuses access, or an API that fails, once
the source is reachable, stays a collection error (``no_evidence``, exit 4).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True, order=True)
class SetupProblem:
    """One source that cannot be reached: ``aws source 'prod': no credentials found; set ...``."""

    source: str  # e.g. "aws source 'prod'"
    problem: str  # what is wrong
    fix: str  # what to do about it

    def __str__(self) -> str:
        return f"{self.source}: {self.problem}; {self.fix}"


class ConfigurationError(Exception):
    """Raised with every configuration problem found (across all the sources of a run)."""

    def __init__(self, problems: Sequence[SetupProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def source_label(section: str, name: str) -> str:
    """How a problem names its source: ``aws source 'prod'``."""
    return f"{section} source {name!r}"
