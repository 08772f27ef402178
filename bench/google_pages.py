"""Google-style paging for the benchmark estates: a route function serving a big list as asked.

``paged(items, key, size_param, cap)`` is a ``tests/google_stub.py`` route function: it reads
the page size the client sent (``pageSize`` / ``maxResults``, capped at ``cap``, the API's
documented maximum) and ``pageToken`` (an offset here), and answers ``{key: [...],
"nextPageToken": ...}`` as Google's list methods do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

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
