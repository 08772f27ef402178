"""Run collectors concurrently with a bounded pool, showing progress, losing nothing."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed

from clausewatch.collectors.base import Collector
from clausewatch.collectors.jsonl import EvidenceBatch
from clausewatch.core.evidence import CollectionError, Evidence, Kind, RunWarning

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
    warnings are logged (the terminal shows them) and kept in the batch's ``warnings``."""
    evidence: list[Evidence] = []
    errors: list[CollectionError] = []
    warnings: list[RunWarning] = []
    done: dict[int, list[Item]] = {}
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="collect") as pool:
        futures = {}
        for i, c in enumerate(collectors):
            if progress:
                progress(c, "start")
            futures[pool.submit(_drain, c)] = i
        for fut in as_completed(futures):
            i = futures[fut]
            done[i] = fut.result()
            if progress:
                failed = any(isinstance(x, CollectionError) for x in done[i])
                progress(collectors[i], "failed" if failed else "done")
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
