"""A fake Wazuh server API and Wazuh indexer on 127.0.0.1, with the documented shapes and paging.

``FakeWazuh`` serves what spec.yaml (wazuh/wazuh v4.7.5 and v4.14.7, api/api/spec/spec.yaml)
describes: ``POST /security/user/authenticate`` (basic auth; ``raw=true`` answers the JWT as
text/plain, else ``{"data": {"token"}, "error": 0}``; a JWT whose ``exp - nbf`` is
``lifetime``), bearer tokens checked on every other call (401 ``{"title": "Unauthorized",
"detail"}``), ``GET /`` (``data.api_version``), ``GET /agents``, ``/syscollector/{id}/packages``
and ``/hotfixes``, and for 4.7 ``/vulnerability/{id}`` and ``/vulnerability/{id}/last_scan``;
lists paged by ``offset``/``limit`` (at most ``cap`` items a page) in
``{"data": {"affected_items", "total_affected_items", "total_failed_items", "failed_items"},
"message", "error"}``; an unknown agent is a failed item (1701, ``error: 1``). Faults:
``expire_tokens_at(path, offset)`` revokes every token when that page is asked for,
``fail(path, *statuses)`` answers errors first (``{"title", "detail", "error"}``).

``FakeIndexer`` serves ``POST /<pattern>/_search`` (basic auth) over the vulnerability-state
documents, sorted by the request's ``sort`` keys and paged by ``search_after``, with
``hits.total`` when ``track_total_hits``; no document at all is a 404
``index_not_found_exception`` when ``allow_no_indices=false``.
"""

from __future__ import annotations

import base64
import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from virtual_clock import FakeClock  # noqa: F401 (re-exported to the tests)

from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.jsonl import EvidenceBatch
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.rest.retry import RetryPolicy
from clausewatch.collectors.runner import collect_all
from clausewatch.collectors.wazuh.source import build
from clausewatch.core.evidence import Evidence
from clausewatch.core.redact import Redactor

AS_OF = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
USER, PASSWORD = "clausewatch-ro", "Wz-Api-Pa55word-0042"
INDEXER_USER, INDEXER_PASSWORD = "clausewatch-idx", "Wz-Idx-Pa55word-0077"
NAME = "wazuh01"


def stamp(at: datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


def ago(days: float = 0, hours: float = 0) -> datetime:
    return AS_OF - timedelta(days=days, hours=hours)


def problem(title: str, detail: str, **extra: Any) -> dict[str, Any]:
    return {"title": title, "detail": detail, **extra}


def jwt(n: int, lifetime: int) -> str:
    def part(doc: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(doc).encode()).decode().rstrip("=")
    nbf = 1_790_000_000 + n
    return f"{part({'alg': 'ES512', 'typ': 'JWT'})}.{part({'iss': 'wazuh', 'nbf': nbf, 'exp': nbf + lifetime, 'sub': 'wazuh', 'rbac_roles': [100]})}.sig{n}"  # noqa: E501


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any


def _basic(req: Request) -> tuple[str, str] | None:
    value = req.headers.get("authorization", "")
    if not value.startswith("Basic "):
        return None
    user, _, password = base64.b64decode(value[6:]).decode().partition(":")
    return user, password


def result(items: list[Any], total: int | None = None, failed: list[Any] | None = None
           ) -> dict[str, Any]:
    failed = failed or []
    total = len(items) if total is None else total
    code = 2 if total and failed else 1 if failed else 0
    return {"data": {"affected_items": items, "total_affected_items": total,
                     "total_failed_items": sum(len(f["id"]) for f in failed),
                     "failed_items": failed},
            "message": "All selected items were returned" if not failed else "Some failed",
            "error": code}


@dataclass
class FakeWazuh:
    """The server API's state: what it serves, the tokens it issued, the requests it saw."""

    version: str = "4.14.7"
    cap: int = 500
    lifetime: int = 900
    agents: list[dict[str, Any]] = field(default_factory=list)
    lists: dict[str, list[Any]] = field(default_factory=dict)  # path -> items
    docs: dict[str, Any] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    issued: int = 0
    expire_at: set[tuple[str, int]] = field(default_factory=set)
    faults: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""

    def list(self, path: str, items: list[Any]) -> None:
        self.lists[f"/{path}"] = items

    def expire_tokens_at(self, path: str, offset: int) -> None:
        self.expire_at.add((f"/{path}", offset))

    def fail(self, path: str, *statuses: int) -> None:
        self.faults[f"/{path}"] = list(statuses)

    def seen(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == f"/{path}".rstrip("/") or (
            path == "" and r.path == "/")]

    def logins(self) -> int:
        return len(self.seen("security/user/authenticate"))

    @property
    def legacy(self) -> bool:
        return tuple(int(x) for x in self.version.split(".")[:2]) < (4, 8)

    def answer(self, req: Request) -> tuple[int, Any, str]:
        with self.lock:
            self.requests.append(req)
            if req.path == "/security/user/authenticate":
                if req.method != "POST":
                    return 405, problem("Method Not Allowed", "use POST"), "json"
                if _basic(req) != (USER, PASSWORD):
                    return 401, problem("Unauthorized", "Invalid credentials"), "json"
                self.issued += 1
                token = jwt(self.issued, self.lifetime)
                self.tokens.add(token)
                if req.query.get("raw") == ["true"]:
                    return 200, token, "text"
                return 200, {"data": {"token": token}, "error": 0}, "json"
            offset = int(req.query.get("offset", ["0"])[0])
            if (req.path, offset) in self.expire_at:
                self.expire_at.discard((req.path, offset))
                self.tokens.clear()
            token = req.headers.get("authorization", "").removeprefix("Bearer ")
            if token not in self.tokens:
                return 401, problem("Unauthorized", "Invalid token"), "json"
            fault = self.faults.get(req.path)
            if fault:
                status = fault.pop(0)
                return status, problem("Wazuh Internal Error", f"injected HTTP {status}",
                                       error=1000), "json"
            return self._route(req, offset)

    def _route(self, req: Request, offset: int) -> tuple[int, Any, str]:
        if req.path == "/":
            return 200, {"data": {"title": "Wazuh API REST", "api_version": self.version,
                                  "revision": "rc1", "hostname": "wazuh-manager",
                                  "timestamp": stamp(AS_OF)}, "error": 0}, "json"
        parts = req.path.strip("/").split("/")
        limit = int(req.query.get("limit", ["500"])[0])
        if req.path == "/agents":
            return 200, self._page(self.agents, offset, limit), "json"
        if parts[0] in ("syscollector", "vulnerability") and len(parts) >= 2:
            if parts[0] == "vulnerability" and not self.legacy:
                return 404, problem("Not Found", "The requested URL was not found on the "
                                    "server."), "json"
            if parts[1] not in {a["id"] for a in self.agents}:
                return 200, result([], 0, [{"error": {"code": 1701, "message":
                                                      "Agent does not exist"},
                                            "id": [parts[1]]}]), "json"
            if req.path in self.docs:
                return 200, self.docs[req.path], "json"
            return 200, self._page(self.lists.get(req.path, []), offset, limit), "json"
        return 404, problem("Not Found", f"no route {req.path}"), "json"

    def _page(self, items: list[Any], offset: int, limit: int) -> dict[str, Any]:
        return result(items[offset: offset + min(limit, self.cap)], len(items))


@dataclass
class FakeIndexer:
    """The indexer's vulnerability-state documents and the searches it saw."""

    docs: list[dict[str, Any]] = field(default_factory=list)
    cap: int = 10_000
    requests: list[Request] = field(default_factory=list)
    faults: list[int] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""

    def answer(self, req: Request) -> tuple[int, Any, str]:
        with self.lock:
            self.requests.append(req)
            if _basic(req) != (INDEXER_USER, INDEXER_PASSWORD):
                return 401, {"error": "Unauthorized", "status": 401}, "json"
            if not req.path.endswith("/_search") or req.method != "POST":
                return 404, {"error": {"type": "not_found"}, "status": 404}, "json"
            if self.faults:
                status = self.faults.pop(0)
                return status, {"error": {"type": "search_phase_execution_exception",
                                          "reason": "injected"}, "status": status}, "json"
            if not self.docs and req.query.get("allow_no_indices") == ["false"]:
                index = req.path.strip("/").split("/")[0]
                return 404, {"error": {"type": "index_not_found_exception",
                                       "reason": f"no such index [{index}]"},
                             "status": 404}, "json"
            body = req.body or {}
            keys = [next(iter(s)) for s in body.get("sort", [])]
            ranked = sorted(self.docs, key=lambda d: [str(_get(d, k) or "") for k in keys])
            after = body.get("search_after")
            if after is not None:
                ranked = [d for d in ranked if [str(_get(d, k) or "") for k in keys] > after]
            page = ranked[: min(int(body.get("size", 10)), self.cap)]
            hits = [{"_index": "wazuh-states-vulnerabilities-wazuh", "_id": f"{i}",
                     "_score": None, "_source": d,
                     "sort": [str(_get(d, k) or "") for k in keys]}
                    for i, d in enumerate(page)]
            total = {"value": len(self.docs), "relation": "eq"}
            return 200, {"took": 3, "timed_out": False,
                         "_shards": {"total": 1, "successful": 1, "skipped": 0, "failed": 0},
                         "hits": {"total": total, "max_score": None, "hits": hits}}, "json"


def _get(doc: dict[str, Any], dotted: str) -> Any:
    value: Any = doc
    for part in dotted.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def handler(fake: FakeWazuh | FakeIndexer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length).decode()
            body = json.loads(raw) if raw and raw.lstrip().startswith("{") else None
            req = Request(self.command, parts.path, parse_qs(parts.query),
                          {k.lower(): v for k, v in self.headers.items()}, body)
            status, answer, kind = fake.answer(req)
            data = answer.encode() if kind == "text" else json.dumps(answer).encode()
            self.send_response_only(status)
            self.send_header("Content-Type", "text/plain" if kind == "text" else
                             "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


def start(fake: FakeWazuh | FakeIndexer) -> ThreadingHTTPServer:
    """Serve ``fake`` on a free local port (``fake.base`` is set)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(fake))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    return server


# -- the estate ------------------------------------------------------------------------------
def agent(agent_id: str, name: str, status: str, seen: datetime | None, *,
          platform: str | None = "ubuntu", os_name: str = "Ubuntu", os_version: str = "22.04",
          groups: tuple[str, ...] = ("default",), added: datetime | None = None
          ) -> dict[str, Any]:
    item: dict[str, Any] = {"id": agent_id, "name": name, "status": status,
                            "dateAdd": stamp(added or ago(days=400)),
                            "group": list(groups), "ip": f"10.0.0.{int(agent_id) + 10}",
                            "version": "Wazuh v4.14.7", "node_name": "node01"}
    if seen is not None:
        item["lastKeepAlive"] = (seen if isinstance(seen, str) else stamp(seen))
    if platform is not None:
        uname = "Microsoft Windows" if platform == "windows" else "Linux |host |6.8.0"
        item["os"] = {"platform": platform, "name": os_name, "version": os_version,
                      "uname": uname, "arch": "x86_64"}
    return item


def packages(count: int, scanned: datetime) -> list[dict[str, Any]]:
    return [{"name": f"pkg{i}", "version": f"1.{i}", "architecture": "amd64", "format": "deb",
             "scan": {"id": 0, "time": stamp(scanned)}} for i in range(count)]


@dataclass(frozen=True)
class Vuln:
    agent: str
    cve: str
    severity: str
    published: datetime | None
    detected: datetime
    package: str = "openssl"
    status: str = "VALID"


# Agents of the estate (same in 4.7 and 4.14), and what the contract makes of them:
#   000 manager (ubuntu)                  compliant: a medium CVE well within 90 days
#   001 web01 (ubuntu, groups web)        breached: a high CVE published 40 days ago (30 allowed)
#   002 dc01 (Windows Server 2022)        compliant: hotfixes, a critical CVE published 5 days ago
#   003 pc-compta (Windows 11)            workstation: out of the server commitment
#   004 db-old (rhel, disconnected)       no_evidence: last keep-alive 20 days ago (freshness 7)
#   005 new-srv (never connected)         no_evidence: never connected
#   006 app02 (debian)                    no_evidence: HTTP 500 on its packages page
#   007 lab01 (ubuntu, no syscollector)   no_evidence: no package inventory
AGENTS = [
    agent("000", "wazuh-manager", "active", "9999-12-31T23:59:59Z", groups=()),  # type: ignore[arg-type]  # noqa: E501
    agent("001", "web01", "active", ago(hours=0.02), groups=("default", "web")),
    agent("002", "dc01", "active", ago(hours=0.01), platform="windows",
          os_name="Microsoft Windows Server 2022 Datacenter", os_version="10.0.20348.2655"),
    agent("003", "pc-compta", "active", ago(hours=0.5), platform="windows",
          os_name="Microsoft Windows 11 Pro", os_version="10.0.22631"),
    agent("004", "db-old", "disconnected", ago(days=20), platform="rhel",
          os_name="Red Hat Enterprise Linux", os_version="8.9"),
    agent("005", "new-srv", "never_connected", None, platform=None, added=ago(days=3)),
    agent("006", "app02", "active", ago(hours=0.1), platform="debian", os_name="Debian GNU/Linux"),
    agent("007", "lab01", "active", ago(hours=0.1)),
]
VULNS = [
    Vuln("000", "CVE-2026-2000", "Medium", ago(days=10), ago(days=9)),
    Vuln("001", "CVE-2026-1001", "High", ago(days=40), ago(days=10), package="nginx"),
    Vuln("001", "CVE-2026-1002", "-", None, ago(days=1), package="curl"),  # unrated, ignored
    Vuln("002", "CVE-2026-3000", "Critical", ago(days=5), ago(days=4),
         package="Microsoft Windows Server 2022"),
    Vuln("004", "CVE-2026-4000", "Critical", ago(days=60), ago(days=50)),
    Vuln("006", "CVE-2026-6000", "High", ago(days=90), ago(days=80)),
]


def index_doc(v: Vuln) -> dict[str, Any]:
    name = next(a["name"] for a in AGENTS if a["id"] == v.agent)
    return {
        "agent": {"id": v.agent, "name": name, "type": "Wazuh", "version": "v4.14.7"},
        "host": {"os": {"platform": "ubuntu", "type": "linux"}},
        "package": {"name": v.package, "version": "1.0", "architecture": "amd64",
                    "type": "deb"},
        "vulnerability": {
            "id": v.cve, "severity": v.severity, "category": "Packages",
            "classification": "CVSS", "enumeration": "CVE",
            "detected_at": v.detected.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "published_at": stamp(v.published) if v.published else "0000-01-01T00:00:00Z",
            "scanner": {"vendor": "Wazuh", "condition": "Package less than 1.1",
                        "source": "National Vulnerability Database"},
            "score": {"base": 7.5, "version": "3.1"},
            "under_evaluation": v.severity == "-",
        },
        "wazuh": {"cluster": {"name": "wazuh"}, "schema": {"version": "1.0.0"}},
    }


def api_vuln(v: Vuln) -> dict[str, Any]:
    return {"cve": v.cve, "severity": v.severity if v.severity != "-" else "Untriaged",
            "name": v.package, "version": "1.0", "architecture": "amd64", "type": "PACKAGE",
            "status": v.status, "condition": "Package less than 1.1",
            "title": f"{v.cve} affects {v.package}", "cvss3_score": 7.5,
            "published": v.published.strftime("%Y-%m-%d") if v.published else "",
            "detection_time": stamp(v.detected), "updated": "2026-11-01",
            "external_references": []}


def load_estate(fake: FakeWazuh, indexer: FakeIndexer | None = None) -> FakeWazuh:
    fake.agents = [dict(a) for a in AGENTS]
    for agent_id, count in (("000", 3), ("001", 7), ("002", 4), ("003", 2), ("004", 5),
                            ("006", 3)):
        fake.list(f"syscollector/{agent_id}/packages", packages(count, ago(days=0.5)))
    for agent_id in ("002", "003"):
        fake.list(f"syscollector/{agent_id}/hotfixes",
                  [{"hotfix": f"KB50{agent_id}1{i}", "scan": {"id": 0, "time": stamp(ago(1))}}
                   for i in range(3)])
    fake.fail("syscollector/006/packages", *[500] * 10)
    if indexer is not None:
        indexer.docs = [index_doc(v) for v in VULNS]
    if fake.legacy:
        for a in AGENTS:
            vulns = [api_vuln(v) for v in VULNS if v.agent == a["id"]]
            fake.list(f"vulnerability/{a['id']}", vulns)
            fake.docs[f"/vulnerability/{a['id']}/last_scan"] = result([{
                "last_full_scan": stamp(ago(hours=6)), "last_partial_scan": stamp(ago(hours=1))}])
    return fake


# -- running the collector against a fake ----------------------------------------------------


def entry(url: str, indexer: str | None = None, **kw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"name": NAME, "url": url, "username": USER,
                           "password_env": "WAZUH01_PASSWORD", **kw}
    if indexer:
        out["indexer"] = {"url": indexer, "username": INDEXER_USER,
                          "password_env": "WAZUH01_INDEXER_PASSWORD"}
    return out


def collect(source: dict[str, Any], out: Path, clock: FakeClock,
            env: dict[str, str] | None = None) -> tuple[EvidenceBatch, Redactor]:
    """Build the entry's collector as ``build`` does (retry on the fake clock), run it."""
    redactor = Redactor()
    context = BuildContext(
        as_of=AS_OF, raw=RawRecorder(out, redactor),
        env=env if env is not None else {"WAZUH01_PASSWORD": PASSWORD,
                                         "WAZUH01_INDEXER_PASSWORD": INDEXER_PASSWORD},
        base_dir=out, secrets=redactor)
    retry = RetryPolicy.from_entry(source, sleep=clock.sleep, clock=clock, jitter=0.0,
                                   now=lambda: AS_OF)
    return collect_all(build(source, context, retry=retry)), redactor


def about(batch: EvidenceBatch, kind: str) -> dict[str, list[Evidence]]:
    out: dict[str, list[Evidence]] = {}
    for ev in batch.evidence:
        if ev.kind == kind:
            out.setdefault(ev.subject, []).append(ev)
    return out


def subject(agent_id: str, server: str = NAME) -> str:
    return f"wazuh:{server}:agent:{agent_id}"
