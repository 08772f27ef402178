"""Helpers of the per-source collection benchmarks (bench/collect_<source>.py).

Not a benchmark module itself (collect_bench.py runs only ``collect_*.py``). It puts the tests'
local fakes (tests/*_fake.py, tests/google_stub.py) on the import path, adds a fixed latency to
every request a fake answers (slept outside the fake's lock, so concurrent requests overlap as
on a real server) and times a collection.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

TESTS = Path(__file__).resolve().parents[1] / "tests"
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))


def add_latency(fake: Any, latency: float, method: str = "answer") -> None:
    """Every call of ``fake.<method>`` (the fake's request handler) first sleeps ``latency``."""
    answer = getattr(fake, method)

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(latency)
        return answer(*args, **kwargs)

    setattr(fake, method, slow)


@contextmanager
def serving(start: Callable[[], Any]) -> Iterator[Any]:
    """A started ``ThreadingHTTPServer`` (from ``start()``), shut down afterwards."""
    server = start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def scratch() -> Path:
    """A fresh folder for the raw pages a collection writes."""
    return Path(tempfile.mkdtemp(prefix="clausewatch-collect-bench-"))


def timed(run: Callable[[], Any]) -> tuple[Any, float]:
    """``run()``'s result and the wall-clock seconds it took."""
    start = time.perf_counter()
    out = run()
    return out, time.perf_counter() - start


def pages(items: int, per_page: int) -> int:
    """Pages a list of ``items`` takes at ``per_page`` (an empty list still takes one)."""
    return max(1, -(-items // per_page))
