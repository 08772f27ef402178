"""Facts about one run (who, when, with what), and the exit code the scheduler reads."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from importlib import metadata
from typing import Any

from clausewatch.core.clock import iso_z
from clausewatch.core.evaluation import Evaluation
from clausewatch.core.result import Status


class ExitCode(IntEnum):
    """What ``clausewatch`` returns; a nightly scheduler alerts on anything but 0."""

    OK = 0  # every commitment compliant, at risk or waived
    INTERNAL_ERROR = 1
    INVALID_INPUT = 2  # policy, sources, evidence file or arguments
    BREACHED = 3  # at least one commitment breached
    NO_EVIDENCE = 4  # no breach, but evidence missing for at least one commitment
    CONFIGURATION = 7  # a source cannot be reached as configured (credential, secret, host)
    OUTPUT_UNWRITABLE = 8  # output folder or history store: permission, read-only, disk full
    INTERRUPTED = 130  # SIGINT (Ctrl-C): 128 + 2, as a shell reports it
    TERMINATED = 143  # SIGTERM: 128 + 15


def exit_code_for(ev: Evaluation) -> ExitCode:
    """3 if anything is breached; else 4 if evidence is missing or any collection failed."""
    status = ev.status
    if status is Status.BREACHED:
        return ExitCode.BREACHED
    if status is Status.NO_EVIDENCE or ev.partial:
        return ExitCode.NO_EVIDENCE
    return ExitCode.OK


def tool_version() -> str:
    try:
        return metadata.version("clausewatch")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    """Identity of a run, recorded in results.json and the evidence pack."""

    as_of: datetime
    started_at: datetime
    finished_at: datetime | None = None
    run_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    tool_version: str = field(default_factory=tool_version)
    command: str = "evaluate"
    inputs: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        def iso(v: datetime | None) -> str | None:
            return iso_z(v) if v else None

        return {
            "run_id": self.run_id,
            "tool": "clausewatch",
            "tool_version": self.tool_version,
            "command": self.command,
            "as_of": iso(self.as_of),
            "started_at": iso(self.started_at),
            "finished_at": iso(self.finished_at),
            "inputs": self.inputs,
        }
