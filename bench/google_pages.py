"""What the Google benchmark estates share: Google-style paging and a collection's setup.

``paged(items, key, size_param, cap)`` is a ``tests/google_stub.py`` route function: it reads
the page size the client sent (``pageSize`` / ``maxResults``, capped at ``cap``, the API's
documented maximum) and ``pageToken`` (an offset here), and answers ``{key: [...],
"nextPageToken": ...}`` as Google's list methods do. ``collect(routes, latency, entry, build)``
serves ``routes`` on a stub with ``latency`` per request and times the real collectors of
``entry`` (signed in with a fresh service-account key whose token endpoint is the stub).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import rest_estates as kit

Query = dict[str, list[str]]


def paged(items: Sequence[Any], key: str, size_param: str, cap: int, default: int,
          extra: dict[str, Any] | None = None) -> Callable[[Query], dict[str, Any]]:
    def route(query: Query) -> dict[str, Any]:
        size = min(int((query.get(size_param) or [str(default)])[0]), cap)
        start = int((query.get("pageToken") or ["0"])[0])
        body: dict[str, Any] = {**(extra or {}), key: list(items[start:start + size])}
        if start + size < len(items):
            body["nextPageToken"] = str(start + size)
        return body
    return route


KEY_ENV = "BENCH_GOOGLE_KEY"
CREDENTIALS = {"key_file_env": KEY_ENV}


def collect(routes: Mapping[str, Any], latency: float, entry: Callable[[str], dict[str, Any]],
            build: Callable[[dict[str, Any], Any], Any]) -> tuple[Any, float, int]:
    """The batch of ``build(entry(stub_url), context)``'s collectors, the seconds they took,
    and how many requests the stub answered."""
    from google_estate import AS_OF
    from google_helpers import key_file
    from google_stub import GoogleStub

    from clausewatch.collectors.catalogue import BuildContext
    from clausewatch.collectors.raw import RawRecorder
    from clausewatch.collectors.runner import collect_all
    from clausewatch.core.redact import Redactor

    stub = GoogleStub(dict(routes))
    kit.add_latency(stub, latency, "_respond")
    folder = kit.scratch()
    with stub:
        path, _ = key_file(folder, stub.url + "/token")
        redactor = Redactor()
        context = BuildContext(as_of=AS_OF, raw=RawRecorder(folder / "out", redactor),
                               env={KEY_ENV: str(path)}, base_dir=folder, secrets=redactor)
        source = entry(stub.url)
        batch, seconds = kit.timed(lambda: collect_all(build(source, context)))
    assert not batch.errors, [e.message for e in batch.errors[:3]]
    return batch, seconds, len(stub.requests)
