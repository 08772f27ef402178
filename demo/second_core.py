"""A list of pure computations shared with a forked child process on the second core.

``shared(items, compute, ...)`` yields ``compute(item)`` for each item, in order. The parent
computes the first items; meanwhile a child forked from it (the same memory, nothing to
import or rebuild) computes the last ``share`` of them and sends each result back pickled, in
order, through a pipe. It is used only where it cannot change an answer: ``compute`` must be
deterministic and touch nothing shared (the child's copy of memory is its own), and whatever
the child did not deliver whole (it failed, was killed, sent a truncated message), the parent
computes itself. Without ``os.fork`` (Windows), off Linux or with one CPU, the parent computes
everything, and so it does when the last minute's load left no CPU idle (``os.getloadavg``):
on a busy machine the child would only take turns with the parent, and cost its pickling.
"""

from __future__ import annotations

import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable, Generator, Sequence
from typing import IO, Any, TypeVar

T = TypeVar("T")
R = TypeVar("R")
_LENGTH = struct.Struct("<Q")


def cpus() -> int:
    """The CPUs this process may run on."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def idle_cpu() -> bool:
    """Whether a second CPU is there and was idle, the last minute's load says (Linux only)."""
    if not (sys.platform.startswith("linux") and hasattr(os, "fork")):
        return False
    try:
        load = os.getloadavg()[0]
    except OSError:
        return False
    n = cpus()
    return n >= 2 and n - load >= 0.5  # our own run counts in the load: half a CPU to spare


def shared(
    items: Sequence[T],
    compute: Callable[[T], R],
    *,
    pack: Callable[[R], Any],
    unpack: Callable[[Any], R],
    share: float = 0.5,
    fork: bool | None = None,
) -> Generator[R, None, None]:
    """``compute(item)`` for each of ``items``, in order; the last ``share`` of them computed in
    a forked child meanwhile (``pack`` makes a result picklable, ``unpack`` makes it whole).
    ``fork``: whether to fork (default: where there is an idle CPU, ``idle_cpu``)."""
    tail = min(len(items), round(len(items) * share))
    if tail == 0 or not (idle_cpu() if fork is None else fork):
        yield from map(compute, items)
        return
    head = len(items) - tail
    child = _Child.fork(items[head:], compute, pack)
    try:
        yield from map(compute, items[:head])
        for item in items[head:]:
            packed = child.receive()
            yield compute(item) if packed is _NONE else unpack(packed)
    finally:
        child.end()


_NONE = object()  # nothing (more) from the child: the parent computes the item itself


class _Child:
    def __init__(self, pid: int, reader: IO[bytes]) -> None:
        self.pid = pid
        self.reader: IO[bytes] | None = reader

    @classmethod
    def fork(cls, items: Sequence[T], compute: Callable[[T], R],
             pack: Callable[[R], Any]) -> _Child:
        sys.stdout.flush()  # the child inherits no buffered output to write a second time
        sys.stderr.flush()
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: compute, send, and leave without running the parent's exits
            code = 1
            try:
                os.close(read_fd)
                for s in (signal.SIGINT, signal.SIGTERM):
                    signal.signal(s, signal.SIG_DFL)  # a Ctrl-C or kill stops it at once
                with os.fdopen(write_fd, "wb") as out:
                    for item in items:
                        data = pickle.dumps(pack(compute(item)), pickle.HIGHEST_PROTOCOL)
                        out.write(_LENGTH.pack(len(data)))
                        out.write(data)
                        out.flush()
                code = 0
            finally:
                os._exit(code)  # whatever happened, the parent computes what was not sent
        os.close(write_fd)
        return cls(pid, os.fdopen(read_fd, "rb"))

    def receive(self) -> Any:
        """The child's next result, or ``_NONE`` once it has none to give (it then stops)."""
        if self.reader is None:
            return _NONE
        try:
            head = self.reader.read(_LENGTH.size)
            if len(head) == _LENGTH.size:
                (size,) = _LENGTH.unpack(head)
                data = self.reader.read(size)
                if len(data) == size:
                    return pickle.loads(data)
        except (OSError, pickle.UnpicklingError, EOFError):
            pass
        self.end()
        return _NONE

    def end(self) -> None:
        """Stop the child if it still runs and reap it."""
        if self.reader is not None:
            self.reader.close()
            self.reader = None
        if self.pid:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except (ProcessLookupError, ChildProcessError):  # already reaped (SIGCHLD ignored)
                pass
            self.pid = 0
