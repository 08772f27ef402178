"""A local HTTP server answering as Google's REST APIs do, for the real client libraries.

Routes: ``"METHOD /path"``, ``"METHOD /path?pageToken=T"``, ``"METHOD /path?parent=P"`` or
``"METHOD /path?parent=P&pageToken=T"`` (most specific first) -> a response, or a list of
responses served in turn (the last one repeats). A response is a dict (a 200 JSON body), a
fixture file name (``tests/fixtures/google``), ``(status, body)``, or a function of the query
(``dict[str, list[str]]``) returning one of those or a 200 body already encoded (``bytes``: a
large estate paged as asked, for bench/).
The query string is ignored except ``pageToken`` and ``parent`` (GAPIC adds
``$alt=json;enum-encoding=int``, discovery ``alt=json``).
Unknown routes answer Google's 404 body. ``/token`` answers an OAuth token (for key files whose
``token_uri`` points here) unless a ``POST /token`` route says otherwise. Every request is logged.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "google"
TOKEN = "ya29.test-token-not-a-secret"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


def error(status: int, message: str, reason: str | None = None,
          legacy: bool = False) -> tuple[int, dict[str, Any]]:
    """A Google error body: AIP-193 (``status``/``details``) or legacy (``errors[]``)."""
    names = {400: "INVALID_ARGUMENT", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
             429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE",
             504: "DEADLINE_EXCEEDED"}
    body: dict[str, Any] = {"code": status, "message": message}
    if legacy:
        body["errors"] = [{"message": message, "domain": "global",
                           "reason": reason or "forbidden"}]
    else:
        body["status"] = names.get(status, "UNKNOWN")
        if reason:
            body["details"] = [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                                "reason": reason, "domain": "googleapis.com"}]
    return status, {"error": body}


class GoogleStub:
    def __init__(self, routes: dict[str, Any], keep_alive: bool = False) -> None:
        self.keep_alive = keep_alive  # HTTP/1.1 persistent connections, as Google's front ends
        self.routes = {k: (list(v) if isinstance(v, list) else [v]) for k, v in routes.items()}
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def hits(self, method: str, path: str) -> int:
        return sum(1 for r in self.requests if r["method"] == method and r["path"] == path)

    def paths(self) -> list[str]:
        return [f"{r['method']} {r['path']}" for r in self.requests]

    def _respond(self, method: str, raw: str, headers: dict[str, str],
                 body: bytes) -> tuple[int, bytes]:
        url = urlsplit(raw)
        path = unquote(url.path)
        query = parse_qs(url.query)
        with self._lock:
            self.requests.append({"method": method, "path": path, "query": query,
                                  "headers": headers, "body": body})
        if path == "/token" and f"{method} /token" not in self.routes:
            return 200, json.dumps({"access_token": TOKEN, "expires_in": 3599,
                                    "token_type": "Bearer"}).encode()
        token = (query.get("pageToken") or [""])[0]
        parent = (query.get("parent") or [""])[0]
        keys = []
        if parent and token:
            keys.append(f"{method} {path}?parent={parent}&pageToken={token}")
        if parent:
            keys.append(f"{method} {path}?parent={parent}")
        if token:
            keys.append(f"{method} {path}?pageToken={token}")
        keys.append(f"{method} {path}")
        spec: Any = None
        with self._lock:
            for key in keys:
                queue = self.routes.get(key)
                if queue:
                    spec = queue.pop(0) if len(queue) > 1 else queue[0]
                    break
        if callable(spec):
            spec = spec(query)
        if isinstance(spec, bytes):  # a page encoded beforehand (bench/google_pages.py)
            return 200, spec
        if spec is None:
            status, payload = error(404, f"stub: no route {method} {path}")
        elif isinstance(spec, tuple):
            status, payload = spec
        elif isinstance(spec, str):
            status, payload = 200, fixture(spec)
        else:
            status, payload = 200, spec
        return status, json.dumps(payload).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            if stub.keep_alive:
                protocol_version = "HTTP/1.1"
                disable_nagle_algorithm = True  # headers and body are two writes

            def _any(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload = stub._respond(self.command, self.path, headers, body)
                self.send_response(status)
                self.send_header("content-type", "application/json; charset=UTF-8")
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _any

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> GoogleStub:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()


def running(routes: dict[str, Any]) -> Iterator[GoogleStub]:
    with GoogleStub(routes) as stub:
        yield stub
