"""What the Google benchmark estates share: Google-style paging and a collection's setup.

``paged(items, key, size_param, cap)`` is a ``tests/google_stub.py`` route function: it reads
the page size the client sent (``pageSize`` / ``maxResults``, capped at ``cap``, the API's
documented maximum) and ``pageToken`` (an offset here), and answers ``{key: [...],
"nextPageToken": ...}`` as Google's list methods do (pages of ``cap`` items encoded
beforehand). ``collect(routes, latency, entry, build)``
serves ``routes`` on a stub with ``latency`` per request and times the real collectors of
``entry`` (signed in with a fresh service-account key whose token endpoint is the stub).

The stub runs in a child process (forked: the routes are not pickled): answering is the
server's work, and in the collectors' process it would hold their interpreter lock (about 0.3 s
of CPU for the Google Cloud estate). It keeps connections alive (HTTP/1.1) as Google's front
ends do. The child counts the requests it answered and the most it had in flight at once
(printed on stderr: the floor's concurrency is the bound the collectors keep).
"""

from __future__ import annotations

import json
import multiprocessing
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from multiprocessing.connection import Connection
from typing import Any

import rest_estates as kit

Query = dict[str, list[str]]


def paged(items: Sequence[Any], key: str, size_param: str, cap: int, default: int,
          extra: dict[str, Any] | None = None) -> Callable[[Query], dict[str, Any] | bytes]:
    def page(start: int, size: int) -> dict[str, Any]:
        body: dict[str, Any] = {**(extra or {}), key: list(items[start:start + size])}
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return body

    # The pages of the documented maximum (what the collectors ask) encoded once, beforehand:
    # encoding is the server's work, not the collector's, and not part of the latency.
    ready = {start: json.dumps(page(start, cap)).encode()
             for start in range(0, max(len(items), 1), cap)}

    def route(query: Query) -> dict[str, Any] | bytes:
        size = min(int((query.get(size_param) or [str(default)])[0]), cap)
        start = int((query.get("pageToken") or ["0"])[0])
        return ready[start] if size == cap and start in ready else page(start, size)
    return route


KEY_ENV = "BENCH_GOOGLE_KEY"
CREDENTIALS = {"key_file_env": KEY_ENV}


def _serve(routes: Mapping[str, Any], latency: float, conn: Connection) -> None:
    """The child: serve ``routes`` until told to stop, then send how many requests came."""
    from google_stub import GoogleStub

    stub = GoogleStub(dict(routes), keep_alive=True)
    kit.add_latency(stub, latency, "_respond")
    lock, now, peak = threading.Lock(), [0], [0]
    respond = stub._respond

    def counted(*args: Any) -> Any:  # requests in flight at the server, latency included
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        try:
            return respond(*args)
        finally:
            with lock:
                now[0] -= 1

    stub._respond = counted  # type: ignore[method-assign]
    with stub:
        conn.send(stub.url)
        conn.recv()
        conn.send((len(stub.requests), peak[0]))


@contextmanager
def served(routes: Mapping[str, Any], latency: float,
           label: str) -> Iterator[tuple[str, Callable[[], int]]]:
    """``(url, requests)``: a stub serving ``routes`` in a child process; ``requests()`` stops
    it and says how many requests it answered."""
    ours, theirs = multiprocessing.get_context("fork").Pipe()
    child = multiprocessing.get_context("fork").Process(target=_serve,
                                                        args=(routes, latency, theirs))
    child.start()
    count: list[tuple[int, int]] = []

    def requests() -> int:
        if not count:
            ours.send("stop")
            count.append(ours.recv())
            print(f"  ({label}: at most {count[0][1]} requests in flight at the stub)",
                  file=sys.stderr)
        return count[0][0]

    try:
        yield str(ours.recv()), requests
    finally:
        requests()
        child.join(10)


def collect(routes: Mapping[str, Any], latency: float, entry: Callable[[str], dict[str, Any]],
            build: Callable[[dict[str, Any], Any], Any], label: str) -> tuple[Any, float, int]:
    """The batch of ``build(entry(stub_url), context)``'s collectors, the seconds they took,
    and how many requests the stub answered."""
    from google_estate import AS_OF
    from google_helpers import key_file

    from clausewatch.collectors.catalogue import BuildContext
    from clausewatch.collectors.raw import RawRecorder
    from clausewatch.collectors.runner import collect_all
    from clausewatch.core.redact import Redactor

    folder = kit.scratch()
    with served(routes, latency, label) as (url, requests):
        path, _ = key_file(folder, url + "/token")
        redactor = Redactor()
        context = BuildContext(as_of=AS_OF, raw=RawRecorder(folder / "out", redactor),
                               env={KEY_ENV: str(path)}, base_dir=folder, secrets=redactor)
        source = entry(url)
        batch, seconds = kit.timed(lambda: collect_all(build(source, context)))
        count = requests()
    assert not batch.errors, [e.message for e in batch.errors[:3]]
    return batch, seconds, count
