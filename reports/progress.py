"""Progress in the terminal (rich), on stderr and only when stderr is a terminal: a cron log or
a pipe gets the summary alone, never spinner frames or bars.

``CollectionProgress`` follows a collection (a bar, a line as each collector finishes);
``StageProgress`` follows the stages of ``evaluate`` and of the demo (a spinner naming the
stage, a bar when a stage says how many steps it has). Both speak the run's language: their
words are message ids of ``core/messages.py`` (``progress_*``) rendered by a ``Catalogue``.
"""

from __future__ import annotations

import threading
from types import TracebackType

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.text import Text

from clausewatch.collectors.base import Collector
from clausewatch.core.i18n import DEFAULT, Catalogue

ENGLISH = Catalogue(DEFAULT)


class _Live:
    def __init__(self, progress: Progress) -> None:
        self._progress = progress

    @property
    def enabled(self) -> bool:
        return not self._progress.disable

    def __enter__(self) -> _Live:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()


class CollectionProgress(_Live):
    """Context manager and ``runner.Progress`` callback: a bar for the whole collection and a
    line printed as each collector finishes (or fails), in ``cat``'s language."""

    def __init__(self, console: Console, cat: Catalogue = ENGLISH) -> None:
        self._cat = cat
        super().__init__(Progress(
            SpinnerColumn(),
            TextColumn(f"[bold]{escape(cat.t('progress_collecting'))}[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ))
        self._task = self._progress.add_task("", total=0)
        self._lock = threading.Lock()

    def __enter__(self) -> CollectionProgress:
        super().__enter__()
        return self

    def __call__(self, collector: Collector, event: str) -> None:
        name = f"{collector.source} {collector.origin}"
        with self._lock:
            if event == "start":
                total = self._progress.tasks[0].total or 0
                self._progress.update(self._task, total=total + 1)
                return
            self._progress.advance(self._task)
            self._progress.update(self._task, description=name)
            if self.enabled:
                mark = (f"[red]{escape(self._cat.t('progress_failed'))}[/red]"
                        if event == "failed"
                        else f"[green]{escape(self._cat.t('progress_done'))}[/green]")
                self._progress.console.print(f"  {mark} {escape(name)}", highlight=False)


class _Steps(MofNCompleteColumn):
    """``12/90`` for a stage that gives its number of steps; nothing for one that does not."""

    def render(self, task: Task) -> Text:
        return super().render(task) if task.total is not None else Text("")


class StageProgress(_Live):
    """A spinner naming the current stage (``stage("progress_reading", path=...)``: a message id
    and its values, said in ``cat``'s language), with a bar when the stage gives its number of
    steps (``stage("progress_backfill", total=90, n=90)`` then ``advance()``). Nothing is drawn
    when the console is not a terminal."""

    def __init__(self, console: Console, cat: Catalogue = ENGLISH) -> None:
        self._cat = cat
        super().__init__(Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            _Steps(),
            TimeElapsedColumn(),
            console=console,
            transient=True,
            disable=not console.is_terminal,
        ))
        self._task: TaskID | None = None

    def __enter__(self) -> StageProgress:
        super().__enter__()
        return self

    def __call__(self, key: str, total: int | None = None, **values: object) -> None:
        """Start the stage ``key`` (the previous one is done)."""
        if self._task is not None:
            self._progress.remove_task(self._task)
        self._task = self._progress.add_task(escape(self._cat.t(key, **values)), total=total)

    def advance(self, steps: int = 1) -> None:
        if self._task is not None:
            self._progress.advance(self._task, steps)
