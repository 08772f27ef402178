"""Run collectors concurrently with a bounded pool, showing progress, losing nothing."""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Sequence

from clausewatch.collectors.base import Collector
from clausewatch.collectors.jsonl import EvidenceBatch
from clausewatch.core.evidence import CollectionError, Evidence, Kind, RunWarning
from clausewatch.core.gc_policy import collecting

log = logging.getLogger(__name__)
Progress = Callable[[Collector, str], None]  # (collector, "start" | "done" | "failed")


Item = Evidence | CollectionError | RunWarning


def _drain(collector: Collector) -> list[Item]:
    """Everything one collector yields; an unexpected crash becomes a CollectionError."""
    items: list[Item] = []
    try:
        items.extend(collector.collect())
    except Exception as exc:  # a bug or an SDK surprise: recorded, never swallowed
        log.exception("collector %s at %s crashed", collector.source, collector.origin)
        kinds = tuple(collector.kinds) or tuple(k.value for k in Kind)  # none declared: all
        items.append(
            CollectionError(
                source=collector.source,
                origin=collector.origin,
                kinds=kinds,
                message=f"collector crashed: {type(exc).__name__}: {exc}",
                operation="collect",
            )
        )
    return items


def collect_all(
    collectors: Sequence[Collector], workers: int = 8, progress: Progress | None = None
) -> EvidenceBatch:
    """Run every collector (at most ``workers`` at once); results in a stable order. Run
    warnings are logged (the terminal shows them) and kept in the batch's ``warnings``.

    The workers are daemon threads: when the main thread is stopped (Ctrl-C, SIGTERM raise
    ``core.interrupt.Stopped`` there), no collector still waiting on an API keeps the process
    alive; the ones not started yet are not started. The cyclic garbage collector follows
    ``core.gc_policy.collecting`` meanwhile (restored on the way out, however it is left)."""
    todo: queue.SimpleQueue[int] = queue.SimpleQueue()
    finished: queue.SimpleQueue[tuple[int, list[Item]]] = queue.SimpleQueue()
    stop = threading.Event()
    for i, c in enumerate(collectors):
        if progress:
            progress(c, "start")
        todo.put(i)

    def work() -> None:
        while not stop.is_set():
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            finished.put((i, _drain(collectors[i])))

    done: dict[int, list[Item]] = {}
    with collecting():
        for n in range(min(max(1, workers), len(collectors))):
            threading.Thread(target=work, name=f"collect-{n}", daemon=True).start()
        try:
            while len(done) < len(collectors):
                try:
                    i, items = finished.get(timeout=0.5)  # wakes to let a signal handler run
                except queue.Empty:
                    continue
                done[i] = items
                if progress:
                    failed = any(isinstance(x, CollectionError) for x in items)
                    progress(collectors[i], "failed" if failed else "done")
        finally:
            stop.set()
    evidence: list[Evidence] = []
    errors: list[CollectionError] = []
    warnings: list[RunWarning] = []
    for i in range(len(collectors)):
        for item in done[i]:
            if isinstance(item, CollectionError):
                errors.append(item)
            elif isinstance(item, RunWarning):
                log.warning("%s", item.text())
                warnings.append(item)
            else:
                evidence.append(item)
    return EvidenceBatch(evidence, errors, warnings)
