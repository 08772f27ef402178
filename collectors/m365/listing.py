"""Bulk Graph listings read light: msgraph-sdk sends the request, msgspec decodes the page.

For the large collections (users, the registration report, managed devices) building the SDK's
kiota model of every object costs milliseconds per object, for fields ClauseWatch never reads.
Here the SDK's own request builder makes the request (``to_get_request_information``: URL
template, ``$select``/``$top``, ``Accept``), and its request adapter sends it
(``send_primitive_async(info, "bytes", ...)``: kiota's documented way to have the body back
unparsed) through the same authentication, middleware, bounded retries, tenant gate and
error map (``ODataError``) as every other call. The body is then:

* kept as the raw page, as Graph sent it (``GraphReader.keep``): evidence names it;
* decoded by msgspec into a small typed struct per object, holding only the fields read. A
  field missing from an object reads as unknown (``None``), as the SDK reads it; a field of the
  wrong type, an object without its ``id``, a page without a ``value`` array, or a value the
  collector cannot convert (a time without a time zone) fails the page (``GraphFailure``
  naming the field and the raw page), never read as a value or as an empty page.

``one`` reads a single object (not a collection) the same way, into one struct.

Paging follows ``@odata.nextLink`` until a page has none (https://learn.microsoft.com/graph/paging:
"continue making requests ... until no @odata.nextLink is returned"); the link is requested
through the builder's ``with_url`` and must point under the adapter's version root (no request,
and no token, leaves for another host). None of these listings is a delta query: a page carrying
``@odata.deltaLink`` is a final page (https://learn.microsoft.com/graph/delta-query-overview) and
ends the listing like a page without a next link.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import datetime
from enum import Enum
from typing import Any, Generic, TypeVar

import msgspec
from kiota_abstractions.date_utils import datetime_from_iso_format_compat

from clausewatch.collectors.m365.graph import (
    GraphReader,
    configuration,
    malformed,
    parse_json,
    root_of,
    send_bytes,
    under_root,
)

Obj = TypeVar("Obj", bound=msgspec.Struct)
Row = TypeVar("Row")
Out = TypeVar("Out")


class Listing(msgspec.Struct, Generic[Row]):
    """One collection page: ``value`` is required (a page without it is malformed)."""

    value: list[Row]
    next_link: str | None = msgspec.field(default=None, name="@odata.nextLink")


def instant(text: str | None) -> datetime | None:
    """A Graph ``DateTimeOffset`` read as the SDK reads it (kiota's ISO 8601 parser: fractions
    beyond microseconds truncated, the offset kept); ``ValueError`` without a time zone."""
    if text is None:
        return None
    value = datetime_from_iso_format_compat(text)
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"time {text!r} carries no time zone")
    return value


def known(kind: type[Enum]) -> Callable[[str | None], str | None]:
    """A reader of the SDK enum ``kind``'s wire strings: a member it knows is kept, any other
    value reads as None (unknown), as the SDK reads a member it does not know."""
    members = frozenset(str(m.value) for m in kind)
    return lambda wire: wire if wire in members else None


_DECODERS: dict[Any, msgspec.json.Decoder[Any]] = {}


async def rows(reader: GraphReader, builder: Any, operation: str, query: Any,
               row: type[Row], convert: Callable[[Row, str], Out]
               ) -> AsyncIterator[tuple[list[Out], str]]:
    """Every page of a collection as ``convert(row, raw_ref)`` of each object, with the page's
    ``raw_ref``; any malformed page raises ``GraphFailure``."""
    root = root_of(builder.request_adapter)
    info = builder.to_get_request_information(configuration(query))
    while True:
        body = await send_bytes(builder.request_adapter, info, operation)
        ref = reader.keep(operation, parse_json(body))
        page = decode(body, row, operation, ref)
        try:
            found = [convert(r, ref) for r in page.value]
        except ValueError as exc:
            raise malformed(operation, str(exc), ref) from exc
        yield found, ref
        if not page.next_link:
            return
        try:
            under_root(root, page.next_link)
        except ValueError as exc:
            raise malformed(operation, f"next link {exc}", ref) from exc
        info = builder.with_url(page.next_link).to_get_request_information(configuration())


async def one(reader: GraphReader, builder: Any, operation: str, shape: type[Obj]
              ) -> tuple[Obj, str]:
    """A single object (not a collection) decoded as ``shape``, with its ``raw_ref``; a body
    that is not such an object, or a field of the wrong type, raises ``GraphFailure`` naming
    the raw page."""
    info = builder.to_get_request_information(configuration())
    body = await send_bytes(builder.request_adapter, info, operation)
    ref = reader.keep(operation, parse_json(body))
    decoder = _DECODERS.get(shape)
    if decoder is None:
        decoder = _DECODERS[shape] = msgspec.json.Decoder(shape)
    try:
        found: Obj = decoder.decode(body or b"null")
    except msgspec.DecodeError as exc:
        raise malformed(operation, str(exc), ref) from exc
    return found, ref


def decode(body: bytes | None, row: type[Row], operation: str, ref: str) -> Listing[Row]:
    """``body`` as a page of ``row``; a ``GraphFailure`` naming what is wrong and where."""
    decoder = _DECODERS.get(row)
    if decoder is None:
        decoder = _DECODERS[row] = msgspec.json.Decoder(Listing[row])  # type: ignore[valid-type]
    try:
        page: Listing[Row] = decoder.decode(body or b"null")
    except msgspec.DecodeError as exc:  # ValidationError included: a field of the wrong type
        raise malformed(operation, str(exc), ref) from exc
    return page
