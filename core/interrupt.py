"""SIGINT and SIGTERM as an exception the run can clean up after, and sections they wait for.

``install`` (the CLI does it) makes both signals raise ``Stopped`` in the main thread, so a
Ctrl-C or a ``kill`` unwinds the run like any failure: the staging folder is removed, the
history transaction rolled back, the locks released, and the CLI exits 130 or 143. Inside a
``deferred()`` section (the last renames of a publication) a signal is held and raised when the
section ends, so a run is never stopped half published.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType

HANDLED = (signal.SIGINT, signal.SIGTERM)


class Stopped(BaseException):  # noqa: N818 (not an error: a request to stop)
    """The process was asked to stop by a signal. A ``BaseException``, like
    ``KeyboardInterrupt``, so that no ``except Exception`` swallows it."""

    def __init__(self, signum: int, *, published: bool = False) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.published = published  # the run was published before the signal was acted on

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class _State:
    depth = 0
    pending: int | None = None


def _handler(signum: int, _frame: FrameType | None) -> None:
    if _State.depth > 0:
        _State.pending = signum
        return
    raise Stopped(signum)


def install() -> Callable[[], None]:
    """Make SIGINT and SIGTERM raise ``Stopped``; return what restores the previous handlers.
    Does nothing outside the main thread (only it may set handlers)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous = {s: signal.signal(s, _handler) for s in HANDLED}

    def restore() -> None:
        for s, handler in previous.items():
            signal.signal(s, handler)
        _State.depth, _State.pending = 0, None

    return restore


@contextmanager
def deferred() -> Iterator[None]:
    """Hold SIGINT/SIGTERM while the body runs; raise ``Stopped`` after it if one came."""
    _State.depth += 1
    try:
        yield
    finally:
        _State.depth -= 1
        if _State.depth == 0 and _State.pending is not None:
            signum, _State.pending = _State.pending, None
            raise Stopped(signum)
