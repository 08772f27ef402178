"""Reading Veeam B&R REST lists: the revision's paths, skip/limit pages, raw pages saved.

Every list answers ``{"data": [...], "pagination": {"total", "count", "skip", "limit"}}``;
only ``total`` and ``count`` are required, and Veeam's own examples omit ``skip``/``limit`` or
set them to null (notes/veeam.md §4). Pages are read with the kit's ``skip_limit_pages``: the
next page starts at ``skip + len(data)`` until ``total`` is reached, never inferred from
``limit`` or a short page; a null ``skip``/``limit`` is dropped before the kit checks the
envelope. Lists are sorted by a stable column (``orderColumn``), as Veeam applies sort and
filter before ``skip`` and ``limit`` (https://helpcenter.veeam.com/docs/backup/vbr_rest/
skip.html).

Paths by revision (``x-api-version``): restore points are ``/restorePoints`` from 1.2 and
``/objectRestorePoints`` in 1.1; task sessions (``/sessions/{id}/taskSessions``) exist from
1.2 (SureBackup sessions too, so nothing is lost on 1.1).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.rest.errors import MalformedPage
from clausewatch.collectors.rest.paging import skip_limit_pages
from clausewatch.collectors.rest.session import Params, RestSession

DEFAULT_API_VERSION = "1.2-rev1"  # VBR 12.3.1 (notes/veeam.md §1); newer servers accept it
API_VERSION = re.compile(r"1\.(\d+)-rev(\d+)")
PAGE_LIMIT = 200


def revision(api_version: str) -> tuple[int, int]:
    """``1.2-rev1`` -> ``(2, 1)``: the minor version and revision, for path choices."""
    match = API_VERSION.fullmatch(api_version)
    if match is None:
        raise ValueError(f"api_version {api_version!r} is not of the form 1.<n>-rev<n>")
    return int(match.group(1)), int(match.group(2))


@dataclass(frozen=True, slots=True)
class LenientReader:
    """The session as the pagers read it, with Veeam's null ``skip``/``limit`` dropped."""

    session: RestSession

    def absolute(self, url: str, params: Params | None = None) -> httpx.URL:
        return self.session.absolute(url, params)

    def get_json(self, url: str, params: Params | None = None) -> Any:
        body = self.session.get_json(url, params)
        pagination = body.get("pagination") if isinstance(body, Mapping) else None
        if isinstance(pagination, dict):
            for key in ("skip", "limit"):
                if key in pagination and pagination[key] is None:
                    del pagination[key]
        return body


@dataclass(frozen=True, slots=True)
class VeeamReader:
    """The lists of one server, each page saved with the run's ``RawRecorder``."""

    session: RestSession
    raw: RawRecorder
    source: str
    origin: str
    api_version: str = DEFAULT_API_VERSION
    limit: int = PAGE_LIMIT

    @property
    def restore_points_path(self) -> str:
        return "v1/restorePoints" if revision(self.api_version) >= (2, 0) else \
            "v1/objectRestorePoints"

    @property
    def has_task_sessions(self) -> bool:
        return revision(self.api_version) >= (2, 0)

    def get(self, operation: str, path: str) -> tuple[Any, str]:
        """One document and the ``raw_ref`` of its saved copy."""
        body = self.session.get_json(path)
        return body, self.raw.save(self.source, self.origin, operation, body)

    def pages(self, operation: str, path: str, params: Params | None = None
              ) -> Iterator[tuple[list[Mapping[str, Any]], str]]:
        """The items of every page of a list, with the page's ``raw_ref``."""
        for page in skip_limit_pages(LenientReader(self.session), path, params,
                                     limit=self.limit):
            ref = self.raw.save(self.source, self.origin, operation, page.raw)
            if not all(isinstance(item, Mapping) for item in page.items):
                raise MalformedPage(page.url, "an item of data is not an object", page.raw)
            yield page.items, ref
