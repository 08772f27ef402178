"""Collection benchmark: Wazuh, 2,000 agents with their packages, hotfixes and vulnerabilities.

The estate (tests/wazuh_fake.py, Wazuh 4.14): 2,000 connected agents (1,800 Ubuntu, 200 Windows
with hotfixes), 40 packages each, and 5 vulnerability-state documents each in the indexer
(10,000). Every request the fakes answer waits ``latency`` seconds.

Documented limits (cited):

* server API lists: ``offset``/``limit``, ``limit`` at most 100,000, 500 recommended
  (spec.yaml ``components.parameters.limit``, wazuh/wazuh api/api/spec/spec.yaml);
* rate: ``access.max_request_per_minute``, 300 by default, configurable in api.yaml
  (https://documentation.wazuh.com/current/user-manual/api/configuration.html); no concurrency
  limit is documented, so the floor assumes one request at a time (concurrency 1) and a server
  whose rate limit the operator raised (this bench does not model the per-minute cap: at the
  default 300/min the floor of this estate is ``requests / 5`` seconds whatever the client);
* packages and hotfixes: per agent, ``GET /syscollector/{agent_id}/packages`` and
  ``/hotfixes`` (the all-agents ``/experimental/syscollector/*`` endpoints need
  ``experimental_features: yes``, off by default: not assumed);
* indexer: ``POST <index>/_search`` with ``search_after``, ``size`` at most
  ``index.max_result_window`` = 10,000 (https://docs.opensearch.org/docs/latest/
  search-plugins/searching-data/paginate/).

Floor = login + API info + agent pages (limit 100,000) + one packages page per agent + one
hotfixes page per Windows agent + indexer pages (10,000 a page), at concurrency 1.
"""

from __future__ import annotations

import rest_estates as kit
from collect_common import Figure, floor_seconds

AGENTS, WINDOWS, PACKAGES, VULNS = 2_000, 200, 40, 5
MAX_LIMIT, INDEX_PAGE, CONCURRENCY = 100_000, 10_000, 1


def estate(server: object, indexer: object) -> None:
    import wazuh_fake as wf

    agents, docs = [], []
    for n in range(1, AGENTS + 1):
        aid = f"{n:05d}"
        windows = n <= WINDOWS
        agents.append(wf.agent("001", f"host{aid}", "active", wf.ago(hours=0.05),
                               platform="windows" if windows else "ubuntu",
                               os_name="Microsoft Windows Server 2022" if windows else "Ubuntu"))
        agents[-1]["id"] = aid
        agents[-1]["ip"] = f"10.{n // 250}.{n % 250}.1"
        server.list(f"syscollector/{aid}/packages",  # type: ignore[attr-defined]
                    wf.packages(PACKAGES, wf.ago(days=0.5)))
        if windows:
            server.list(f"syscollector/{aid}/hotfixes",  # type: ignore[attr-defined]
                        [{"hotfix": f"KB50{n:05d}", "scan": {"id": 0,
                                                             "time": wf.stamp(wf.ago(1))}}])
        for v in range(VULNS):
            doc = wf.index_doc(wf.Vuln("001", f"CVE-2026-{v:04d}", "High", wf.ago(days=40),
                                       wf.ago(days=10), package=f"pkg{v}"))
            doc["agent"] = {**doc["agent"], "id": aid, "name": f"host{aid}"}
            docs.append(doc)
    server.agents = agents  # type: ignore[attr-defined]
    indexer.docs = docs  # type: ignore[attr-defined]


def measure(latency: float) -> list[Figure]:
    import wazuh_fake as wf

    server, indexer = wf.FakeWazuh(cap=MAX_LIMIT), wf.FakeIndexer(cap=INDEX_PAGE)
    estate(server, indexer)
    for fake in (server, indexer):
        kit.add_latency(fake, latency)
    with kit.serving(lambda: wf.start(server)), kit.serving(lambda: wf.start(indexer)):
        source = wf.entry(server.base, indexer.base)
        (batch, _), seconds = kit.timed(lambda: wf.collect(source, kit.scratch(),
                                                           wf.FakeClock()))
    assert not batch.errors, batch.errors[:3]
    requests = len(server.requests) + len(indexer.requests)
    floor_pages = (1 + 1 + kit.pages(AGENTS, MAX_LIMIT) + AGENTS + WINDOWS
                   + kit.pages(AGENTS * VULNS, INDEX_PAGE))
    return [Figure("wazuh", requests, seconds, floor_seconds(floor_pages, latency, CONCURRENCY))]
