"""A local Microsoft Graph emulator (http.server on 127.0.0.1) serving recorded pages.

Routes come from ``tests/fixtures/m365/<tenant>/routes.json``: ``"METHOD /path[?$skiptoken=..]"``
-> a page file, or ``{"status", "file"|"body", "headers"}``, or a list of those served in turn
(the last one repeats). ``{base}`` in a page is replaced by the emulator's own URL, so
``@odata.nextLink`` points back at it. Requests without a bearer token get 401; unknown routes
get Graph's 404 error shape. ``POST /v1.0/$batch`` answers each item from the same routes
(https://learn.microsoft.com/graph/json-batching): each item is recorded as a request of its own
(``"batch": True``, with the batch's authorization and the item's headers), its route's status,
headers and body become the item's answer.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from azure.core.credentials import AccessToken

from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.m365 import source as m365_source
from clausewatch.collectors.raw import RawRecorder
from clausewatch.core.redact import Redactor

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "m365"
AS_OF = datetime(2025, 1, 20, 6, 0, tzinfo=UTC)
TOKEN = "test-token-not-a-secret"
CONTOSO = "11111111-1111-1111-1111-111111111111"
FABRIKAM = "22222222-2222-2222-2222-222222222222"


class StaticCredential:
    """An azure.core ``TokenCredential`` that returns a fixed token: no network."""

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.scopes.append(scopes)
        return AccessToken(self.token, 4102444800)


class GraphEmulator:
    def __init__(self, routes: dict[str, Any], folder: Path | None = None) -> None:
        self.routes = {k: (list(v) if isinstance(v, list) else [v]) for k, v in routes.items()}
        self.folder = folder
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @classmethod
    def tenant(cls, name: str) -> GraphEmulator:
        folder = FIXTURES / name
        return cls(json.loads((folder / "routes.json").read_text()), folder)

    def hits(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r["method"] == method and r["path"] == path)

    def _respond(self, method: str, raw_path: str, headers: dict[str, str], body: bytes,
                 batch: bool = False) -> tuple[int, dict[str, str], bytes]:
        url = urlsplit(raw_path)
        query = parse_qs(url.query)
        with self._lock:
            self.requests.append({"method": method, "path": url.path, "query": query,
                                  "at": time.monotonic(), "batch": batch,
                                  "headers": headers, "body": body})
        if not headers.get("authorization", "").startswith("Bearer "):
            return 401, {}, _error("InvalidAuthenticationToken", "Access token is empty.")
        if method == "POST" and url.path.endswith("/$batch"):
            return self._batch(url.path.removesuffix("/$batch"), headers, body)
        key = f"{method} {url.path}"
        token = re.search(r"(?:^|&)(?:\$|%24)skiptoken=([^&]*)", url.query)
        if token:
            key += f"?$skiptoken={token.group(1)}"  # as sent, still percent-encoded
        with self._lock:
            queue = self.routes.get(key)
            spec = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else None
        if spec is None:
            return 404, {}, _error("ResourceNotFound", f"no route {key}")
        if isinstance(spec, str):
            spec = {"file": spec}
        text = (self.folder / spec["file"]).read_text() if "file" in spec else \
            json.dumps(spec.get("body", {}))
        return spec.get("status", 200), spec.get("headers", {}), \
            text.replace("{base}", self.base).encode()

    def _batch(self, version: str, headers: dict[str, str], body: bytes
               ) -> tuple[int, dict[str, str], bytes]:
        requests = json.loads(body)["requests"]
        if len(requests) > 20:
            return 400, {}, _error("BadRequest", "a batch holds at most 20 requests")
        answers = []
        for item in requests:
            sub = {"authorization": headers.get("authorization", "")}
            sub.update({k.lower(): v for k, v in (item.get("headers") or {}).items()})
            status, extra, payload = self._respond(item["method"], version + item["url"], sub,
                                                   b"", batch=True)
            answers.append({"id": item["id"], "status": status, "headers": extra,
                            "body": json.loads(payload) if payload else None})
        return 200, {}, json.dumps({"responses": answers[::-1]}).encode()  # any order

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        emulator = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, extra, payload = emulator._respond(self.command, self.path, headers, body)
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for k, v in extra.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _any

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> GraphEmulator:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def _error(code: str, message: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message,
                                 "innerError": {"date": "2025-01-20T06:00:00"}}}).encode()


@pytest.fixture
def emulator() -> Iterator[Any]:
    """``emulator("contoso")`` or ``emulator(routes={...})``: started, stopped after the test."""
    started: list[GraphEmulator] = []

    def start(tenant: str | None = None, routes: dict[str, Any] | None = None) -> GraphEmulator:
        emu = GraphEmulator.tenant(tenant) if tenant else GraphEmulator(routes or {}, FIXTURES)
        started.append(emu.__enter__())
        return emu

    yield start
    for emu in started:
        emu.__exit__()


@pytest.fixture
def credential(monkeypatch: pytest.MonkeyPatch) -> StaticCredential:
    """Replace the credential seam of the m365 source with a fixed-token credential."""
    cred = StaticCredential()
    monkeypatch.setattr(m365_source, "make_credential", lambda entry, context, login: cred)
    return cred


@pytest.fixture
def context(tmp_path: Path) -> BuildContext:
    redactor = Redactor()
    return BuildContext(as_of=AS_OF, raw=RawRecorder(tmp_path / "out", redactor), env={},
                        base_dir=tmp_path, secrets=redactor)


def collect(collector: Any) -> tuple[list[Any], list[Any]]:
    """(evidence, errors) of one collector."""
    from clausewatch.core.evidence import CollectionError

    items = list(collector.collect())
    return ([i for i in items if not isinstance(i, CollectionError)],
            [i for i in items if isinstance(i, CollectionError)])


@pytest.fixture
def run_collector(credential: StaticCredential, context: BuildContext) -> Any:
    """Build one tenant's collectors through ``source.build`` and run the one named."""

    def run(emu: GraphEmulator, tenant_id: str, which: str, **entry: Any
            ) -> tuple[list[Any], list[Any]]:
        spec = {"name": "t", "tenant_id": tenant_id, "client_id": "app", "auth": "azure_cli",
                "graph_host": emu.base, "collect": [which], **entry}
        if which == "intune" and "collect" not in entry:
            spec["collect"] = ["intune", "windows_updates"]
        collectors = m365_source.build(spec, context)
        assert len(collectors) == 1
        return collect(collectors[0])

    return run
