"""A fake Microsoft Defender for Endpoint API, Entra ID token endpoint and MSRC CVRF API, on one
HTTPS server on 127.0.0.1 (azure-identity signs in only over TLS: a certificate for 127.0.0.1 is
made for each server, and given to the collector as its ``tls.ca_bundle``).

What it serves, in the documented shapes:

* ``GET /{tenant}/v2.0/.well-known/openid-configuration`` and ``POST /{tenant}/oauth2/v2.0/
  token`` (client credentials: ``client_id``, ``client_secret``, ``scope``; an OAuth error
  ``invalid_client`` / ``AADSTS7000215`` for a wrong secret), tokens that last ``expires_in``;
* ``GET /api/machines`` (bearer token checked; ``$top``/``$skip``, no ``@odata.nextLink`` as
  reported for ``$top``, or with next links when ``machine_links``); 404 with no machines;
* ``GET /api/machines/SoftwareVulnerabilitiesByMachine`` (``pageSize`` and ``@odata.nextLink``
  with a ``$skiptoken``), rows in camelCase, times without a zone;
* ``GET /cvrf/v3.0/updates('CVE-...')`` and ``GET /cvrf/v3.0/cvrf/{ID}`` (MSRC, no auth).

Connections are closed after each answer unless ``keep_alive`` (HTTP/1.1, as the real
services answer). An answer may be given already encoded (``bytes``: the benchmark renders its
large pages once, before it times the collector). Faults: ``fail(path, (status, headers),
...)`` answers those first (a 429 with Retry-After, a 500), ``fail_page(path, n, ...)`` on the
n-th request of a path. ``load_estate`` gives the tenant the machines the tests judge.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from virtual_clock import FakeClock  # noqa: F401 (re-exported to the tests)

AS_OF = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
TENANT = "5f0c1d7e-0000-4000-8000-00000000a001"
CLIENT = "8a2b0000-1111-4222-8333-444455556666"
SECRET = "mde-Secr3t~value.0042"
SCOPE = "https://api.securitycenter.microsoft.com/.default"


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost: (cert.pem, key.pem)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1)).not_valid_after(now + timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([
                x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]),
                critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    folder.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = folder / "fake-ca.pem", folder / "fake-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    form: dict[str, list[str]]


Reply = tuple[int, Any, dict[str, str]]


@dataclass
class FakeDefender:
    """The tenant's state: machines, export rows, MSRC documents, tokens, requests seen."""

    machines: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    msrc_updates: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # CVE -> docs
    msrc_docs: dict[str, dict[str, Any]] = field(default_factory=dict)  # ID -> CVRF doc
    machine_links: bool = False  # answer @odata.nextLink on /api/machines
    keep_alive: bool = False  # HTTP/1.1 persistent connections (else one connection a request)
    requests: list[Request] = field(default_factory=list)
    tokens: set[str] = field(default_factory=set)
    issued: int = 0
    expires_in: int = 3599
    faults: dict[str, list[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    page_faults: dict[tuple[str, int], tuple[int, dict[str, str]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""
    ca: Path | None = None

    def fail(self, path: str, *replies: tuple[int, dict[str, str]]) -> None:
        self.faults[path] = list(replies)

    def fail_page(self, path: str, n: int, status: int, headers: dict[str, str] | None = None
                  ) -> None:
        """Answer the ``n``-th request of ``path`` (1-based) with ``status``."""
        self.page_faults[(path, n)] = (status, headers or {})

    def seen(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    # -- answering --------------------------------------------------------------------------
    def answer(self, req: Request) -> Reply:
        with self.lock:
            self.requests.append(req)
            path = req.path
            if path.endswith("/v2.0/.well-known/openid-configuration"):
                tenant = path.split("/")[1]
                return 200, {"token_endpoint": f"{self.base}/{tenant}/oauth2/v2.0/token",
                             "authorization_endpoint":
                                 f"{self.base}/{tenant}/oauth2/v2.0/authorize",
                             "issuer": f"{self.base}/{tenant}/v2.0"}, {}
            if path.endswith("/oauth2/v2.0/token"):
                return self._token(path.split("/")[1], req.form)
            n = len(self.seen(path))
            fault = self.page_faults.pop((path, n), None)
            if fault is None and self.faults.get(path):
                fault = self.faults[path].pop(0)
            if path.startswith("/cvrf/v3.0/"):
                if fault:
                    return fault[0], {"error": "injected"}, fault[1]
                return self._msrc(unquote(path.removeprefix("/cvrf/v3.0/")))
            token = req.headers.get("authorization", "").removeprefix("Bearer ")
            if token not in self.tokens:
                return 401, {"error": {"code": "Unauthorized", "message": "invalid token"}}, {}
            if fault:
                status, headers = fault
                code = "TooManyRequests" if status == 429 else "InternalServerError"
                return status, {"error": {"code": code, "message": f"injected {status}"}}, headers
            if path == "/api/machines":
                return self._machines(req)
            if path == "/api/machines/SoftwareVulnerabilitiesByMachine":
                return self._export(req)
            return 404, {"error": {"code": "NotFound", "message": f"no route {path}"}}, {}

    def _token(self, tenant: str, form: dict[str, list[str]]) -> Reply:
        if (tenant != TENANT or form.get("client_id") != [CLIENT]
                or form.get("client_secret") != [SECRET]):
            return 401, {"error": "invalid_client", "error_codes": [7000215],
                         "error_description": "AADSTS7000215: Invalid client secret provided."
                         }, {}
        if form.get("scope") != [SCOPE] or form.get("grant_type") != ["client_credentials"]:
            return 400, {"error": "invalid_scope", "error_description": "AADSTS70011"}, {}
        self.issued += 1
        token = f"eyJ0eXAi.mde-{self.issued}.sig"
        self.tokens.add(token)
        return 200, {"token_type": "Bearer", "expires_in": self.expires_in, "ext_expires_in": 0,
                     "access_token": token}, {}

    def _machines(self, req: Request) -> Reply:
        if not self.machines:
            return 404, {"error": {"code": "ResourceNotFound",
                                   "message": "No machines found"}}, {}
        top = int(req.query.get("$top", ["10000"])[0])
        skip = int(req.query.get("$skip", ["0"])[0])
        page = self.machines[skip: skip + min(top, 10_000)]
        body: dict[str, Any] = {
            "@odata.context": f"{self.base}/api/$metadata#Machines", "value": page}
        if self.machine_links and skip + len(page) < len(self.machines):
            body["@odata.nextLink"] = f"{self.base}/api/machines?$top={top}&$skip={skip + top}"
        return 200, body, {}

    def _export(self, req: Request) -> Reply:
        size = int(req.query.get("pageSize", req.query.get("pagesize", ["50000"]))[0])
        token = req.query.get("$skiptoken", [""])[0]
        start = json.loads(base64.b64decode(token))["LineStoppedAt"] if token else 0
        page = self.rows[start: start + size]
        body: dict[str, Any] = {
            "@odata.context": f"{self.base}/api/$metadata#Collection(microsoft.windowsDefenderATP"
                              ".api.AssetVulnerability)", "value": page}
        if start + size < len(self.rows):
            nxt = base64.b64encode(json.dumps({"LineStoppedAt": start + size}).encode()).decode()
            body["@odata.nextLink"] = (f"{self.base}/api/machines/SoftwareVulnerabilitiesByMachine"
                                       f"?pagesize={size}&$skiptoken={nxt}")
        return 200, body, {}

    def _msrc(self, rest: str) -> Reply:
        if rest.startswith("updates("):
            cve = rest.removeprefix("updates(").strip("')")
            docs = self.msrc_updates.get(cve)
            if docs is None:
                return 404, {"error": {"code": "NotFound", "message": cve}}, {}
            return 200, {"@odata.context": f"{self.base}/cvrf/v3.0/$metadata#updates",
                         "value": docs}, {}
        if rest.startswith("cvrf/"):
            doc = self.msrc_docs.get(rest.removeprefix("cvrf/"))
            return (200, doc, {}) if doc else (404, {"error": "not found"}, {})
        return 404, {"error": "no route"}, {}


def handler(fake: FakeDefender) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode()
            req = Request(self.command, parts.path, parse_qs(parts.query),
                          {k.lower(): v for k, v in self.headers.items()},
                          dict(parse_qs(body)) if body else {})
            status, answer, headers = fake.answer(req)
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response_only(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            for key, value in headers.items():
                self.send_header(key, value)
            if not fake.keep_alive:
                self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _serve

        def log_message(self, *args: Any) -> None:
            pass

    Handler.protocol_version = "HTTP/1.1" if fake.keep_alive else "HTTP/1.0"
    return Handler


def start(fake: FakeDefender, folder: Path) -> ThreadingHTTPServer:
    """Serve ``fake`` over TLS on a free local port (``fake.base``, ``fake.ca`` are set)."""
    cert, key = make_certificate(folder)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(fake))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True).start()
    fake.base = f"https://127.0.0.1:{server.server_address[1]}"
    fake.ca = cert
    return server


# -- the estate --------------------------------------------------------------------------------
def iso(at: datetime) -> str:
    """A machine time: UTC, ``Z``, seven fractional digits (DateTimeOffset)."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "1Z"


def export_time(at: datetime) -> str:
    """An export time: UTC without a zone, space-separated, seven fractional digits."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") + "0"


def ago(days: float = 0, hours: float = 0) -> datetime:
    return AS_OF - timedelta(days=days, hours=hours)


def machine(mid: str, dns: str, platform: str, seen: datetime, *, health: str = "Active",
            onboarding: str = "Onboarded", tags: list[str] | None = None,
            version: str = "", build: int | None = None, group: str = "Servers"
            ) -> dict[str, Any]:
    return {"id": mid, "computerDnsName": dns, "firstSeen": iso(ago(days=400)),
            "lastSeen": iso(seen), "osPlatform": platform, "version": version,
            "osProcessor": "x64", "lastIpAddress": "10.0.0.5", "lastExternalIpAddress": None,
            "osBuild": build, "healthStatus": health, "rbacGroupId": 140, "rbacGroupName": group,
            "riskScore": "Low", "exposureLevel": "Medium", "isAadJoined": False,
            "aadDeviceId": None, "machineTags": tags or [], "onboardingStatus": onboarding,
            "osArchitecture": "64-bit"}


def vuln(device: str, dns: str, platform: str, vendor: str, software: str, version: str,
         cve: str | None, severity: str | None, first: datetime, *, kb: str | None = None,
         update: str | None = None, available: bool = True) -> dict[str, Any]:
    return {"id": f"{device}_{software}_{version}_{cve or ''}_", "deviceId": device,
            "rbacGroupName": "Servers", "deviceName": dns, "osPlatform": platform,
            "osVersion": "10.0.20348.2700", "osArchitecture": "x64", "softwareVendor": vendor,
            "softwareName": software, "softwareVersion": version, "cveId": cve,
            "cvssScore": 9.8 if severity == "Critical" else 7.5 if cve else None,
            "vulnerabilitySeverityLevel": severity, "recommendedSecurityUpdate": update,
            "recommendedSecurityUpdateId": kb, "recommendedSecurityUpdateUrl": None,
            "diskPaths": [], "registryPaths": [],
            "firstSeenTimestamp": export_time(first),
            "lastSeenTimestamp": export_time(ago(hours=3)),
            "exploitabilityLevel": "NoExploit", "recommendationReference": f"va-_-{software}",
            "securityUpdateAvailable": available}


M_WEB, M_APP, M_LNX, M_OLD, M_DISC, M_WKS = (
    "a1web01000000000000000000000000000000001", "a2app02000000000000000000000000000000002",
    "a3lnx01000000000000000000000000000000003", "a4old01000000000000000000000000000000004",
    "a5disc0000000000000000000000000000000005", "a6wks01000000000000000000000000000000006")
KB_NOV, KB_UNKNOWN = "5071001", "5071999"
CVE_WEB, CVE_APP, CVE_SSL, CVE_NOFIX = ("CVE-2026-1001", "CVE-2026-1002", "CVE-2026-2001",
                                        "CVE-2026-2002")
NOV_RELEASE = datetime(2026, 11, 10, 18, 0, tzinfo=UTC)


def load_estate(fake: FakeDefender) -> FakeDefender:
    """Six machines: Windows and Linux servers, one inactive, one not onboarded, a workstation.

    * web01 (Windows Server 2022): CVE-2026-1001, critical, fixed by KB5071001 released on
      2026-11-10 (MSRC), first seen 2026-11-15 20:00: 7 days from release are past; from
      detection it falls due on 2026-11-22.
    * app02 (Windows Server 2019): CVE-2026-1002, high, fixed by KB5071999, which MSRC's
      documents do not list: no release date; first seen 2 days ago.
    * lnx01 (Linux): openssl CVE-2026-2001, high, no KB, first seen 51 days ago; and
      CVE-2026-2002, critical, with no security update available.
    * old01 (Windows Server 2016): Inactive, last seen 20 days ago.
    * disc01: discovered, not onboarded (CanBeOnboarded).
    * wks01 (Windows 11): assessed, only software without a known vulnerability.
    """
    fake.machines = [
        machine(M_WEB, "web01.corp.morel.fr", "WindowsServer2022", ago(hours=2),
                tags=["env=prod", "Tier0"], version="21H2", build=20348),
        machine(M_APP, "app02.corp.morel.fr", "WindowsServer2019", ago(hours=3),
                tags=["env:prod"], version="1809", build=17763),
        machine(M_LNX, "lnx01.corp.morel.fr", "Linux", ago(hours=1), tags=["env=prod"]),
        machine(M_OLD, "old01.corp.morel.fr", "WindowsServer2016", ago(days=20),
                health="Inactive", version="1607", build=14393),
        machine(M_DISC, "disc01.corp.morel.fr", "WindowsServer2019", ago(days=1),
                health="Unknown", onboarding="CanBeOnboarded"),
        machine(M_WKS, "wks01.corp.morel.fr", "Windows11", ago(hours=1), version="23H2",
                build=22631, group="Workstations"),
    ]
    web, app, lnx = ("web01.corp.morel.fr", "WindowsServer2022"), \
        ("app02.corp.morel.fr", "WindowsServer2019"), ("lnx01.corp.morel.fr", "Linux")
    fake.rows = [
        vuln(M_WEB, *web, "microsoft", "windows_server_2022", "10.0.20348.2700", None, None,
             ago(days=300)),
        vuln(M_WEB, *web, "microsoft", "windows_server_2022", "10.0.20348.2700", CVE_WEB,
             "Critical", datetime(2026, 11, 15, 20, 0, tzinfo=UTC), kb=KB_NOV,
             update="November 2026 Security Updates"),
        vuln(M_APP, *app, "microsoft", "windows_server_2019", "10.0.17763.6400", CVE_APP,
             "High", ago(days=2), kb=KB_UNKNOWN, update="November 2026 Security Updates"),
        vuln(M_LNX, *lnx, "openssl", "openssl", "3.0.2", CVE_SSL, "High", ago(days=51)),
        vuln(M_LNX, *lnx, "gnu", "glibc", "2.35", CVE_NOFIX, "Critical", ago(days=60),
             available=False),
        vuln(M_OLD, "old01.corp.morel.fr", "WindowsServer2016", "microsoft",
             "windows_server_2016", "10.0.14393.7000", CVE_WEB, "Critical", ago(days=25),
             kb="5071002"),
        vuln(M_WKS, "wks01.corp.morel.fr", "Windows11", "microsoft", "windows_11",
             "10.0.22631.4460", None, None, ago(days=90)),
        vuln(M_WKS, "wks01.corp.morel.fr", "Windows11", "microsoft", "edge", "131.0.2903.51",
             None, None, ago(days=10)),
    ]
    nov = {"ID": "2026-Nov", "Alias": "2026-Nov", "DocumentTitle": "November 2026 Security "
           "Updates", "Severity": None, "InitialReleaseDate": "2026-11-10T18:00:00Z",
           "CurrentReleaseDate": "2026-11-12T08:00:00Z",
           "CvrfUrl": f"{fake.base}/cvrf/v3.0/cvrf/2026-Nov"}
    fake.msrc_updates = {CVE_WEB: [nov], CVE_APP: [nov]}

    def remediation(kb: str) -> dict[str, Any]:
        return {"Description": {"Value": kb}, "URL": f"https://catalog.update.microsoft.com/"
                f"v7/site/Search.aspx?q=KB{kb}", "Supercedence": "", "ProductID": ["12345"],
                "Type": 2, "DateSpecified": False, "SubType": "Security Update",
                "RestartRequired": {"Value": "Yes"}}

    fake.msrc_docs = {"2026-Nov": {
        "DocumentTitle": {"Value": "November 2026 Security Updates"},
        "DocumentTracking": {"Identification": {"ID": {"Value": "2026-Nov"}},
                             "Status": 2, "Version": "1.1",
                             "InitialReleaseDate": "2026-11-10T18:00:00Z",
                             "CurrentReleaseDate": "2026-11-12T08:00:00Z"},
        "Vulnerability": [
            {"CVE": CVE_WEB, "Title": {"Value": "Windows Kernel Elevation of Privilege"},
             "Remediations": [remediation(KB_NOV), remediation("5071002"),
                              {"Description": {"Value": "Disable the service"}, "Type": 0}],
             "RevisionHistory": [{"Number": "1.0", "Date": "2026-11-10T08:00:00",
                                  "Description": {"Value": "Information published."}}]},
            {"CVE": CVE_APP, "Title": {"Value": "Windows SMB Remote Code Execution"},
             "Remediations": [remediation("5071888")],
             "RevisionHistory": [{"Number": "1.0", "Date": "2026-11-10T08:00:00"}]},
        ]}}
    return fake


def entry(fake: FakeDefender, **kw: Any) -> dict[str, Any]:
    """A ``defender`` source entry for the fake (its sign-in, API and MSRC on one host)."""
    return {"name": "morel", "tenant_id": TENANT, "client_id": CLIENT,
            "client_secret_env": "MOREL_MDE_SECRET", "api_host": fake.base,
            "login_host": fake.base, "msrc_url": f"{fake.base}/cvrf/v3.0/",
            "tls": {"ca_bundle": str(fake.ca)}, "timeouts": {"read": 5, "connect": 2},
            **kw}


def subject(machine_id: str, tenant: str = "morel") -> str:
    return f"defender:{tenant}:{machine_id}"




def about(batch: Any, kind: str) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for ev in batch.evidence:
        if ev.kind == kind:
            out.setdefault(ev.subject, []).append(ev)
    return out
