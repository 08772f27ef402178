"""Progress of a collection in the terminal (rich), one line per source and origin."""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

from clausewatch.collectors.base import Collector


class CollectionProgress:
    """Context manager and ``runner.Progress`` callback: a bar for the whole collection and a
    line printed as each collector finishes (or fails)."""

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]collecting[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=True,
        )
        self._task = self._progress.add_task("", total=0)
        self._lock = threading.Lock()

    def __enter__(self) -> CollectionProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def __call__(self, collector: Collector, event: str) -> None:
        name = f"{collector.source} {collector.origin}"
        with self._lock:
            if event == "start":
                total = self._progress.tasks[0].total or 0
                self._progress.update(self._task, total=total + 1)
                return
            self._progress.advance(self._task)
            self._progress.update(self._task, description=name)
            mark = "[red]failed[/red]" if event == "failed" else "[green]done[/green]"
            self._progress.console.print(f"  {mark} {name}", highlight=False)
