"""Long loops of a collector's event loop in short turns, so Graph's answers are read as they come.

The event loop that converts a page of 999 rows (or builds 999 records) is also the one that
reads the answers of the tenant's requests in flight: while it converts, those answers wait
unread and their gate slots stay taken, so fewer than the allowed requests are really at Graph.
``in_turns`` applies ``fn`` to each item, ``size`` items a turn, and between turns lets the loop
run its other tasks with ``await asyncio.sleep(0)``, asyncio's documented way for "long-running
functions to avoid blocking the event loop for the full duration of the function call"
(https://docs.python.org/3/library/asyncio-task.html#asyncio.sleep). The results, their order
and the first exception raised are those of ``[fn(item) for item in items]``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import TypeVar

In = TypeVar("In")
Out = TypeVar("Out")
#: Items per turn: a few milliseconds of conversion on a slow machine.
TURN = 100


async def in_turns(items: Iterable[In], fn: Callable[[In], Out], size: int = TURN) -> list[Out]:
    """``[fn(item) for item in items]``, letting the event loop turn every ``size`` items."""
    out: list[Out] = []
    step = max(1, size)
    for n, item in enumerate(items, 1):
        out.append(fn(item))
        if n % step == 0:
            await asyncio.sleep(0)
    return out
