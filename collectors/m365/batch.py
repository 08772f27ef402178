"""Graph JSON batching for per-object reads: up to 20 GETs in one ``POST /$batch``.

https://learn.microsoft.com/graph/json-batching: a batch holds at most 20 requests; each answer
carries its own ``status``, ``headers`` and ``body``, possibly out of order (matched by ``id``);
a ``200`` for the batch says nothing of its items; "requests in a batch are evaluated
individually against the applicable throttling limits and if any request exceeds the limits, it
fails with a status of ``429``". The items here are independent reads, so no ``dependsOn``.

Each item's URL is built by the SDK's own request builder (``to_get_request_information``), made
relative to the adapter's version root as the batch format wants. The SDK expands its URI
template (RFC 6570, std-uritemplate: about 0.5 ms a URL, character by character) once per
shape: template, path parameter names and query; the expansion is made with a placeholder for
each path parameter, and each item's values are put in its place when every value is a non-empty
run of unreserved characters (``A-Z a-z 0-9 - . _ ~``), which RFC 6570 section 3.2.1 copies as
they are in every kind of expansion. Any other value (or a shape whose placeholder does not come
out exactly once) is expanded by the SDK in full. The batch POST goes through
the client's adapter: same token (``CachedCredential``), same middleware (a throttled or failed
*batch* is retried by ``BoundedRetryHandler``), same tenant gate, where a batch waits behind
the listings' pages (``gate.fan_out``). Every item, and the batch,
carries ``Prefer: include-unknown-enum-members``.

Per item:

* 2xx: kept in the raw page of its batch answer, ``{"items": [{"url", "status", "body"}, ...]}``
  (the absolute URL each answers, the 2xx items of one answer in the order they were sent; one
  file per answer, not per item: creating 9,600 small files cost about 0.35 ms each). Its
  ``raw_ref`` is that page's, ``raw/...-<n>.json#sha256=<hex>``, followed by ``&item=<k>``: entry
  ``k`` (from 0) of ``items``, so evidence still traces back to exactly one object's answer (see
  :func:`item_ref`). An ``@odata.nextLink`` in it is requested in a following batch (it must
  point under the adapter's base URL, else the item fails: no request leaves for a host the run
  was not given);
* 429 / 503 / 504: retried in a following batch after its ``Retry-After`` (or capped backoff),
  at most ``max_retries`` times, each wait drawn from the entry's ``RetryBudget`` and pausing the
  tenant's gate; a wait above ``max_wait`` or beyond the budget is not made;
* anything else, or retries exhausted: a ``GraphFailure`` for that item alone (the caller
  decides what it bears on). A batch that fails as a whole fails each of its items.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.method import Method
from kiota_abstractions.request_adapter import RequestAdapter
from kiota_abstractions.request_information import RequestInformation

from clausewatch.collectors.m365.clients import RetryPolicy
from clausewatch.collectors.m365.gate import THROTTLED, fan_out
from clausewatch.collectors.m365.graph import (
    INCLUDE_UNKNOWN_ENUMS,
    PREFER,
    GraphFailure,
    GraphReader,
    malformed,
    parse_json,
    root_of,
    send_bytes,
    status_failure,
    under_root,
)
from clausewatch.collectors.m365.retry import parse_retry_after

MAX_ITEMS = 20
RETRY_STATUSES = frozenset({429, 503, 504})
#: RFC 6570 unreserved characters: copied as they are by every expression type (3.2.1)
UNRESERVED = re.compile(r"[A-Za-z0-9._~-]+")
#: A URL shape: (path parameter names in URL order, the literal text around them)
Shape = tuple[tuple[str, ...], tuple[str, ...]]
_EXPRESSION = re.compile(r"\{[+#./;?&]?([^}]*)\}")  # RFC 6570 2.2: operator, variable list


def _variables(template: str) -> frozenset[str]:
    """The variable names of a URI template (2.3: modifiers ``:n`` and ``*`` dropped)."""
    return frozenset(re.sub(r"(:\d+|\*)$", "", spec) for expression in
                     _EXPRESSION.findall(template) for spec in expression.split(","))


@dataclass(frozen=True, slots=True)
class Request:
    """One read to batch: ``key`` names it to the caller; ``builder`` is the SDK's request
    builder for it and ``query`` its query parameters (the builder's own dataclass)."""

    key: str
    builder: Any
    query: Any = None


@dataclass(frozen=True, slots=True)
class Answer:
    """One page of one item: its JSON body and the ``raw_ref`` it was kept as."""

    key: str
    body: Any
    raw_ref: str
    url: str

    def values(self, operation: str) -> list[Any]:
        """The page's ``value`` array; a page without one is a failure, never an empty list."""
        found = self.body.get("value") if isinstance(self.body, dict) else None
        if not isinstance(found, list):
            raise malformed(operation, "no 'value' array", self.raw_ref)
        return found


Outcome = list[Answer] | GraphFailure  # every page of the item, or why it failed


class BatchReader:
    """Batched GETs for one collector, on its client's adapter, under its retry policy."""

    def __init__(self, reader: GraphReader, adapter: RequestAdapter, retry: RetryPolicy,
                 *, size: int = MAX_ITEMS) -> None:
        self.reader = reader
        self.adapter = adapter
        self.retry = retry
        self.size = max(1, min(size, MAX_ITEMS))
        self._shapes: dict[tuple[str, tuple[str, ...], str], Shape | None] = {}
        self._templates: dict[str, frozenset[str]] = {}

    @property
    def root(self) -> str:
        return root_of(self.adapter)

    def relative(self, request: Request) -> str:
        """The item URL, relative to the version root (``/users/{id}/mailboxSettings?...``):
        the SDK's expansion of its shape with the item's values in place (see the module)."""
        params, template = request.builder.path_parameters, request.builder.url_template
        used = self._templates.get(template)
        if used is None:
            used = self._templates[template] = _variables(template)
        names = tuple(sorted(k for k in params if k in used and k != "baseurl"))
        if names and all(isinstance(v, str) and UNRESERVED.fullmatch(v)
                         for v in (params[k] for k in names)):
            key = (template, names, repr(request.query))
            if key not in self._shapes:
                self._shapes[key] = self._shape(request, names)
            shape = self._shapes[key]
            if shape is not None:
                order, text = shape
                out = [text[0]]
                for name, after in zip(order, text[1:], strict=True):
                    out += (params[name], after)
                return under_root(self.root, "".join(out))
        return under_root(self.root, self._expand(request, {}))

    def _expand(self, request: Request, values: dict[str, str]) -> str:
        """The SDK's own expansion of ``request``'s URL, ``values`` replacing path parameters."""
        config = RequestConfiguration(query_parameters=request.query)
        info = request.builder.to_get_request_information(request_configuration=config)
        info.path_parameters = {**info.path_parameters, **values, "baseurl": self.root}
        return str(info.url)

    def _shape(self, request: Request, names: tuple[str, ...]) -> Shape | None:
        """The expansion of ``request``'s shape around a placeholder per path parameter; None
        when a placeholder does not come out exactly once."""
        marks = {name: f"zz{n}clausewatchslot{n}zz" for n, name in enumerate(names)}
        url = self._expand(request, marks)
        if any(url.count(mark) != 1 for mark in marks.values()):
            return None
        order = tuple(sorted(names, key=lambda name: url.index(marks[name])))
        text = re.split("|".join(marks[name] for name in order), url)
        return order, tuple(text)

    async def get(self, requests: Iterable[Request], operation: str) -> dict[str, Outcome]:
        """Every page of every request, batched ``size`` at a time, batches concurrently (the
        tenant gate bounds how many are in flight)."""
        todo: list[tuple[str, str]] = []
        out: dict[str, Outcome] = {}
        for r in requests:
            try:
                todo.append((r.key, self.relative(r)))
            except ValueError as exc:
                out[r.key] = GraphFailure(operation, f"{operation}: {exc}")
        chunks = [todo[i:i + self.size] for i in range(0, len(todo), self.size)]
        for part in await asyncio.gather(*(self._chunk(c, operation) for c in chunks)):
            out.update(part)
        return out

    async def _chunk(self, items: Sequence[tuple[str, str]], operation: str
                     ) -> dict[str, Outcome]:
        """One batch's items to the end: next pages and retries go in following batches."""
        pending = list(items)
        attempts: dict[tuple[str, str], int] = {}
        pages: dict[str, list[Answer]] = {key: [] for key, _ in items}
        failed: dict[str, GraphFailure] = {}
        while pending:
            sent, pending = pending[:self.size], pending[self.size:]
            try:
                answers = await self._post(sent, operation)
            except GraphFailure as exc:
                for key, _ in sent:
                    failed[key] = exc
                continue
            again: list[tuple[str, str, int | None]] = []
            wait = 0.0
            kept: list[tuple[str, str, dict[str, Any]]] = []  # (key, url, raw entry) of 2xx items
            for n, (key, url) in enumerate(sent):
                status, headers, body = _parts(answers.get(str(n)))
                if status is not None and 200 <= status < 300:
                    kept.append((key, url, {"url": self.root + url, "status": status,
                                            "body": body}))
                    continue
                tries = attempts.get((key, url), 0)
                if (status is None or status in RETRY_STATUSES) and tries < self.retry.max_retries:
                    delay = self._delay(status, headers, tries)
                    if delay is not None:
                        attempts[(key, url)] = tries + 1
                        again.append((key, url, status))
                        wait = max(wait, delay)
                        continue
                failed[key] = _item_failure(operation, status, body, url)
            if kept:
                pending += self._keep(kept, pages, failed, operation)
            if again and self.retry.budget.reserve(wait):
                await asyncio.sleep(wait)
                pending = [(key, url) for key, url, _ in again] + pending
            else:
                for key, url, status in again:
                    failed[key] = _item_failure(operation, status, None, url,
                                                f"; not retried: {self.retry.budget.describe()}")
        return {key: failed.get(key, pages[key]) for key, _ in items}

    def _keep(self, kept: Sequence[tuple[str, str, dict[str, Any]]],
              pages: dict[str, list[Answer]], failed: dict[str, GraphFailure], operation: str
              ) -> list[tuple[str, str]]:
        """Save one answer's 2xx items as one raw page, each item's ``Answer`` naming its entry;
        return the next pages to ask (a next link elsewhere fails its item)."""
        ref = self.reader.raw.save(self.reader.source, self.reader.origin, operation,
                                   {"items": [entry for _, _, entry in kept]})
        following_pages: list[tuple[str, str]] = []
        for k, (key, url, entry) in enumerate(kept):
            mine = item_ref(ref, k)
            pages[key].append(Answer(key, entry["body"], mine, self.root + url))
            following = _next_link(entry["body"])
            if following:
                try:
                    following_pages.append((key, under_root(self.root, following)))
                except ValueError:
                    failed[key] = GraphFailure(
                        operation, f"{operation}: next link {following} is not under "
                        f"{self.root} (raw page {mine})", details={"raw_ref": mine})
        return following_pages

    def _delay(self, status: int | None, headers: dict[str, str], tries: int) -> float | None:
        """The wait before an item's retry, or None when it is above ``max_wait``; a throttled
        item (429, 503) also slows the tenant's gate for everyone."""
        header = headers.get("retry-after")
        wait = parse_retry_after(header) if header is not None else None
        if status in THROTTLED:
            self.retry.gate.throttled(wait)
        if wait is not None:
            return wait if wait <= self.retry.max_wait_seconds else None
        backoff = self.retry.backoff_base_seconds * 2 ** tries + random.uniform(0, 0.25)
        return float(min(backoff, self.retry.max_wait_seconds))

    async def _post(self, items: Sequence[tuple[str, str]], operation: str
                    ) -> dict[str, dict[str, Any]]:
        """Send one batch; its answers by item id (ids are the items' positions)."""
        payload = {"requests": [{"id": str(n), "method": "GET", "url": url,
                                 "headers": {PREFER: INCLUDE_UNKNOWN_ENUMS}}
                                for n, (_, url) in enumerate(items)]}
        info = RequestInformation(Method.POST, "{+baseurl}/$batch")
        info.headers.try_add("Content-Type", "application/json")
        info.headers.try_add("Accept", "application/json")
        info.headers.add(PREFER, INCLUDE_UNKNOWN_ENUMS)
        info.content = json.dumps(payload).encode()
        what = f"{operation} ($batch of {len(items)})"
        with fan_out():  # behind the listings' pages at the tenant gate (gate.fan_out)
            raw = await send_bytes(self.adapter, info, operation, what)
        body = parse_json(raw)
        responses = body.get("responses") if isinstance(body, dict) else None
        if not isinstance(responses, list):
            raise GraphFailure(operation, f"{what}: malformed answer (no 'responses' array)",
                               retryable=True)
        out: dict[str, dict[str, Any]] = {}
        for r in responses:
            if isinstance(r, dict) and isinstance(r.get("id"), str) and r["id"] not in out:
                out[r["id"]] = r
        return out


def item_ref(page_ref: str, k: int) -> str:
    """The ``raw_ref`` of entry ``k`` of a batch answer's raw page ``page_ref``."""
    return f"{page_ref}&item={k}"


def _parts(item: Any) -> tuple[int | None, dict[str, str], Any]:
    """(status, lower-cased headers, body) of one answer; status None when it is missing or
    malformed (read as a transient failure: retried, then reported)."""
    if not isinstance(item, dict):
        return None, {}, None
    status = item.get("status")
    given = item.get("headers")
    headers: dict[Any, Any] = given if isinstance(given, dict) else {}
    lowered = {str(k).lower(): str(v) for k, v in headers.items()}
    if not isinstance(status, int) or isinstance(status, bool):
        return None, lowered, item.get("body")
    return status, lowered, item.get("body")


def _next_link(body: Any) -> str | None:
    link = body.get("@odata.nextLink") if isinstance(body, dict) else None
    return link if isinstance(link, str) and link else None


def _item_failure(operation: str, status: int | None, body: Any, url: str,
                  extra: str = "") -> GraphFailure:
    if status is None:
        return GraphFailure(operation, f"{operation}: no usable answer for {url} in the "
                            f"$batch response{extra}", retryable=True, details={"url": url})
    err = body.get("error") if isinstance(body, dict) else None
    code = err.get("code") if isinstance(err, dict) else None
    message = err.get("message") if isinstance(err, dict) else None
    exc = status_failure(operation, status, code if isinstance(code, str) and code else None,
                         str(message or f"HTTP {status}") + extra)
    exc.details["url"] = url
    return exc
