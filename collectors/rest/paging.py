"""Read a whole list, page by page, for the paging schemes REST sources use.

Each pager is a generator of :class:`Page` (its items and the raw JSON, for the caller to save
with ``RawRecorder`` and name in ``raw_ref``). A partial list never looks complete:

* a page whose items key is missing or not a list, whose envelope (totals, cursor) is missing
  or of the wrong type, or whose body is not JSON raises ``MalformedPage`` (``BadJson``);
* a loop that ends before the announced total, or whose total changes midway, raises
  ``ShortPaging``; a next link, token or page seen twice raises ``RepeatedCursor``; more than
  ``max_pages`` pages raises ``TooManyPages``;
* an OData next link to another scheme, host or port raises ``ForeignLink`` (the bearer token
  would follow it).

``page_check(page)``, when given, runs on every page before it is yielded: a source module
raises ``PartialPage`` there for pages its API marks partial (Wazuh ``error: 2``, Google
``unreachable``). Schemes:

* :func:`odata_pages` — ``{"value": [...], "@odata.nextLink": "<absolute URL>"}`` (Microsoft
  Defender for Endpoint, Graph). The link is opaque: followed as given, never rebuilt
  (https://learn.microsoft.com/en-us/odata/webapi-8/fundamentals/server-driven-paging).
  ``@odata.count``, when the first page has it, is checked against the items read.
* :func:`skip_limit_pages` — ``?skip=&limit=`` answering ``{"data": [...], "pagination":
  {"total", "count", "skip", "limit"}}`` (Veeam Backup & Replication REST).
* :func:`offset_total_pages` — ``?offset=&limit=`` answering ``{"data": {"affected_items":
  [...], "total_affected_items": N}}`` (Wazuh server API).
* :func:`token_pages` — ``?pageToken=`` answering ``{"<items>": [...], "nextPageToken": "..."}``
  (Google APIs; an absent or empty token ends the list).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from clausewatch.collectors.rest.errors import (
    ForeignLink,
    MalformedPage,
    RepeatedCursor,
    ShortPaging,
    TooManyPages,
)
from clausewatch.collectors.rest.session import Params

MAX_PAGES = 10_000


class JsonReader(Protocol):
    """What the pagers read with (``RestSession`` is one)."""

    def absolute(self, url: str, params: Params | None = None) -> httpx.URL: ...

    def get_json(self, url: str, params: Params | None = None) -> Any: ...


@dataclass(frozen=True, slots=True)
class Page:
    """One page: its items, the parsed JSON as received, the URL it came from, its number;
    ``received``: the bytes it was parsed from, when the pager was asked to keep them."""

    items: list[Any]
    raw: Any
    url: str
    number: int
    received: bytes | None = None


PageCheck = Callable[[Page], None]
Items = str | Callable[[Mapping[str, Any]], list[Any]]


def odata_pages(reader: JsonReader, url: str, params: Params | None = None, *,
                items_key: str = "value", page_check: PageCheck | None = None,
                max_pages: int = MAX_PAGES, keep_received: bool = False) -> Iterator[Page]:
    """Every page of an OData collection, following ``@odata.nextLink``; ``keep_received``:
    each page keeps the bytes it was parsed from (the reader's ``get_json_received``, when it
    has one) for the caller to save them as received."""
    fetch = getattr(reader, "get_json_received", None) if keep_received else None
    first = reader.absolute(url, params)
    target, query, where = url, params, str(first)
    seen = {where}
    count: int | None = None
    received = 0
    for number in range(1, max_pages + 1):
        sent: bytes | None = None
        if fetch is None:
            parsed = reader.get_json(target, query)
        else:
            parsed, sent = fetch(target, query)
        body = _object(parsed, where)
        page = Page(_items(body, items_key, where), body, where, number, sent)
        if number == 1 and "@odata.count" in body:
            count = _int(body, "@odata.count", where)
        received += len(page.items)
        link = body.get("@odata.nextLink")
        nxt = None if link is None else _next_link(link, where, first, seen, body)
        _check(page, page_check)
        yield page
        if nxt is None:
            if count is not None and received < count:
                raise ShortPaging(where, f"@odata.count announced {count} items, the pages "
                                  f"held {received}", announced=count, received=received)
            return
        seen.add(str(nxt))
        target, query, where = str(nxt), None, str(nxt)
    raise TooManyPages(where, f"more than {max_pages} pages")


def _next_link(link: Any, where: str, first: httpx.URL, seen: set[str],
               body: Mapping[str, Any]) -> httpx.URL:
    """The absolute next link, checked: a URL, on the first request's origin, not seen."""
    if not isinstance(link, str) or not link:
        raise MalformedPage(where, f"@odata.nextLink is {link!r}, not a URL", body)
    nxt = httpx.URL(where).join(link)
    if (nxt.scheme, nxt.host, nxt.port) != (first.scheme, first.host, first.port):
        port = f":{nxt.port}" if nxt.port else ""
        raise ForeignLink(where, f"@odata.nextLink leads to {nxt.scheme}://{nxt.host}{port}, "
                          f"not to {first.host}: refused (the token would follow it)")
    if str(nxt) in seen:
        raise RepeatedCursor(where, f"@odata.nextLink repeats an earlier page: {nxt}")
    return nxt


def skip_limit_pages(reader: JsonReader, url: str, params: Params | None = None, *,
                     limit: int = 200, items_key: str = "data",
                     pagination_key: str = "pagination", skip_param: str = "skip",
                     limit_param: str = "limit", page_check: PageCheck | None = None,
                     max_pages: int = MAX_PAGES) -> Iterator[Page]:
    """Every page of a skip/limit list whose pages carry ``pagination.total`` (Veeam)."""

    def total(body: Mapping[str, Any], where: str, skip: int, items: list[Any]) -> int:
        pagination = body.get(pagination_key)
        if not isinstance(pagination, Mapping):
            raise MalformedPage(where, f"no {pagination_key!r} object on the page", body)
        announced = _int(pagination, "total", where, body)
        if "count" in pagination and _int(pagination, "count", where, body) != len(items):
            raise MalformedPage(where, f"{pagination_key}.count is {pagination['count']}, the "
                                f"page holds {len(items)} items", body)
        if "skip" in pagination and _int(pagination, "skip", where, body) != skip:
            raise MalformedPage(where, f"asked to skip {skip}, the page says it skipped "
                                f"{pagination['skip']}", body)
        return announced

    yield from _counted(reader, url, params, limit, items_key, skip_param, limit_param,
                        page_check, max_pages, total)


def offset_total_pages(reader: JsonReader, url: str, params: Params | None = None, *,
                       limit: int = 500, container_key: str = "data",
                       items_key: str = "affected_items",
                       total_key: str = "total_affected_items", offset_param: str = "offset",
                       limit_param: str = "limit", page_check: PageCheck | None = None,
                       max_pages: int = MAX_PAGES) -> Iterator[Page]:
    """Every page of an offset/limit list with the total beside the items (Wazuh)."""

    def items_of(body: Mapping[str, Any]) -> list[Any]:
        container = body.get(container_key)
        if not isinstance(container, Mapping):
            raise MalformedPage("", f"no {container_key!r} object on the page", body)
        return _items(container, items_key, "", prefix=f"{container_key}.")

    def total(body: Mapping[str, Any], where: str, skip: int, items: list[Any]) -> int:
        return _int(body[container_key], total_key, where, body, prefix=f"{container_key}.")

    yield from _counted(reader, url, params, limit, items_of, offset_param, limit_param,
                        page_check, max_pages, total)


def token_pages(reader: JsonReader, url: str, params: Params | None = None, *,
                items: Items, token_key: str = "nextPageToken", token_param: str = "pageToken",
                absent_is_empty: bool = False, page_check: PageCheck | None = None,
                max_pages: int = MAX_PAGES) -> Iterator[Page]:
    """Every page of a page-token list (Google). ``items`` is the key of the list (or a
    function returning it). ``absent_is_empty``: the API omits an empty list's key (proto3
    JSON omits empty repeated fields); off by default, so a missing key is an error."""
    query = dict(params or {})
    seen: set[str] = set()
    for number in range(1, max_pages + 1):
        where = str(reader.absolute(url, query))
        body = _object(reader.get_json(url, query), where)
        if absent_is_empty and isinstance(items, str) and items not in body:
            found: list[Any] = []
        else:
            found = _items(body, items, where)
        token = body.get(token_key)
        if token is not None and not isinstance(token, str):
            raise MalformedPage(where, f"{token_key} is {token!r}, not a string", body)
        if token and token in seen:
            raise RepeatedCursor(where, f"{token_key} repeats an earlier page's token")
        page = Page(found, body, where, number)
        _check(page, page_check)
        yield page
        if not token:
            return
        seen.add(token)
        query[token_param] = token
    raise TooManyPages(url, f"more than {max_pages} pages")


Total = Callable[[Mapping[str, Any], str, int, list[Any]], int]


def _counted(reader: JsonReader, url: str, params: Params | None, limit: int, items: Items,
             skip_param: str, limit_param: str, page_check: PageCheck | None, max_pages: int,
             total_of: Total) -> Iterator[Page]:
    """The loop shared by skip/limit and offset/total: advance by the items received until
    the announced total is reached; an empty page before it, a changed total or a page equal
    to the previous one raises."""
    skip, announced = 0, None
    previous: str | None = None
    for number in range(1, max_pages + 1):
        query = {**(params or {}), skip_param: skip, limit_param: limit}
        where = str(reader.absolute(url, query))
        body = _object(reader.get_json(url, query), where)
        try:
            found = _items(body, items, where)
        except MalformedPage as exc:
            raise MalformedPage(where, exc.detail, body) from None
        total = total_of(body, where, skip, found)
        if announced is not None and total != announced:
            raise ShortPaging(where, f"the total changed from {announced} to {total} while "
                              "paging (the list moved: items may be missed or doubled)",
                              announced=announced, received=skip)
        announced = total
        digest = _digest(found)
        if found and digest == previous:
            raise RepeatedCursor(where, f"the page at {skip_param}={skip} repeats the previous "
                                 f"one (is {skip_param} ignored?)")
        previous = digest
        page = Page(found, body, where, number)
        _check(page, page_check)
        yield page
        skip += len(found)
        if skip >= total:
            return
        if not found:
            raise ShortPaging(where, f"an empty page at {skip_param}={skip}, before the "
                              f"{total} items announced", announced=total, received=skip)
    raise TooManyPages(url, f"more than {max_pages} pages")


def _object(body: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise MalformedPage(where, f"page is a JSON {type(body).__name__}, not an object", body)
    return body


def _items(body: Mapping[str, Any], items: Items, where: str, *, prefix: str = "") -> list[Any]:
    if callable(items):
        return items(body)
    if items not in body:
        raise MalformedPage(where, f"no {prefix}{items!r} key on the page", body)
    found = body[items]
    if not isinstance(found, list):
        raise MalformedPage(where, f"{prefix}{items} is a JSON {type(found).__name__}, not "
                            "a list", body)
    return found


def _int(body: Mapping[str, Any], key: str, where: str, raw: Any = None, *,
         prefix: str = "") -> int:
    value = body.get(key)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MalformedPage(where, f"{prefix}{key} is {value!r}, not a count",
                            body if raw is None else raw)
    return value


def _check(page: Page, page_check: PageCheck | None) -> None:
    if page_check is not None:
        page_check(page)


def _digest(items: list[Any]) -> str:
    return hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()
