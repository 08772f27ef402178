"""Reading the Wazuh server API: offset/limit lists, the server's own failure report, raw pages.

Every list answers ``{"data": {"affected_items": [...], "total_affected_items": N,
"total_failed_items": M, "failed_items": [{"error": {"code", "message"}, "id": [...]}]},
"message": "...", "error": 0 | 1 | 2}`` (spec.yaml ``AllItemsResponse``; the codes are
``AffectedItemsWazuhResult.render`` in framework/wazuh/core/results.py: 0 complete, 1 every item
failed, 2 partial). Pages are read with the kit's ``offset_total_pages`` (``offset``, ``limit``
at most 100000, 500 recommended: spec.yaml ``components.parameters.limit``); a page with
``error`` 1 or 2, or with failed items, raises ``PartialPage`` naming the failures (an agent
that does not exist, 1701; a permission the user lacks, 4000), never a shorter list.
An HTTP error answers ``{"title", "detail", "error"?, "remediation"?}`` (``ApiError`` /
``RequestError``); the kit's error summary reads ``title`` and ``detail``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.rest.errors import MalformedPage, PartialPage
from clausewatch.collectors.rest.paging import Page, offset_total_pages
from clausewatch.collectors.rest.session import Params, RestSession

PAGE_LIMIT = 500
PERMISSION_DENIED = 4000


def failures(body: Mapping[str, Any]) -> list[str]:
    """The failed items of a Wazuh answer, one line each (``001: 1701 Agent does not exist``)."""
    data = body.get("data")
    items = data.get("failed_items") if isinstance(data, Mapping) else None
    out = []
    for item in items if isinstance(items, list) else []:
        error = item.get("error") if isinstance(item, Mapping) else None
        ids = item.get("id") if isinstance(item, Mapping) else None
        code = error.get("code") if isinstance(error, Mapping) else None
        message = error.get("message") if isinstance(error, Mapping) else None
        who = ", ".join(str(i) for i in ids) if isinstance(ids, list) else "?"
        out.append(f"{who}: {code} {message}".strip())
    return out


def check_page(page: Page) -> None:
    """``PartialPage`` for a page the server marks failed or partial."""
    body = page.raw if isinstance(page.raw, Mapping) else {}
    code = body.get("error", 0)
    failed = failures(body)
    if code in (0, None) and not failed:
        return
    what = "partial" if code == 2 else "failed"
    detail = "; ".join(failed[:5]) or str(body.get("message") or "no detail")
    raise PartialPage(page.url, f"the server reports the list {what} (error {code}): {detail}")


@dataclass(frozen=True, slots=True)
class WazuhReader:
    """The lists of one server API, each page saved with the run's ``RawRecorder``."""

    session: RestSession
    raw: RawRecorder
    source: str
    origin: str
    limit: int = PAGE_LIMIT

    def get(self, operation: str, path: str, params: Params | None = None,
            *, origin: str | None = None) -> tuple[Mapping[str, Any], str]:
        """One answer (checked like a page) and the ``raw_ref`` of its saved copy."""
        body = self.session.get_json(path, params)
        where = str(self.session.absolute(path, params))
        if not isinstance(body, Mapping):
            raise MalformedPage(where, f"answer is a JSON {type(body).__name__}, not an object",
                                body)
        ref = self.raw.save(self.source, origin or self.origin, operation, body)
        check_page(Page([], body, where, 1))
        return body, ref

    def pages(self, operation: str, path: str, params: Params | None = None,
              *, origin: str | None = None) -> Iterator[tuple[list[Mapping[str, Any]], str]]:
        """The items of every page of a list, with the page's ``raw_ref`` (a page the server
        marks failed is saved too, before ``PartialPage`` is raised)."""
        saved: dict[str, str] = {}

        def check(page: Page) -> None:
            saved[page.url] = self.raw.save(self.source, origin or self.origin, operation,
                                            page.raw)
            check_page(page)

        for page in offset_total_pages(self.session, path, params, limit=self.limit,
                                       page_check=check):
            if not all(isinstance(item, Mapping) for item in page.items):
                raise MalformedPage(page.url, "an item of data.affected_items is not an object",
                                    page.raw)
            yield page.items, saved.pop(page.url)
