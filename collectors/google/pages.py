"""Read a Google listing whole, every page kept raw, as the JSON Google documents.

The client libraries' pagers fetch pages lazily and raise in the middle of an iteration when a
later page fails, after the items of the first pages were handed out. These helpers read every
page before returning anything: a listing is complete or it raises, so a partial list never
looks complete. Each page is turned into Google's JSON (camelCase, int64 as strings, enums by
name, timestamps in RFC 3339: ``MessageToDict``), recorded, and returned with its ``raw_ref``;
normalisers read those dicts, the same shape the demo and stored raw pages have.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from google.protobuf.json_format import MessageToDict
from google.protobuf.message import Message

from clausewatch.collectors.google.retry import RetrySettings
from clausewatch.collectors.raw import RawRecorder

Json = dict[str, Any]


def message_dict(message: Any) -> Json:
    """A proto-plus or protobuf message as Google's JSON."""
    pb = getattr(message, "_pb", message)
    if not isinstance(pb, Message):
        raise TypeError(f"not a protobuf message: {type(message).__name__}")
    return MessageToDict(pb, preserving_proto_field_name=False)


@dataclass(frozen=True, slots=True)
class PageSink:
    """Where pages of one collector go: the run's raw recorder, under its source and origin."""

    raw: RawRecorder
    source: str
    origin: str

    def save(self, operation: str, page: Json, origin: str | None = None) -> str:
        return self.raw.save(self.source, origin or self.origin, operation, page)


def gapic_pages(pages: Iterable[Any], sink: PageSink, operation: str,
                origin: str | None = None) -> list[tuple[Json, str]]:
    """Every page of a client-library pager (``pager.pages``), read whole."""
    out: list[tuple[Json, str]] = []
    for page in pages:
        body = message_dict(page)
        out.append((body, sink.save(operation, body, origin)))
    return out


def discovery_pages(collection: Any, method: str, sink: PageSink, retry: RetrySettings,
                    operation: str, origin: str | None = None,
                    **params: Any) -> list[tuple[Json, str]]:
    """Every page of a discovery-client list method (``list`` then ``list_next``), read whole.

    ``list_next`` returns None when a page has no ``nextPageToken``; a ``fields`` mask must keep
    ``nextPageToken``, or paging would stop after the first page without a word.
    """
    return [(body, sink.save(operation, body, origin))
            for body in each_discovery_body(collection, method, retry, operation, **params)]


def each_discovery_body(collection: Any, method: str, retry: RetrySettings, operation: str,
                        **params: Any) -> Iterator[Json]:
    """The pages of a listing as they come, *not yet recorded*: for a reader on another
    thread (``together.Prefetch``) whose consumer records each (``PageSink.save``) before
    using it."""
    fields = params.get("fields")
    if fields is not None and "nextPageToken" not in fields:
        raise ValueError(f"{operation}: a fields mask must include nextPageToken")
    request = getattr(collection, method)(**params)
    after: Callable[[Any, Any], Any] = getattr(collection, f"{method}_next")
    while request is not None:
        body = _execute(request, retry)
        if not isinstance(body, dict):
            raise TypeError(f"{operation}: a page is not a JSON object")
        yield body
        request = after(request, body)


def _execute(request: Any, retry: RetrySettings) -> Any:
    """``request.execute()`` under the entry's retry (googleapiclient's own retry off), each
    attempt holding the entry's gate (not while it waits to retry)."""

    def once() -> Any:
        with retry.gate:
            return request.execute(num_retries=0)

    return retry.call(once)


def discovery_get(request: Any, sink: PageSink, retry: RetrySettings, operation: str,
                  origin: str | None = None) -> tuple[Json, str]:
    """One discovery-client request (a ``get``), recorded."""
    body = _execute(request, retry)
    if not isinstance(body, dict):
        raise TypeError(f"{operation}: the answer is not a JSON object")
    return body, sink.save(operation, body, origin)
