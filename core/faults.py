"""Named steps of a run where a test can stop the process, to prove a kill leaves no half state.

Set ``CLAUSEWATCH_FAULT_AT=<step>`` (tests only) and the process sends itself SIGKILL when it
reaches that step; ``<step>:TERM`` or ``<step>:INT`` sends SIGTERM or SIGINT instead (and goes
on, as a real signal would let it). ``STEPS`` lists them in the order a run passes them.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "CLAUSEWATCH_FAULT_AT"

#: The steps of a run with an output folder, in order (see pipeline/run.py and reports/output.py).
STEPS = (
    "gathered",  # evidence collected, nothing written yet
    "stage-written",  # results, reports and pack written in the staging folder
    "alerts-delivered",  # alerts sent, alerts.json written into the stage, history not yet
    "history-recorded",  # history committed, the run marked unpublished
    "journal-written",  # the publication journal names the stage, the old folder, the run
    "old-moved",  # the previous output folder moved aside (.<out>.old-<pid>)
    "stage-moved",  # the stage renamed into place: the outputs are the new run's
    "marked-published",  # history marks the run published
    "archived",  # the pack copied into --pack-history
    "journal-removed",  # publication done; the old folder not yet removed
)

_SIGNALS = {"KILL": signal.SIGKILL, "TERM": signal.SIGTERM, "INT": signal.SIGINT}


def checkpoint(step: str) -> None:
    """Mark ``step``; stop the process here if ``$CLAUSEWATCH_FAULT_AT`` asks for it."""
    wanted = os.environ.get(FAULT_ENV)
    if not wanted:
        return
    name, _, sig = wanted.partition(":")
    if name == step:
        os.kill(os.getpid(), _SIGNALS.get(sig or "KILL", signal.SIGKILL))
