"""Fixtures of the Veeam tests: ``veeam`` (a started fake server, tests/veeam_fake.py),
``estate`` (one loaded with the scenario), ``clock`` (fake monotonic), ``dead_url``."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from veeam_fake import FakeClock, FakeVeeam, load_estate, start


@pytest.fixture
def veeam() -> Iterator[Callable[..., FakeVeeam]]:
    """``veeam(**FakeVeeam fields)``: a started fake server (``.base`` is its URL)."""
    servers = []

    def make(**kw: Any) -> FakeVeeam:
        fake = FakeVeeam(**kw)
        servers.append(start(fake))
        return fake

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def estate(veeam: Callable[..., FakeVeeam]) -> Callable[..., FakeVeeam]:
    """``estate(**FakeVeeam fields)``: a started server loaded with ``load_estate``."""
    return lambda **kw: load_estate(veeam(**kw))


@pytest.fixture
def dead_url() -> str:
    """The URL of a local port nobody listens on (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy set in the developer's environment must not capture the local server."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
