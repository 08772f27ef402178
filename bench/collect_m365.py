"""Collection benchmark for Microsoft 365 / Graph (see collect_common.py).

A synthetic tenant of 10,000 users (9,600 members with a mailbox, 400 guests), 200 groups, 20
Conditional Access policies naming 31 of those groups (one of 2,500 members: three pages), 100
role definitions and 60 role assignments (three to role-assignable groups), 5,000 Intune managed
devices (3,500 Windows) and 30 Windows security updates is served by a local HTTP server
modelled on ``tests/collectors/m365/conftest.py`` (``http.server``, Graph's error shape, 401
without a bearer token), ``latency`` seconds added to every request. The real ``entra`` and
``intune`` (+ ``windows_updates``) collectors of one sources entry run through
``collectors.runner.collect_all`` as a run does (Microsoft 365 Backup is not in this estate). The
credential posts to the server's token endpoint: that request counts too.

Page sizes the server honours, as Graph documents them:

* ``users`` and ``groups/{id}/transitiveMembers``: default 100, ``$top`` 1..999, more is HTTP 400
  "Invalid page size specified: must be between 1 and 999 inclusive"
  (https://learn.microsoft.com/graph/paging; MSFT answer
  https://learn.microsoft.com/answers/questions/120381 "default page limit is 100 and the highest
  $top supported is 999").
* ``deviceManagement/managedDevices``: pages of at most 1,000 (the list page,
  https://learn.microsoft.com/graph/api/intune-devices-manageddevice-list, gives no figure;
  ``$top=1000`` is what integrations send). Served 1,000 with or without ``$top``, so main's
  collector (no ``$top``) is not charged for a smaller default the docs do not state.
* ``reports/authenticationMethods/userRegistrationDetails``: supports only ``$filter`` and
  ``$orderby`` (https://learn.microsoft.com/graph/api/authenticationmethodsroot-list-userregistrationdetails):
  server-driven pages, 1,000 here.
* ``$batch``: at most 20 requests per batch, each answered with its own status, headers and
  body (https://learn.microsoft.com/graph/json-batching); one batch is one request here.

Concurrency: 4 requests in flight per tenant. Graph documents request *rates* for directory and
Intune reads (identity: 8,000 resource units per 10 s per app and tenant of more than 500 users;
Intune devices: 2,000 requests per 20 s per app and tenant), which 4 requests in flight at these
latencies stay well under. Outlook, which mailboxSettings is, also limits *concurrency*: "up to 4
concurrent requests", evaluated "for each app ID and mailbox combination", and within a batch
Graph runs up to 4 of its Outlook requests in parallel
(https://learn.microsoft.com/graph/throttling-limits#outlook-service-limits). Each item of our
batches reads a different user's mailbox, so no mailbox ever sees more than one request at once,
whatever that batch paragraph is read to cover. The floor is ``pages x latency / 4`` with pages =
the token request + every page and batch the documented page sizes need.

Not modelled: Graph runs at most 4 items of a batch at a time, so a real batch of 20 mailbox
reads answers in about 5 item latencies; this fake answers a batch in one ``latency`` (the floor
counts a batch as one request too). It reports (stderr) the most Outlook executions its
batches in flight would have meant.
"""

from __future__ import annotations

import json
import multiprocessing
import re
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from azure.core.credentials import AccessToken
from collect_common import Figure, floor_seconds

TENANT = "33333333-3333-3333-3333-333333333333"
USERS, GUESTS, GROUPS, POLICIES, DEVICES, WINDOWS, UPDATES = 10_000, 400, 200, 20, 5_000, 3_500, 30
ROLE_DEFS, ROLE_ASSIGNMENTS, ROLE_GROUPS = 100, 60, 3
CONCURRENCY = 4
MAX_TOP = 999
DEVICE_PAGE = 1000
REG_PAGE = 1000
BATCH = 20


def _uid(n: int) -> str:
    return f"{n:08x}-0000-4000-8000-{n:012x}"


def _gid(n: int) -> str:
    return f"aaaaaaaa-0000-4000-8000-{n:012x}"


class Estate:
    """The synthetic tenant, generated once."""

    def __init__(self) -> None:
        self.users = []
        for n in range(USERS):
            guest = n >= USERS - GUESTS
            upn = f"guest{n}_ext.example#EXT#@t.onmicrosoft.com" if guest else f"user{n}@t.example"
            self.users.append({"id": _uid(n), "userPrincipalName": upn,
                               "displayName": f"User {n}", "accountEnabled": n % 97 != 0,
                               "userType": "Guest" if guest else "Member",
                               "createdDateTime": "2023-01-01T00:00:00Z",
                               "mail": None if guest else f"user{n}@t.example"})
        self.purpose = {_uid(n): ("shared" if n % 50 == 0 else "room" if n % 73 == 0 else "user")
                        for n in range(USERS - GUESTS)}
        self.regs = [{"id": u["id"], "userPrincipalName": u["userPrincipalName"],
                      "isMfaRegistered": i % 10 != 0, "isMfaCapable": i % 10 != 0,
                      "methodsRegistered": ["microsoftAuthenticatorPush"] if i % 10 else []}
                     for i, u in enumerate(self.users)]
        # group g: members g*40 .. g*40+size (transitive); group 0 is large (2,500)
        self.groups = {_gid(g): [_uid(m) for m in range(g * 40, g * 40 + (2500 if g == 0 else 300))
                                 if m < USERS] for g in range(GROUPS)}
        self.policies = [self._policy(p) for p in range(POLICIES)]
        self.ca_groups = sorted({g for p in self.policies
                                 for g in p["conditions"]["users"]["includeGroups"]
                                 + p["conditions"]["users"]["excludeGroups"]})
        self.role_defs = [{"id": f"role-{r}", "displayName": f"Role {r}",
                           "templateId": f"tmpl-{r}"} for r in range(ROLE_DEFS)]
        self.role_groups = [_gid(GROUPS - 1 - k) for k in range(ROLE_GROUPS)]
        self.assignments = []
        for a in range(ROLE_ASSIGNMENTS):
            group = a < ROLE_GROUPS
            pid = self.role_groups[a] if group else _uid(a * 7)
            self.assignments.append({
                "id": f"asg-{a}", "principalId": pid, "directoryScopeId": "/",
                "roleDefinitionId": f"role-{a % ROLE_DEFS}",
                "principal": {"@odata.type": "#microsoft.graph.group" if group
                              else "#microsoft.graph.user", "id": pid,
                              "displayName": f"Principal {a}"}})
        builds = ["10.0.22631", "10.0.19045", "10.0.26100"]
        self.devices = [{
            "id": f"dev-{d:05d}", "deviceName": f"PC-{d:05d}",
            "operatingSystem": "Windows" if d < WINDOWS else ("iOS" if d % 2 else "Android"),
            "osVersion": f"{builds[d % 3]}.{4000 + d % 300}" if d < WINDOWS else "17.5",
            "lastSyncDateTime": "2025-01-19T06:00:00Z", "enrolledDateTime": "2024-01-01T00:00:00Z",
            "complianceState": "compliant", "managedDeviceOwnerType": "company",
            "managementAgent": "mdm", "userPrincipalName": f"user{d}@t.example",
            "serialNumber": f"SN{d}", "azureADDeviceId": _uid(d), "model": "M", "manufacturer": "X",
        } for d in range(DEVICES)]
        self.catalog = [{
            "@odata.type": "#microsoft.graph.windowsUpdates.qualityUpdateCatalogEntry",
            "id": f"cat-{c}", "displayName": f"2024-{c:02d} Security Update",
            "releaseDateTime": "2024-06-11T00:00:00Z", "qualityUpdateClassification": "security",
            "cveSeverityInformation": {"maxSeverity": "critical", "exploitedCves": []},
            "productRevisions": [{"id": f"{b}.{4000 + c * 10}", "product": "Windows",
                                  "version": "x", "knowledgeBaseArticle": {"id": f"KB50{c:04d}"}}
                                 for b in builds]} for c in range(UPDATES)]

    def _policy(self, p: int) -> dict[str, Any]:
        return {
            "id": f"ca-{p:02d}", "displayName": f"CA{p:02d}",
            "state": "disabled" if p == POLICIES - 1 else "enabled",
            "conditions": {
                "applications": {"includeApplications": ["All"], "excludeApplications": []},
                "users": {"includeUsers": ["All"] if p == 0 else [], "excludeUsers": [],
                          "includeGroups": [] if p == 0 else [_gid(p), _gid(p + 20)],
                          "excludeGroups": [_gid(0)] if p < 10 else [],
                          "includeRoles": [], "excludeRoles": []},
                "clientAppTypes": ["all"],
            },
            "grantControls": {"operator": "OR", "builtInControls": ["mfa"]},
        }

    def floor_pages(self) -> int:
        """The fewest requests the documented API needs for this estate."""
        def pages(n: int, size: int) -> int:
            return max(1, -(-n // size))
        mailboxes = sum(1 for u in self.users if u["mail"] and u["userType"] == "Member")
        ca = [g for g in self.ca_groups]
        group_pages = sum(pages(len(self.groups[g]), MAX_TOP) for g in ca)
        role_group_pages = sum(pages(len(self.groups[g]), MAX_TOP) for g in self.role_groups)
        return (1  # token
                + pages(USERS, MAX_TOP) + pages(mailboxes, BATCH) + pages(USERS, REG_PAGE)
                + 1 + pages(POLICIES, MAX_TOP)  # security defaults, CA policies
                + pages(group_pages, BATCH)
                + 1 + 1 + pages(role_group_pages, BATCH)  # role definitions, assignments
                + pages(DEVICES, DEVICE_PAGE) + 1)  # devices, update catalog


def _error(status: int, code: str, message: str) -> tuple[int, dict[str, str], Any]:
    return status, {}, {"error": {"code": code, "message": message}}


class FakeGraph:
    """Graph and its token endpoint on 127.0.0.1, ``latency`` s per HTTP request."""

    def __init__(self, estate: Estate, latency: float) -> None:
        self.estate = estate
        self.latency = latency
        self.requests = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self.outlook = 0  # Outlook executions the batches in flight mean (up to 4 per batch)
        self.max_outlook = 0
        self._lock = threading.Lock()
        ThreadingHTTPServer.request_queue_size = 128
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> FakeGraph:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- routes -------------------------------------------------------------------------
    def answer(self, method: str, target: str, body: bytes) -> tuple[int, dict[str, str], Any]:
        url = urlsplit(target)
        path = unquote(url.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if method == "POST" and path.endswith("/oauth2/v2.0/token"):
            return 200, {}, {"token_type": "Bearer", "expires_in": 3600,
                             "access_token": "bench-token"}
        if method == "POST" and path in ("/v1.0/$batch", "/beta/$batch"):
            return self._batch(path.split("/")[1], json.loads(body or b"{}"))
        return self._get(path, query)

    def _batch(self, version: str, payload: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
        items = payload.get("requests", [])
        if len(items) > BATCH:
            return _error(400, "BadRequest", "too many requests in the batch (limit 20)")
        out = []
        for item in items:
            url = item["url"] if item["url"].startswith("/") else "/" + item["url"]
            status, headers, body = self._get(*self._split(f"/{version}{url}"))
            out.append({"id": item["id"], "status": status, "headers": headers, "body": body})
        return 200, {}, {"responses": out}

    @staticmethod
    def _split(target: str) -> tuple[str, dict[str, str]]:
        url = urlsplit(target)
        return unquote(url.path), {k: v[0] for k, v in parse_qs(url.query).items()}

    def _page(self, path: str, query: dict[str, str], rows: list[Any], default: int,
              maximum: int, fields: bool = True) -> tuple[int, dict[str, str], Any]:
        top = int(query.get("$top", default))
        if not 1 <= top <= maximum:
            return _error(400, "Request_BadRequest", f"Invalid page size specified: '{top}'. "
                          f"Must be between 1 and {maximum} inclusive.")
        start = int(query.get("$skiptoken", 0))
        chunk = rows[start:start + top]
        select = query.get("$select")
        if fields and select:
            keep = set(select.split(",")) | {"@odata.type"}
            chunk = [{k: v for k, v in r.items() if k in keep} for r in chunk]
        page: dict[str, Any] = {"value": chunk}
        if start + top < len(rows):
            rest = {k: v for k, v in query.items() if k != "$skiptoken"}
            rest["$skiptoken"] = str(start + top)
            page["@odata.nextLink"] = self.base + path + "?" + "&".join(
                f"{k}={v}" for k, v in rest.items())
        return 200, {}, page

    def _get(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        e = self.estate
        if path == "/v1.0/users":
            return self._page(path, query, e.users, 100, MAX_TOP)
        m = re.fullmatch(r"/v1\.0/users/([^/]+)/mailboxSettings", path)
        if m:
            purpose = e.purpose.get(m.group(1))
            if purpose is None:
                return _error(404, "MailboxNotEnabledForRESTAPI", "no mailbox")
            return 200, {}, {"userPurpose": purpose}
        if path == "/v1.0/reports/authenticationMethods/userRegistrationDetails":
            return self._page(path, {k: v for k, v in query.items() if k != "$top"} |
                              {"$top": str(REG_PAGE)}, e.regs, REG_PAGE, REG_PAGE)
        if path == "/v1.0/policies/identitySecurityDefaultsEnforcementPolicy":
            return 200, {}, {"id": "00000000-0000-0000-0000-000000000005", "isEnabled": False}
        if path == "/v1.0/identity/conditionalAccess/policies":
            return self._page(path, query, e.policies, 100, MAX_TOP)
        m = re.fullmatch(r"/v1\.0/groups/([^/]+)/transitiveMembers/(?:microsoft\.)?graph\.user",
                         path)
        if m:
            members = e.groups.get(m.group(1))
            if members is None:
                return _error(404, "Request_ResourceNotFound", "no such group")
            rows = [{"@odata.type": "#microsoft.graph.user", "id": u} for u in members]
            return self._page(path, query, rows, 100, MAX_TOP)
        if path == "/v1.0/roleManagement/directory/roleDefinitions":
            return self._page(path, query, e.role_defs, 1000, 1000)
        if path == "/v1.0/roleManagement/directory/roleAssignments":
            return self._page(path, query, e.assignments, 1000, 1000)
        if path == "/v1.0/deviceManagement/managedDevices":
            q = dict(query)
            q["$top"] = str(min(int(q.get("$top", DEVICE_PAGE)), DEVICE_PAGE))
            return self._page(path, q, e.devices, DEVICE_PAGE, DEVICE_PAGE)
        if path == "/beta/admin/windows/updates/catalog/entries":
            return self._page(path, query, e.catalog, 100, 100, fields=False)
        return _error(404, "ResourceNotFound", f"no route {path}")

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                outlook = min(4, body.count(b"/mailboxSettings"))  # parallel within a batch
                with fake._lock:
                    fake.requests += 1
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                    fake.outlook += outlook
                    fake.max_outlook = max(fake.max_outlook, fake.outlook)
                try:
                    time.sleep(fake.latency)
                    token = self.path.endswith("/token")
                    if not token and not (self.headers.get("authorization") or "").startswith(
                            "Bearer "):
                        status, extra, payload = _error(401, "InvalidAuthenticationToken",
                                                        "Access token is empty.")
                    else:
                        status, extra, payload = fake.answer(self.command, self.path, body)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1
                        fake.outlook -= outlook
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _any

            def log_message(self, *args: Any) -> None:
                pass

        return Handler


class TokenEndpointCredential:
    """A ``TokenCredential`` that asks the fake's token endpoint (one request per token)."""

    def __init__(self, base: str) -> None:
        self.url = f"{base}/{TENANT}/oauth2/v2.0/token"

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        data = b"grant_type=client_credentials&scope=" + " ".join(scopes).encode()
        with urllib.request.urlopen(urllib.request.Request(self.url, data=data)) as r:
            body = json.loads(r.read())
        return AccessToken(body["access_token"], int(time.time()) + int(body["expires_in"]))


def _serve(latency: float, conn: Any) -> None:
    """The fake in its own process (its CPU never competes with the collector's GIL): sends
    its base URL, serves until told to stop, then sends (requests, most in flight)."""
    fake = FakeGraph(Estate(), latency)
    with fake:
        conn.send(fake.base)
        conn.recv()
        conn.send((fake.requests, fake.max_in_flight, fake.max_outlook))


def run(latency: float) -> Figure:
    from clausewatch.collectors.catalogue import BuildContext
    from clausewatch.collectors.m365 import source as m365_source
    from clausewatch.collectors.raw import RawRecorder
    from clausewatch.collectors.runner import collect_all
    from clausewatch.core.redact import Redactor

    estate = Estate()
    ours, theirs = multiprocessing.Pipe()
    server = multiprocessing.get_context("fork").Process(target=_serve, args=(latency, theirs),
                                                         daemon=True)
    server.start()
    base = ours.recv()
    try:
        with tempfile.TemporaryDirectory() as out:
            redactor = Redactor()
            context = BuildContext(as_of=datetime(2025, 1, 20, 6, 0, tzinfo=UTC),
                                   raw=RawRecorder(Path(out), redactor), env={},
                                   base_dir=Path(out), secrets=redactor)
            original = m365_source.make_credential
            m365_source.make_credential = lambda entry, ctx, login, **kw: \
                TokenEndpointCredential(base)
            try:
                entry = {"name": "bench", "tenant_id": TENANT, "client_id": "app",
                         "client_secret_env": "BENCH_SECRET", "graph_host": base,
                         "collect": ["entra", "intune", "windows_updates"]}
                started = time.perf_counter()
                collectors = m365_source.build(entry, context, preflight=False)
                batch = collect_all(collectors)
                seconds = time.perf_counter() - started
            finally:
                m365_source.make_credential = original
    finally:
        ours.send("stop")
        requests, in_flight, outlook = ours.recv()
        server.join(10)
    if batch.errors:
        raise RuntimeError(f"collection errors: {[e.message for e in batch.errors][:3]}")
    identities = [e for e in batch.evidence if e.kind == "identity"]
    assets = [e for e in batch.evidence if e.kind == "asset"]
    if len(identities) != USERS or len(assets) != DEVICES:
        raise RuntimeError(f"{len(identities)} identities, {len(assets)} assets")
    print(f"  (m365: at most {in_flight} requests in flight at the fake Graph; their batches "
          f"mean at most {outlook} Outlook executions at once, each on a mailbox of its own)",
          file=sys.stderr)
    return Figure("m365", requests, seconds,
                  floor_seconds(estate.floor_pages(), latency, CONCURRENCY))


def measure(latency: float) -> list[Figure]:
    return [run(latency)]


if __name__ == "__main__":
    print(measure(float(sys.argv[1]) if len(sys.argv) > 1 else 0.05)[0].line())
