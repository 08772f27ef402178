"""Collection benchmark: Defender for Endpoint, 5,000 machines and their vulnerabilities.

The estate (tests/defender_fake.py, over TLS): 5,000 onboarded machines, 24 export rows each
(120,000 rows: 20 vulnerable software rows, half of them fixed by one of 40 KBs for 40 CVEs, all
in one monthly MSRC document). Every request the fake answers waits ``latency`` seconds.

Documented limits (cited):

* ``GET /api/machines``: ``$top`` at most 10,000 (https://learn.microsoft.com/defender-endpoint/
  api/get-machines);
* ``GET /api/machines/SoftwareVulnerabilitiesByMachine``: ``pageSize`` default 50,000, at most
  200,000; 30 calls a minute (https://learn.microsoft.com/defender-endpoint/api/
  get-assessment-software-vulnerabilities);
* throttling: 100 calls a minute per connection (https://learn.microsoft.com/legal/microsoft-365/
  api-terms-of-use), 1,500 an hour; 429 with Retry-After when exceeded. No concurrency is
  documented: the floor assumes one request at a time;
* sign-in: azure-identity (MSAL) reads the tenant's OpenID metadata, then POSTs the client
  credentials to the token endpoint (2 requests; the token lasts ``expires_in`` = 3,599 s);
* MSRC CVRF API (https://api.msrc.microsoft.com/cvrf/v3.0/swagger): ``updates('{CVE}')`` per
  CVE, ``cvrf/{ID}`` per monthly document; no batch lookup of several CVEs, no documented
  limit: counted per distinct CVE and document, one at a time.

The export answers as JSON pages here: Microsoft recommends the "via files" export (download
URLs to Azure Storage) for organisations of more than 100,000 devices, this estate has 5,000.

What the fake costs is kept out of the figure, not what the collector does:

* it keeps its HTTPS connections open (HTTP/1.1, as the real front ends do; the collector's
  httpx clients pool them), so a request is not a new TLS handshake on both sides of one
  process;
* its two large answers (the machine page, ~4 MB; the export page, ~100 MB of JSON) are encoded
  once before the collection is timed (``prerender``); every request is still answered by the
  fake and counted (one the warm-up did not foresee is encoded when asked, inside the timing);
* it writes an answer's headers and body in two sends: with Nagle's algorithm on, the second
  waits for the client's delayed ACK of the first (about 40 ms on Linux, on every small answer
  of a kept-alive connection: each MSRC lookup took ~95 ms at 50 ms latency). Its sockets are
  set ``TCP_NODELAY`` (``disable_nagle_algorithm``), as front ends answering in one write are;
* it runs in a child process (forked: the estate is not pickled), as bench/google_pages.py and
  bench/collect_m365.py serve theirs: encrypting and sending 100 MB, its handler threads and
  its estate (120,000 row dicts, ~3 million objects, ``gc.freeze``-d there) would otherwise
  hold the collector's interpreter lock and its garbage collector's attention, which a remote
  API never does. The child counts the requests it answered and sends the count back.

Floor = 2 (sign-in) + machine pages ($top 10,000) + export pages (200,000 rows a page) + 40 MSRC
updates + 1 MSRC document, at concurrency 1.
"""

from __future__ import annotations

import gc
import json
import multiprocessing
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import rest_estates as kit
from collect_common import Figure, floor_seconds

MACHINES, ROWS_EACH, CVES = 5_000, 24, 40
MAX_TOP, MAX_EXPORT, CONCURRENCY = 10_000, 200_000, 1


def estate(fake: object) -> None:
    import defender_fake as df

    fake.machines = [df.machine(f"{n:040x}", f"srv{n:05d}.corp.example", "WindowsServer2022",
                                df.ago(hours=2), version="21H2", build=20348)
                     for n in range(1, MACHINES + 1)]  # type: ignore[attr-defined]
    rows = []
    for n in range(1, MACHINES + 1):
        mid, dns = f"{n:040x}", f"srv{n:05d}.corp.example"
        for r in range(ROWS_EACH):
            if r < 10:
                cve = f"CVE-2026-{(n + r) % CVES + 1000}"
                row = df.vuln(mid, dns, "WindowsServer2022", "microsoft", "windows_server_2022",
                              "10.0.20348.2700", cve, "Critical", df.ago(days=12),
                              kb=f"50{(n + r) % CVES + 71000}",
                              update="November 2026 Security Updates")
            elif r < 20:
                row = df.vuln(mid, dns, "WindowsServer2022", "openssl", f"openssl{r}", "3.0.2",
                              f"CVE-2026-{r + 2000}", "High", df.ago(days=30))
            else:
                row = df.vuln(mid, dns, "WindowsServer2022", "microsoft", f"app{r}", "1.0",
                              None, None, df.ago(days=90))
            rows.append(row)
    fake.rows = rows  # type: ignore[attr-defined]
    nov = {"ID": "2026-Nov", "Alias": "2026-Nov", "DocumentTitle": "November 2026 Security "
           "Updates", "InitialReleaseDate": "2026-11-10T18:00:00Z",
           "CurrentReleaseDate": "2026-11-12T08:00:00Z"}
    fake.msrc_updates = {f"CVE-2026-{c + 1000}": [nov]
                         for c in range(CVES)}  # type: ignore[attr-defined]
    fake.msrc_docs = {"2026-Nov": {  # type: ignore[attr-defined]
        "DocumentTracking": {"Identification": {"ID": {"Value": "2026-Nov"}},
                             "InitialReleaseDate": "2026-11-10T18:00:00Z"},
        "Vulnerability": [{"CVE": f"CVE-2026-{c + 1000}", "Remediations": [
            {"Description": {"Value": f"50{c + 71000}"}, "Type": 2}]} for c in range(CVES)]}}


def prerender(fake: Any, method: str, *warm: tuple[str, dict[str, list[str]]]) -> None:
    """``fake.<method>`` (one route's answer) encoded once per distinct request, warmed now for
    the ``(path, query)`` pairs in ``warm``; a 200 answer is kept as bytes, others are not."""
    import defender_fake as df

    answer: Callable[[Any], Any] = getattr(fake, method)
    rendered: dict[tuple[str, str], Any] = {}

    def cached(req: Any) -> Any:
        key = (req.path, json.dumps(req.query, sort_keys=True))
        if key not in rendered:
            status, body, headers = answer(req)
            rendered[key] = (status, json.dumps(body).encode() if status == 200 else body,
                             headers)
        return rendered[key]

    setattr(fake, method, cached)
    for path, query in warm:
        cached(df.Request("GET", path, query, {}, {}))


def _serve(folder: Path, latency: float, conn: Connection) -> None:
    """The child: the fake with its estate, served until told to stop; sends ``(base, ca,
    rows)`` once listening, then the number of requests it answered."""
    import defender_fake as df

    fake = df.FakeDefender(keep_alive=True)
    estate(fake)
    server = df.start(fake, folder / "tls")  # fake.base: the next links name it
    server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
    prerender(fake, "_machines", ("/api/machines", {"$top": [str(MAX_TOP)]}))
    prerender(fake, "_export", ("/api/machines/SoftwareVulnerabilitiesByMachine",
                                {"pageSize": [str(MAX_EXPORT)]}))
    kit.add_latency(fake, latency)
    gc.collect()
    gc.freeze()
    with kit.serving(lambda: server):
        conn.send((fake.base, str(fake.ca), len(fake.rows)))
        conn.recv()
    conn.send(len(fake.requests))


def measure(latency: float) -> list[Figure]:
    import defender_fake as df

    from clausewatch.collectors.catalogue import BuildContext
    from clausewatch.collectors.defender.source import build
    from clausewatch.collectors.raw import RawRecorder
    from clausewatch.collectors.runner import collect_all
    from clausewatch.core.redact import Redactor

    folder = kit.scratch()
    fork = multiprocessing.get_context("fork")
    ours, theirs = fork.Pipe()
    child = fork.Process(target=_serve, args=(folder, latency, theirs), daemon=True)
    child.start()
    try:
        base, ca, rows = ours.recv()
        where = df.FakeDefender(base=base, ca=Path(ca))  # only its address, for the entry
        redactor = Redactor()
        context = BuildContext(as_of=df.AS_OF, raw=RawRecorder(folder / "out", redactor),
                               env={"MOREL_MDE_SECRET": df.SECRET}, base_dir=folder,
                               secrets=redactor)
        source = df.entry(where)
        batch, seconds = kit.timed(lambda: collect_all(build(source, context)))
        ours.send("stop")
        requests = ours.recv()
    finally:
        child.join(10)
    assert not batch.errors, batch.errors[:3]
    floor_pages = (2 + kit.pages(MACHINES, MAX_TOP) + kit.pages(rows, MAX_EXPORT) + CVES + 1)
    return [Figure("defender", requests, seconds,
                   floor_seconds(floor_pages, latency, CONCURRENCY))]
