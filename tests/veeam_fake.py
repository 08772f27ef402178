"""A fake Veeam B&R REST server on 127.0.0.1 with the documented shapes and paging, and an estate.

``FakeVeeam`` serves what Veeam's OpenAPI documents describe (notes/veeam.md, the fixtures in
tests/fixtures/veeam): ``x-api-version`` required on every call (400 ``NotImplemented``
otherwise), ``POST /api/oauth2/token`` (password and refresh_token grants; refresh tokens are
rotated), bearer tokens checked on every call but ``/api/v1/serverTime`` (401 ``AccessDenied``),
lists paged by ``skip``/``limit`` with ``pagination.total`` (at most ``cap`` items a page, so
that a list of 7 takes several pages), ``POST /api/oauth2/logout``. Faults:
``expire_tokens_at(path, skip)`` revokes every access token when that page is asked for (a
token expiring mid-paging), ``fail(path, status)`` answers errors first.
``load_estate`` fills a server with the scenario the Veeam tests judge.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from virtual_clock import FakeClock  # noqa: F401 (re-exported to the tests)

from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.jsonl import EvidenceBatch
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.rest.retry import RetryPolicy
from clausewatch.collectors.runner import collect_all
from clausewatch.collectors.veeam.source import build
from clausewatch.core.evidence import Evidence
from clausewatch.core.redact import Redactor

FIXTURES = Path(__file__).parent / "fixtures" / "veeam"
AS_OF = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
PRAGUE = ZoneInfo("Europe/Prague")
USER, PASSWORD = "CORP\\svc-clausewatch", "vbr-Pa55word-0042"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def error(code: str, message: str) -> dict[str, str]:
    return {"errorCode": code, "message": message}


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    form: dict[str, list[str]]


@dataclass
class FakeVeeam:
    """The server's state: what it serves, the tokens it issued, the requests it saw."""

    versions: set[str] = field(default_factory=lambda: {"1.2-rev1"})
    cap: int = 200
    lists: dict[str, list[Any]] = field(default_factory=dict)  # path -> items
    docs: dict[str, Any] = field(default_factory=dict)  # path -> body
    requests: list[Request] = field(default_factory=list)
    access: set[str] = field(default_factory=set)
    refresh: set[str] = field(default_factory=set)
    issued: int = 0
    expires_in: int = 900
    expire_at: set[tuple[str, int]] = field(default_factory=set)
    faults: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""
    password: str = PASSWORD

    def list(self, path: str, items: list[Any]) -> None:
        self.lists[f"/api/v1/{path}"] = items

    def doc(self, path: str, body: Any) -> None:
        self.docs[f"/api/v1/{path}"] = body

    def expire_tokens_at(self, path: str, skip: int) -> None:
        self.expire_at.add((f"/api/v1/{path}", skip))

    def fail(self, path: str, *statuses: int) -> None:
        self.faults[f"/api/v1/{path}"] = list(statuses)

    def seen(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def grants(self) -> list[str]:
        return [r.form["grant_type"][0] for r in self.seen("/api/oauth2/token")]

    # -- answering ------------------------------------------------------------------------
    def answer(self, req: Request) -> tuple[int, Any]:
        with self.lock:
            self.requests.append(req)
            if req.headers.get("x-api-version") not in self.versions:
                return 400, error("NotImplemented", "The specified API version is not supported.")
            if req.path == "/api/oauth2/token":
                return self._token(req.form)
            if req.path == "/api/oauth2/logout":
                self.access.clear()
                self.refresh.clear()
                return 200, {}
            if req.path != "/api/v1/serverTime":
                token = req.headers.get("authorization", "").removeprefix("Bearer ")
                skip = int(req.query.get("skip", ["0"])[0])
                if (req.path, skip) in self.expire_at:
                    self.expire_at.discard((req.path, skip))
                    self.access.clear()
                if token not in self.access:
                    return 401, error("AccessDenied",
                                      "Unauthorized. Get bearer JWT token at /api/login")
            fault = self.faults.get(req.path)
            if fault:
                status = fault.pop(0)
                return status, error("ServiceUnavailable" if status >= 500 else "AccessDenied",
                                     f"injected HTTP {status}")
            if req.path in self.docs:
                return 200, self.docs[req.path]
            if req.path in self.lists:
                return 200, self._page(req, self.lists[req.path])
            return 404, error("NotFound", f"no route {req.path}")

    def _token(self, form: dict[str, list[str]]) -> tuple[int, Any]:
        grant = form.get("grant_type", [""])[0]
        if grant == "password":
            if form.get("username") != [USER] or form.get("password") != [self.password]:
                return 401, error("AccessDenied", "Invalid credentials")
        elif grant == "refresh_token":
            token = form.get("refresh_token", [""])[0]
            if token not in self.refresh:
                return 400, error("InvalidToken", "The refresh token is invalid")
            self.refresh.discard(token)  # rotated
        else:
            return 400, error("UnexpectedContent", f"grant_type {grant!r}")
        self.issued += 1
        n = self.issued
        access, refresh = f"eyJ.access-{n}.sig", f"eyJ.refresh-{n}.sig"
        self.access.add(access)
        self.refresh.add(refresh)
        issued = AS_OF + timedelta(minutes=n)
        return 200, {"access_token": access, "token_type": "bearer", "refresh_token": refresh,
                     "expires_in": self.expires_in, ".issued": issued.isoformat(),
                     ".expires": (issued + timedelta(seconds=self.expires_in)).isoformat()}

    def _page(self, req: Request, items: list[Any]) -> dict[str, Any]:
        skip = int(req.query.get("skip", ["0"])[0])
        limit = int(req.query.get("limit", ["200"])[0])
        data = items[skip: skip + min(limit, self.cap)]
        return {"data": data,
                "pagination": {"total": len(items), "count": len(data), "skip": skip,
                               "limit": limit}}


def handler(fake: FakeVeeam) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            req = Request(self.command, parts.path, parse_qs(parts.query),
                          {k.lower(): v for k, v in self.headers.items()},
                          dict(parse_qs(body)) if body else {})
            status, answer = fake.answer(req)
            data = json.dumps(answer).encode()
            self.send_response_only(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            pass

    return Handler


# -- the estate ------------------------------------------------------------------------------
J_DC = "6bf39221-c79b-49ff-8537-26a37b0a9080"  # daily, succeeds
J_AGENT = "e35ef047-8cfa-4c3e-979e-de2e5399142f"  # agent job: only Warning sessions
J_SQL = "c05dfa57-f59a-4e90-8065-b7f5d3276406"  # disabled, only failed sessions, no backup
J_WEB = "75fc491a-d158-4380-a433-ebc42a28e4df"  # last point 25 h old
J_EXCH = "53b87378-7958-477d-8def-fbe6740d4b6f"  # never ran
J_SUREBACKUP = "34b77de9-d5e2-4752-aff8-929bc428e80f"
B_DC, B_AGENT, B_WEB = ("f3b0fbc5-01cf-4464-976a-4881e6eda067",
                        "00d9832b-0b4e-45fe-a284-0683e6c0e44c",
                        "a7c1d2e3-0b4e-45fe-a284-0683e6c0e451")
ZERO = "00000000-0000-0000-0000-000000000000"


def stamp(at: datetime, *, offset: bool = True) -> str:
    """A Veeam time: local Prague time with its offset (7 digits), or without (SureBackup)."""
    local = at.astimezone(PRAGUE)
    text = local.strftime("%Y-%m-%dT%H:%M:%S.%f") + "3"
    if not offset:
        return text
    zone = local.strftime("%z")
    return f"{text}{zone[:3]}:{zone[3:]}"


def ago(hours: float = 0, days: float = 0) -> datetime:
    return AS_OF - timedelta(hours=hours, days=days)


def include(name: str, object_id: str, kind: str = "VirtualMachine") -> dict[str, Any]:
    return {"platform": "VMware", "type": kind, "hostName": "vcenter01.corp.example",
            "name": name, "objectId": object_id,
            "urn": f"vc:vcenter01.corp.example;vm:{object_id}", "size": "60 GB"}


def job(job_id: str, name: str, *includes: dict[str, Any], disabled: bool = False
        ) -> dict[str, Any]:
    return {"id": job_id, "name": name, "type": "Backup", "isDisabled": disabled,
            "description": "", "isHighPriority": False,
            "virtualMachines": {"includes": list(includes),
                                "excludes": {"vms": [], "disks": [], "templates": {
                                    "isEnabled": False, "excludeFromIncremental": False}}}}


def state(job_id: str, name: str, status: str, last: str, at: datetime | None,
          workload: str = "vm") -> dict[str, Any]:
    return {"id": job_id, "name": name, "type": "Backup", "description": "", "status": status,
            "lastRun": stamp(at) if at else None, "lastResult": last, "nextRun": None,
            "workload": workload, "repositoryId": ZERO, "repositoryName": "Default",
            "objectsCount": 1, "sessionId": None}


def session(sid: str, name: str, job_id: str, kind: str, start: datetime, minutes: float,
            result: str = "Success", *, offset: bool = True, message: str = "",
            state: str = "Stopped") -> dict[str, Any]:
    end = start + timedelta(minutes=minutes)
    return {"id": sid, "name": name, "jobId": job_id, "sessionType": kind,
            "creationTime": stamp(start, offset=offset),
            "endTime": stamp(end, offset=offset) if state == "Stopped" else None,
            "state": state, "progressPercent": 100,
            "result": {"result": result, "message": message, "isCanceled": False},
            "resourceId": None, "resourceReference": None, "parentSessionId": None,
            "usn": 1, "platformName": "VMware", "platformId": ZERO}


def task(tid: str, sid: str, kind: str, name: str, start: datetime, minutes: float,
         result: str = "Success", point: str | None = None, *, offset: bool = True,
         session_type: str = "BackupJob") -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": tid, "type": kind, "sessionId": sid, "sessionType": session_type,
        "creationTime": stamp(start, offset=offset),
        "endTime": stamp(start + timedelta(minutes=minutes), offset=offset),
        "name": name, "usn": 1, "state": "Stopped",
        "result": {"result": result, "message": "" if result == "Success" else "see log",
                   "isCanceled": False}}
    if point:
        out["restorePointId"] = point
    if kind == "Backup":
        out["platformType"] = "VMware"
    return out


def point(pid: str, name: str, backup: str, at: datetime, sid: str | None,
          platform: str = "VMware") -> dict[str, Any]:
    return {"platformName": platform, "type": "Increment", "malwareStatus": "Clean",
            "id": pid, "name": name, "platformId": ZERO, "creationTime": stamp(at),
            "backupId": backup, "sessionId": sid, "allowedOperations": ["StartFlrRestore"],
            "backupFileId": pid}


def vm_object(oid: str, name: str, object_id: str) -> dict[str, Any]:
    return {"viType": "VirtualMachine", "objectId": object_id, "platformName": "VMware",
            "path": f"vcenter01.corp.example\\Prague\\Infrastructure\\{name}",
            "id": oid, "name": name, "type": "VM", "platformId": ZERO, "restorePointsCount": 14}


def load_estate(fake: FakeVeeam) -> FakeVeeam:
    """vbr01 on API 1.2-rev1, ``as_of`` 2026-11-21T06:00Z. Subjects and what they are for:

    * dc01, dc02, ns01 (job DC, daily success; ns01 is a member of its Folder include);
      web01 (job WEB: last point 25 h old: RPO 24 h exceeded by one hour);
    * fs01.corp.example (agent job, not in /jobs before 1.3: three Warning sessions);
    * sql01 (explicit) and sql02 (a member of a Tag include, seen only through its failed
      task) in the disabled job SQL, whose runs all failed; exch01 in a job that never ran;
    * SureBackup: dc01 30 days ago (inside), dc02 85 days ago (at risk with 14 days' warning
      on a 92-day period), ns01 95 days ago (outside), times without offset as in Veeam's
      example; fs01 only in a content scan (Antivirus tasks: not a restore test);
    * restores: web01 restored 40 days ago, then a failed file-level restore 5 days ago.
    """
    fake.doc("serverTime", fixture("server_time.json"))
    fake.list("jobs", [
        job(J_DC, "Backup Job - Domain Controllers", include("dc01", "vm-503"),
            include("dc02", "vm-504"), include("Infrastructure", "group-v1021", "Folder")),
        job(J_SQL, "Backup Job - SQL", include("sql01", "vm-69191"),
            include("SQL servers", "urn:tag:1", "Tag"), disabled=True),
        job(J_WEB, "Backup Job - Web", include("web01", "vm-700")),
        job(J_EXCH, "Exchange Backup", include("exch01", "vm-800")),
    ])
    fake.list("jobs/states", [
        state(J_DC, "Backup Job - Domain Controllers", "inactive", "Success", ago(8)),
        state(J_AGENT, "Agent Backup - Physical Servers", "inactive", "Warning", ago(7),
              "server"),
        state(J_SQL, "Backup Job - SQL", "disabled", "Failed", ago(days=3)),
        state(J_WEB, "Backup Job - Web", "inactive", "Success", ago(25.5)),
        state(J_EXCH, "Exchange Backup", "inactive", "None", None),
    ])
    fake.list("backups", [
        {"id": B_DC, "jobId": J_DC, "policyUniqueId": "", "name": "Backup Job - Domain Controllers",
         "platformName": "VMware", "platformId": ZERO, "creationTime": stamp(ago(days=200)),
         "repositoryId": ZERO},
        {"id": B_AGENT, "jobId": J_AGENT, "policyUniqueId": "",
         "name": "Agent Backup - Physical Servers", "platformName": "WindowsPhysical",
         "platformId": ZERO, "creationTime": stamp(ago(days=150)), "repositoryId": ZERO},
        {"id": B_WEB, "jobId": J_WEB, "policyUniqueId": "", "name": "Backup Job - Web",
         "platformName": "VMware", "platformId": ZERO, "creationTime": stamp(ago(days=90)),
         "repositoryId": ZERO},
    ])
    fake.list(f"backups/{B_DC}/objects", [
        vm_object("2a192b21-4d32-4b94-829e-231e8f0c0355", "dc01", "vm-503"),
        vm_object("8cc1503d-c191-41dc-97a6-d748aff9cad4", "dc02", "vm-504"),
        vm_object("9dd2614e-d2a2-42ed-a8e9-e859b00adbe6", "ns01", "vm-505"),
    ])
    fake.list(f"backups/{B_AGENT}/objects", [
        {"id": "b74c6a02-e540-4a5c-8eac-e34550614b35", "name": "fs01.corp.example",
         "type": "Server", "platformName": "WindowsPhysical", "platformId": ZERO,
         "restorePointsCount": 30}])
    fake.list(f"backups/{B_WEB}/objects", [
        vm_object("1e0e4c69-a22d-414e-a9ab-8f03125c430b", "web01", "vm-700")])

    sessions = []
    for day in (2, 1, 0):  # DC: nightly success, the last one 8 h ago
        sessions.append(session(f"dc-{day}", "Backup Job - Domain Controllers", J_DC,
                                "BackupJob", ago(8, day), 26))
    for day in (2, 1, 0):  # agent: only warnings
        sessions.append(session(f"ag-{day}", "Agent Backup - Physical Servers", J_AGENT,
                                "BackupJob", ago(7, day), 20, "Warning",
                                message="Changed block tracking is disabled"))
    sessions.append(session("sql-3", "Backup Job - SQL", J_SQL, "BackupJob", ago(days=3), 4,
                            "Failed", message="Creating synthetic full backup (22% done)"))
    sessions.append(session("web-1", "Backup Job - Web", J_WEB, "BackupJob", ago(25.5), 20))
    sessions += [
        session("sb-dc01", "SureBackup Job - DC01", J_SUREBACKUP, "SureBackup", ago(days=30),
                42, offset=False),
        session("sb-dc02", "SureBackup Job - DC02", J_SUREBACKUP, "SureBackup", ago(days=85),
                40, offset=False),
        session("sb-ns01", "SureBackup Job - NS01", J_SUREBACKUP, "SureBackup", ago(days=95),
                39, offset=False),
        session("sb-scan", "Scan Backup", J_SUREBACKUP, "SureBackup", ago(days=10), 20,
                offset=False),
        session("rs-web-ok", "web01", "a00aa837-2c85-40c9-ae98-8b089dabc9b5", "RestoreVm",
                ago(days=40), 36.6),
        session("rs-web-ko", "web01", "2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901",
                "FileLevelRestore", ago(days=5), 12, "Failed", message="Mount failed"),
        session("ir-running", "sql01", "9239c712-3c0e-49e9-ae4d-c9c6267504e0",
                "InstantRecovery", ago(0.5), 0, "None", state="Working"),
        session("cfg", "Backup Configuration Job", "99d1bf3d-e2e0-4bec-b2b3-820c0b87d212",
                "ConfigurationBackup", ago(1), 1),
    ]
    fake.list("sessions", sessions)
    for day in (2, 1, 0):
        fake.list(f"sessions/ag-{day}/taskSessions", [
            task(f"t-ag-{day}", f"ag-{day}", "Backup", "fs01.corp.example", ago(7, day), 19,
                 "Warning", f"rp-fs01-{day}")])
    fake.list("sessions/sql-3/taskSessions", [
        task("t-sql01", "sql-3", "Backup", "sql01", ago(days=3), 3, "Failed"),
        task("t-sql02", "sql-3", "Backup", "sql02", ago(days=3), 3, "Failed")])
    for sid, name, days in (("sb-dc01", "dc01", 30), ("sb-dc02", "dc02", 85),
                            ("sb-ns01", "ns01", 95)):
        fake.list(f"sessions/{sid}/taskSessions", [
            task(f"t-{sid}", sid, "Restore", name, ago(days=days) + timedelta(minutes=2), 35,
                 offset=False, session_type="SureBackup"),
            task(f"t-{sid}-av", sid, "Antivirus", f"{name} [scan]", ago(days=days), 10,
                 offset=False, session_type="SureBackup")])
    fake.list("sessions/sb-scan/taskSessions", [
        task("t-scan", "sb-scan", "Antivirus", "fs01.corp.example", ago(days=10), 18,
             offset=False, session_type="SureBackup")])

    points = []
    for day in (2, 1, 0):
        points.append(point(f"rp-dc01-{day}", "dc01", B_DC, ago(7.9, day), f"dc-{day}"))
        points.append(point(f"rp-dc02-{day}", "dc02", B_DC, ago(7.8, day), f"dc-{day}"))
        points.append(point(f"rp-ns01-{day}", "ns01", B_DC, ago(7.7, day), None))  # by span
        points.append(point(f"rp-fs01-{day}", "fs01.corp.example", B_AGENT, ago(6.8, day),
                            f"ag-{day}", "WindowsPhysical"))
    points.append(point("rp-web01", "web01", B_WEB, ago(25), "web-1"))
    fake.list("restorePoints", points)
    return fake







def start(fake: FakeVeeam) -> ThreadingHTTPServer:
    """Serve ``fake`` on a free local port (``fake.base`` is set); shut it down when done."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(fake))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    fake.base = f"http://127.0.0.1:{server.server_address[1]}"
    return server


# -- running the collector against a fake ----------------------------------------------------
def entry(url: str, **kw: Any) -> dict[str, Any]:
    """A ``veeam`` source entry for the server at ``url`` (the estate's zone by default)."""
    return {"name": "vbr01", "url": url, "username": USER, "password_env": "VBR01_PASSWORD",
            "server_timezone": "Europe/Prague", "timeouts": {"read": 5, "connect": 2}, **kw}


def collect(url: str, out: Path, clock: FakeClock, *, password: str = PASSWORD, **kw: Any
            ) -> tuple[EvidenceBatch, Redactor]:
    """Build the entry's collector as ``build`` does (retry on the fake clock), run it."""
    redactor = Redactor()
    context = BuildContext(as_of=AS_OF, raw=RawRecorder(out, redactor),
                           env={"VBR01_PASSWORD": password}, base_dir=out, secrets=redactor)
    source = entry(url, **kw)
    source = {k: v for k, v in source.items() if v is not None}
    retry = RetryPolicy.from_entry(source, sleep=clock.sleep, clock=clock, jitter=0.0,
                                   now=lambda: AS_OF)
    collectors = build(source, context, retry=retry)
    return collect_all(collectors), redactor


def about(batch: EvidenceBatch, kind: str) -> dict[str, list[Evidence]]:
    """Records of ``kind`` by subject, in the order collected."""
    out: dict[str, list[Evidence]] = {}
    for ev in batch.evidence:
        if ev.kind == kind:
            out.setdefault(ev.subject, []).append(ev)
    return out


def subject(name: str, server: str = "vbr01") -> str:
    return f"veeam:{server}:{name}"
