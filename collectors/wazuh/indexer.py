"""The vulnerability state of Wazuh >= 4.8: the indexer's ``wazuh-states-vulnerabilities-*``.

From 4.8 the manager's Vulnerability Detection module keeps one document per agent x package x
CVE in the Wazuh indexer (OpenSearch), index ``wazuh-states-vulnerabilities-<cluster>``
(https://documentation.wazuh.com/4.14/user-manual/capabilities/vulnerability-detection/
configuring-scans.html; the mapping, ``strict``: src/wazuh_modules/vulnerability_scanner/indexer/
template/index-template.json): ``agent.id``, ``package.name``/``version``/``architecture``,
``vulnerability.id``, ``severity``, ``detected_at``, ``published_at``, ``scanner.condition``.
The 4.7 server API's ``/vulnerability`` endpoints are gone from 4.8 (spec.yaml).

The whole index is read with ``POST <index>/_search``, ``search_after`` paging on a total
order of keyword fields (agent, CVE, package name, version, architecture) and
``track_total_hits: true`` (https://docs.opensearch.org/docs/latest/search-plugins/searching-data/
paginate/). A list never looks whole when it is not:

* ``allow_no_indices=false``: no index matching the pattern is an HTTP 404
  (``index_not_found_exception``), not an empty estate;
* ``timed_out: true`` or ``_shards.failed > 0`` (partial results) raises ``PartialPage``, and
  an answer without a boolean ``timed_out`` or a ``_shards.failed`` count ``MalformedPage``;
* fewer hits read than ``hits.total.value`` (an empty page before the end, or ties in the sort
  key skipped at a page boundary), or a total that changes while paging, raises
  ``ShortPaging``; a page whose last ``sort`` repeats the previous one, ``RepeatedCursor``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.rest.errors import (
    MalformedPage,
    PartialPage,
    RepeatedCursor,
    ShortPaging,
    TooManyPages,
)
from clausewatch.collectors.rest.session import RestSession

DEFAULT_INDEX = "wazuh-states-vulnerabilities-*"
PAGE_SIZE = 1000
MAX_PAGES = 10_000
SORT = ("agent.id", "vulnerability.id", "package.name", "package.version",
        "package.architecture")
FIELDS = ["agent.id", "agent.name", "package.name", "package.version", "package.architecture",
          "package.type", "vulnerability.id", "vulnerability.severity",
          "vulnerability.detected_at", "vulnerability.published_at", "vulnerability.category",
          "vulnerability.scanner.condition", "vulnerability.score.base",
          "vulnerability.under_evaluation"]


@dataclass(frozen=True, slots=True)
class IndexerReader:
    """The vulnerability documents of one Wazuh indexer, each page saved."""

    session: RestSession
    raw: RawRecorder
    source: str
    origin: str
    index: str = DEFAULT_INDEX
    size: int = PAGE_SIZE

    def query(self, after: list[Any] | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "size": self.size,
            "track_total_hits": True,
            "query": {"match_all": {}},
            "sort": [{key: {"order": "asc", "missing": "_first"}} for key in SORT],
            "_source": FIELDS,
        }
        if after is not None:
            body["search_after"] = after
        return body

    def hits(self) -> Iterator[tuple[list[Mapping[str, Any]], str]]:
        """The hits of every page (``_source`` objects), with the page's ``raw_ref``."""
        path = f"{self.index}/_search"
        params = {"allow_no_indices": "false"}
        where = str(self.session.absolute(path, params))
        after: list[Any] | None = None
        announced: int | None = None
        read = 0
        for number in range(1, MAX_PAGES + 1):
            body = self.session.post_json(path, self.query(after), params=params, retry=True)
            if not isinstance(body, Mapping):
                raise MalformedPage(where, f"answer is a JSON {type(body).__name__}", body)
            ref = self.raw.save(self.source, self.origin, "vulnerability-states", body)
            _complete(body, where)
            hits, total = _hits(body, where)
            if announced is not None and total != announced:
                raise ShortPaging(where, f"the total changed from {announced} to {total} while "
                                  "paging (the index moved)", announced=announced, received=read)
            announced = total
            yield [_source(h, where, body) for h in hits], ref
            read += len(hits)
            if read >= total:
                return
            if not hits:
                raise ShortPaging(where, f"an empty page after {read} of the {total} hits "
                                  "announced", announced=total, received=read)
            last = hits[-1].get("sort")
            if not isinstance(last, list):
                raise MalformedPage(where, "a hit without its sort values", body)
            if last == after:
                raise RepeatedCursor(where, f"page {number} ends where the previous one did")
            after = last
        raise TooManyPages(where, f"more than {MAX_PAGES} pages")


def _complete(body: Mapping[str, Any], where: str) -> None:
    """Partial results are an error; so is an answer that does not say whether it is whole.

    Every documented search response carries ``timed_out`` (a boolean) and ``_shards`` with a
    ``failed`` count (https://docs.opensearch.org/docs/latest/api-reference/search-apis/search/,
    "Example response"); a value that is neither is not taken for "no failure".
    """
    timed_out = body.get("timed_out")
    if timed_out is True:
        raise PartialPage(where, "the search timed out: partial results", retryable=True)
    if timed_out is not False:
        raise MalformedPage(where, f"timed_out is {timed_out!r}, not a boolean: the answer "
                            "does not say whether its results are whole", body)
    shards = body.get("_shards")
    failed = shards.get("failed") if isinstance(shards, Mapping) else None
    if isinstance(failed, bool) or not isinstance(failed, int) or failed < 0:
        raise MalformedPage(where, f"_shards.failed is {failed!r}, not a count: the answer does "
                            "not say whether every shard answered", body)
    if failed > 0:
        raise PartialPage(where, f"{failed} shard(s) failed: partial results", retryable=True)


def _hits(body: Mapping[str, Any], where: str) -> tuple[list[Mapping[str, Any]], int]:
    hits = body.get("hits")
    if not isinstance(hits, Mapping) or not isinstance(hits.get("hits"), list):
        raise MalformedPage(where, "no hits.hits list in the answer", body)
    total = hits.get("total")
    value = total.get("value") if isinstance(total, Mapping) else total
    if isinstance(value, bool) or not isinstance(value, int):
        raise MalformedPage(where, f"hits.total is {total!r}, not a count", body)
    if isinstance(total, Mapping) and total.get("relation", "eq") != "eq":
        raise MalformedPage(where, f"hits.total is a lower bound ({total!r}), not a count", body)
    items = hits["hits"]
    if not all(isinstance(h, Mapping) for h in items):
        raise MalformedPage(where, "a hit is not an object", body)
    return items, value


def _source(hit: Mapping[str, Any], where: str, body: Any) -> Mapping[str, Any]:
    source = hit.get("_source")
    if not isinstance(source, Mapping):
        raise MalformedPage(where, f"hit {hit.get('_id')!r} has no _source", body)
    return source
