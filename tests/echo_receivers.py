"""A loopback HTTP server whose answers echo what it received, as careless receivers do.

By path: ``/services/...`` answers like Slack (404 ``no_service`` then the path), ``/hooks/...``
like a generic receiver (400 with the whole request: path, query, headers, body),
``/workflows/...`` with a 302 to a URL holding the path and query, ``/status/<code>/...`` with
that code, ``/v2/enqueue`` like PagerDuty (400 with the event it got), and any GET like
Microsoft Graph (403 with the request's Authorization header and ``graph_echo`` in
``error.message``). Each echo starts about ``PAD`` characters in, so a secret sits across the
200th character, where bodies used to be cut before redaction.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

PAD = 185


class EchoReceiver:
    def __init__(self, graph_echo: str = "") -> None:
        self.graph_echo = graph_echo
        self.requests: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                request = {"method": self.command, "path": self.path,
                           "headers": dict(self.headers), "body": body}
                outer.requests.append(request)
                code, headers, payload = outer.answer(request)
                self.send_response(code)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _any

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def answer(self, req: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        path: str = req["path"]
        pad = "." * PAD
        if req["method"] == "GET":
            auth = {k.lower(): v for k, v in req["headers"].items()}.get("authorization")
            message = (f"{pad} Access token validation failure for {auth} ({self.graph_echo}) "
                       f"at {path}")
            doc = {"error": {"code": "InvalidAuthenticationToken", "message": message}}
            return 403, {"Content-Type": "application/json"}, json.dumps(doc).encode()
        if path.startswith("/services/"):
            return 404, {"Content-Type": "text/plain"}, f"no_service{pad}{path}".encode()
        if path.startswith("/status/"):  # /status/<code>/...: that code, echoing the path
            return int(path.split("/")[2]), {"Location": f"https://moved.example{path}"}, b""
        if path.startswith("/workflows/"):
            return 302, {"Location": f"https://moved.example{path}"}, b""
        if path.startswith("/v2/enqueue"):
            doc = {"status": "invalid event", "message": pad, "errors": [req["body"]]}
            return 400, {"Content-Type": "application/json"}, json.dumps(doc).encode()
        doc = {"error": "." * 160, "path": path, "request": req}
        return 400, {"Content-Type": "application/json"}, json.dumps(doc).encode()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
