"""The history-and-alerts step of a run, as the CLI calls it from ``publish``.

Order, and why: the store is locked, the previous state read, the events detected and delivered,
``alerts.json`` written into the stage, then the run recorded in one transaction with the
delivery report (as unpublished while its output folder is being published). A run killed
after delivering but before committing sends its alerts again next night (at least once, never
silently lost); a run killed before committing leaves the history as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from clausewatch.core.faults import checkpoint
from clausewatch.history.store import DEFAULT_PATH, Location, open_history

if TYPE_CHECKING:  # what only a recorded run needs is imported by ``publish``
    from clausewatch.alerts.config import AlertConfig
    from clausewatch.alerts.notify import AlertOutcome
    from clausewatch.core.evaluation import Evaluation
    from clausewatch.core.run import RunInfo

HISTORY_FILE = "history.sqlite"
OUTBOX_FILE = "outbox.jsonl"
ALERTS_FILE = "alerts.json"


@dataclass(frozen=True, slots=True, kw_only=True)
class Nightly:
    """Where this run's history and alerts go (``None``: not recorded, not alerted)."""

    history: Location | None = None
    alerts: AlertConfig | None = None
    contract_text: str = ""

    @classmethod
    def from_args(cls, history: Location | None, alerts: AlertConfig | None, text: str) -> Nightly:
        if alerts is not None and history is None:
            history = DEFAULT_PATH  # transitions need a memory
        return cls(history=history, alerts=alerts, contract_text=text)

    def publish(
        self,
        stage: Path | None,
        ev: Evaluation,
        info: RunInfo,
        *,
        publishing: Path | None = None,
    ) -> AlertOutcome | None:
        """Send the run's alerts, write ``alerts.json`` into ``stage`` if given, then record
        the run; ``publishing``: the output folder it goes to (recorded as unpublished until
        ``HistoryStore.mark_published``)."""
        if self.history is None:
            return None
        # imported here: a run not recorded (``evaluate`` alone) loads no alert channel, HTTP
        # client, history standing or output writer
        from clausewatch.alerts.notify import notify
        from clausewatch.history.standing import standing
        from clausewatch.reports.output import write_text_atomic

        with open_history(self.history, contract_id=ev.contract.id) as store:
            prior = store.prior(ev.contract.id)
            outcome = notify(prior, ev, info, self.alerts, standing=standing(store, ev))
            if stage is not None:
                write_text_atomic(stage / ALERTS_FILE, outcome.dumps())
            checkpoint("alerts-delivered")
            store.record(ev, info, contract_text=self.contract_text,
                         deliveries=outcome.deliveries,
                         publishing=None if publishing is None else str(publishing))
        return outcome
