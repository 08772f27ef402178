"""Reading Defender for Endpoint's lists whole: the machine list and the vulnerability export.

* ``GET /api/machines`` (https://learn.microsoft.com/defender-endpoint/api/get-machines):
  OData, ``$top`` at most 10,000 and ``$skip``; ``$filter`` on ``onboardingStatus``,
  ``healthStatus``, ``osPlatform``, ``machineTags``, ``lastSeen``... It answers **404 when there
  are no recent machines**: read as an empty list. The page says OData paging, but the API is
  reported to return no ``@odata.nextLink`` when ``$top`` is given (MicrosoftDocs/
  microsoft-365-docs#8489, #8316). Both readings are handled: a next link is followed
  (same host only); without one, a full page (``$top`` items) is followed by ``$skip``; a short
  page ends the list. A machine id seen twice means the list moved while it was paged:
  ``ShortPaging`` (retryable), never a silently partial inventory.
* ``GET /api/machines/SoftwareVulnerabilitiesByMachine?pageSize=`` (default 50,000, at most
  200,000; 30 calls a minute): asked for 200,000 a page (fewest calls under the 30 a minute),
  followed by ``@odata.nextLink`` with the kit's OData pager.

Every page is saved raw, as Defender sent it when the redactor proves it holds nothing to mask
(``RawRecorder.save``); items that are not JSON objects raise ``MalformedPage``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.rest.errors import (
    ForeignLink,
    MalformedPage,
    RepeatedCursor,
    ShortPaging,
    TooManyPages,
)
from clausewatch.collectors.rest.paging import MAX_PAGES, Page, odata_pages
from clausewatch.collectors.rest.session import Params, RestSession

MACHINES = "api/machines"
EXPORT = "api/machines/SoftwareVulnerabilitiesByMachine"
MAX_TOP = 10_000
MAX_EXPORT_PAGE = 200_000
DEFAULT_EXPORT_PAGE = MAX_EXPORT_PAGE  # the API's own default is 50,000: asked for the most
Items = list[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class DefenderReader:
    session: RestSession
    raw: RawRecorder
    source: str
    origin: str

    def machines(self, top: int = MAX_TOP, odata_filter: str | None = None
                 ) -> Iterator[tuple[Items, str]]:
        """The machine list, page by page, with each page's ``raw_ref``."""
        query: dict[str, str | int] = {"$top": top}
        if odata_filter:
            query["$filter"] = odata_filter
        first = self.session.absolute(MACHINES, query)
        target: str = MACHINES
        params: Params | None = query
        seen_urls = {str(first)}
        ids: set[str] = set()
        received = 0
        for number in range(1, MAX_PAGES + 1):
            where = str(self.session.absolute(target, params))
            try:
                body, sent = self.session.get_json_received(target, params)
            except httpx.HTTPStatusError as exc:
                if exc.response.status_code == 404 and number == 1:
                    note = {"value": [], "note": "HTTP 404: no recent machines (documented)"}
                    yield [], self.raw.save(self.source, self.origin, "machines", note)
                    return
                raise
            items = _items(body, where)
            for item in items:
                key = str(item.get("id"))
                if key in ids:
                    raise ShortPaging(where, f"machine {key} came back on a later page: the "
                                      "list moved while it was paged", announced=received,
                                      received=received)
                ids.add(key)
            received += len(items)
            yield items, self.raw.save(self.source, self.origin, "machines", body, sent)
            link = body.get("@odata.nextLink")
            if link is not None:
                nxt = _next_link(link, where, first, seen_urls, body)
                seen_urls.add(str(nxt))
                target, params = str(nxt), None
            elif len(items) >= top:
                target, params = MACHINES, {**query, "$skip": received}
            else:
                return
        raise TooManyPages(str(first), f"more than {MAX_PAGES} pages")

    def vulnerabilities(self, page_size: int = DEFAULT_EXPORT_PAGE) -> Iterator[Page]:
        """Every page of the software vulnerabilities export, not saved yet: the caller saves
        each with ``keep`` (in order, a failed read's earlier pages too), so that the slow part
        of saving a page of 200,000 rows can wait on other requests."""
        for page in odata_pages(self.session, EXPORT, {"pageSize": page_size},
                                keep_received=True):
            if not all(isinstance(item, Mapping) for item in page.items):
                raise MalformedPage(page.url, "an item of value is not an object", page.raw)
            yield page

    def keep(self, page: Page) -> str:
        """Save an export page raw (as received when proved clean); its ``raw_ref``."""
        return self.raw.save(self.source, self.origin, "software-vulnerabilities", page.raw,
                             page.received)


def _items(body: Any, where: str) -> Items:
    if not isinstance(body, Mapping):
        raise MalformedPage(where, f"page is a JSON {type(body).__name__}, not an object", body)
    value = body.get("value")
    if not isinstance(value, list):
        raise MalformedPage(where, "no 'value' list on the page", body)
    if not all(isinstance(item, Mapping) and isinstance(item.get("id"), str) for item in value):
        raise MalformedPage(where, "a machine without a string id", body)
    return value


def _next_link(link: Any, where: str, first: httpx.URL, seen: set[str],
               body: Mapping[str, Any]) -> httpx.URL:
    if not isinstance(link, str) or not link:
        raise MalformedPage(where, f"@odata.nextLink is {link!r}, not a URL", body)
    nxt = httpx.URL(where).join(link)
    if (nxt.scheme, nxt.host, nxt.port) != (first.scheme, first.host, first.port):
        raise ForeignLink(where, f"@odata.nextLink leads to {nxt.scheme}://{nxt.host}, not to "
                          f"{first.host}: refused (the token would follow it)")
    if str(nxt) in seen:
        raise RepeatedCursor(where, f"@odata.nextLink repeats an earlier page: {nxt}")
    return nxt
