"""Hold a run's locks, and put right what a killed run left in the history and output folder.

The run holds the output folder's lock (``.<out>.lock`` beside it) and the history store's
(``<store>.lock``) from before collection to after publication, so an overlapping run is
refused (``StoreBusy``, exit 2) before it collects anything. Holding both, it first completes
or cleans a killed publication (``reports.staging.recover``), then settles each run the history
still marks unpublished: published if its output folder holds its results, else rolled back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from clausewatch.history.postgres import is_url
from clausewatch.history.store import (
    HistoryError,
    Location,
    StoreBusy,
    hold,
    hold_postgres,
    open_history,
)
from clausewatch.reports.staging import lock_path, recover

log = logging.getLogger("clausewatch")


@contextmanager
def locked(out: Path | None, history: Location | None,
           contract_id: str | None = None) -> Iterator[None]:
    """Hold the output folder's lock and the history store's for the body (PostgreSQL: the
    contract's lock, so that runs of other contracts proceed)."""
    with ExitStack() as stack:
        if out is not None:
            lock = lock_path(out)
            lock.parent.mkdir(parents=True, exist_ok=True)
            stack.enter_context(hold(out, lock_file=lock, what=f"output folder {out}"))
        if is_url(history):
            stack.enter_context(hold_postgres(str(history), contract_id))
        elif history is not None:
            stack.enter_context(hold(Path(history)))
        yield


def copy_published_pack(target: Path, dest: Path) -> None:
    """Keep a published output folder's pack as the zip ``dest`` in ``--pack-history``."""
    from clausewatch.reports.evidence_pack import PACK_DIR, keep_pack  # only a pack kept

    keep_pack(target / PACK_DIR, dest)


def archive_slot(history: Path | None, stage: Path) -> tuple[Path, str] | None:
    """The ``--pack-history`` slot of the pack staged in ``stage``: named by its chain."""
    if history is None:
        return None
    from clausewatch.reports.evidence_pack import PACK_DIR, kept_target  # only a pack kept

    kept = kept_target(stage / PACK_DIR, history.resolve())
    return kept.parent, kept.name


def published_run(out: Path) -> str | None:
    """The run id of the results an output folder holds, if any."""
    try:
        doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
        return str(doc["run"]["run_id"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def reconcile(history: Location | None, out: Path | None, contract_id: str | None = None) -> None:
    """Settle the runs ``history`` marks unpublished (call it holding the run's locks, after
    ``recover(out)``): published if their output folder holds their results, else rolled
    back. A run publishing to another folder that is busy now is left for later."""
    if history is None or (not is_url(history) and not Path(history).is_file()):
        return
    with open_history(history) as store:
        pending = store.unpublished(contract_id)
        for run in pending:
            folder = Path(run.output)
            try:
                with ExitStack() as stack:
                    if out is None or folder != out.resolve():
                        stack.enter_context(hold(folder, lock_file=lock_path(folder),
                                                 what=f"output folder {folder}"))
                        recover(folder, copy_published_pack)
                    found = published_run(folder)
            except StoreBusy:
                continue
            if found == run.run_id:
                store.mark_published(run.run_id)
                log.warning("history: run %s, killed while publishing, was published to %s",
                            run.run_id, folder)
            else:
                store.roll_back(run.run_id)
                log.warning("history: run %s, killed before its outputs were published to %s, "
                            "was rolled back", run.run_id, folder)


def mark_published(history: Location | None, run_id: str) -> None:
    """The outputs are in place: history marks the run published (if this fails, the next
    run does it, finding the run's results in the folder)."""
    if history is None:
        return
    try:
        with open_history(history) as store:
            store.mark_published(run_id)
    except HistoryError as exc:
        log.warning("%s; the next run will mark run %s published", exc, run_id)


def roll_back(history: Location | None, run_id: str) -> None:
    """The run failed before its outputs were in place: undo its history record."""
    if history is None:
        return
    try:
        with open_history(history) as store:
            store.roll_back(run_id)
    except HistoryError as exc:
        log.warning("%s; the next run will roll back run %s", exc, run_id)
