"""A scripted HTTP server on 127.0.0.1 for the REST kit's tests, and a clock that never sleeps.

Fixtures only (test modules import nothing from here): ``server``, ``clock`` and
``make_session``. ``server.script("GET /path", {"status": 429, "headers": {...}}, ...)``
serves those replies in turn (the last one repeats). A route may carry a query
(``"GET /items?skip=2&limit=2"``, compared with sorted parameters) or not (any query).
``{base}`` in a body becomes the server's own URL. A reply with ``hang=True`` sends nothing
until the test ends (the client's read timeout fires first).
Replies are sent with ``send_response_only``: the test decides every header, ``Date`` included.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import virtual_clock

from clausewatch.collectors.rest.client import ClientSettings, Timeouts, make_client
from clausewatch.collectors.rest.retry import RetryPolicy
from clausewatch.collectors.rest.session import RestSession
from clausewatch.core.redact import Redactor

NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)


@dataclass
class Reply:
    status: int = 200
    body: Any = None  # JSON-able, or bytes/str sent as is
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False
    check: Callable[[Seen], dict[str, Any] | None] | None = None  # may answer instead


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    target: str  # the request target as sent (absolute-form through a proxy)


class ScriptedServer:
    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[Seen] = []
        self.release = threading.Event()
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,),
                                       daemon=True)

    def script(self, route: str, *replies: Reply | dict[str, Any]) -> None:
        """Serve ``replies`` in turn on ``route`` (a dict gives ``Reply``'s fields)."""
        self.routes[_key(route)] = [r if isinstance(r, Reply) else Reply(**r) for r in replies]

    def seen(self, path: str) -> list[Seen]:
        return [r for r in self.requests if r.path == path]

    def _reply(self, seen: Seen) -> Reply:
        query = "&".join(f"{k}={v}" for k, v in sorted(seen.query.items()))
        with self._lock:
            self.requests.append(seen)
            for key in (f"{seen.method} {seen.path}?{query}", f"{seen.method} {seen.path}"):
                queue = self.routes.get(key)
                if queue:
                    return queue.pop(0) if len(queue) > 1 else queue[0]
        return Reply(404, {"error": {"code": "NoRoute", "message": f"{seen.method} {seen.path}"}})

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                seen = Seen(self.command, parts.path, dict(parse_qsl(parts.query)),
                            dict(self.headers.items()), self.rfile.read(length), self.path)
                reply = owner._reply(seen)
                if reply.check is not None:
                    answer = reply.check(seen)
                    reply = Reply(**answer) if answer is not None else reply
                if reply.hang:
                    owner.release.wait(10)
                    return
                body = reply.body
                if isinstance(body, str):
                    data = body.encode()
                elif isinstance(body, bytes):
                    data = body
                elif body is None:
                    data = b""
                else:
                    data = json.dumps(body).replace("{base}", owner.base).encode()
                self.send_response_only(reply.status)
                headers = {"Content-Type": "application/json", **reply.headers}
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_DELETE = _serve

            def log_message(self, *args: Any) -> None:
                pass

        return Handler

    def __enter__(self) -> ScriptedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


def _key(route: str) -> str:
    method, _, target = route.partition(" ")
    parts = urlsplit(target)
    if not parts.query:
        return f"{method} {parts.path}"
    query = "&".join(f"{k}={v}" for k, v in sorted(parse_qsl(parts.query)))
    return f"{method} {parts.path}?{query}"


class FakeClock(virtual_clock.FakeClock):
    """The shared virtual clock, with the wall-clock instant it stands for."""

    def now(self) -> datetime:
        return NOW + timedelta(seconds=self.t)


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    with ScriptedServer() as s:
        yield s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()



def policy(clock: FakeClock, **kw: Any) -> RetryPolicy:
    """A retry policy on the fake clock, without jitter (deterministic waits)."""
    return RetryPolicy(**{"jitter": 0.0, "sleep": clock.sleep, "clock": clock,
                          "now": clock.now, **kw})


@pytest.fixture
def make_session(server: ScriptedServer, clock: FakeClock) -> Iterator[Callable[..., RestSession]]:
    """``make_session(redactor=None, read=5.0, auth=None, base=None, **retry_policy)``: a
    session on the scripted server through a real ``make_client``, on the fake clock."""
    made: list[RestSession] = []

    def make(redactor: Redactor | None = None, *, read: float = 5.0, auth: Any = None,
             base: str | None = None, **retry: Any) -> RestSession:
        settings = ClientSettings(base_url=base or server.base + "/api/",
                                  timeouts=Timeouts(connect=2.0, read=read, write=2.0, pool=2.0))
        client = make_client(settings, redactor or Redactor(), auth=auth)
        made.append(RestSession(client, policy(clock, **retry)))
        return made[-1]

    yield make
    for s in made:
        s.close()
