"""Fixtures of the Wazuh tests: ``wazuh`` / ``indexer`` (started fakes, tests/wazuh_fake.py),
``estate`` (a server and indexer loaded with the scenario), ``clock``, ``dead_url``."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from wazuh_fake import FakeClock, FakeIndexer, FakeWazuh, load_estate, start


@pytest.fixture
def servers() -> Iterator[list[Any]]:
    running: list[Any] = []
    yield running
    for server in running:
        server.shutdown()
        server.server_close()


@pytest.fixture
def wazuh(servers: list[Any]) -> Callable[..., FakeWazuh]:
    def make(**kw: Any) -> FakeWazuh:
        fake = FakeWazuh(**kw)
        servers.append(start(fake))
        return fake
    return make


@pytest.fixture
def indexer(servers: list[Any]) -> Callable[..., FakeIndexer]:
    def make(**kw: Any) -> FakeIndexer:
        fake = FakeIndexer(**kw)
        servers.append(start(fake))
        return fake
    return make


@pytest.fixture
def estate(wazuh: Callable[..., FakeWazuh], indexer: Callable[..., FakeIndexer]
           ) -> Callable[..., tuple[FakeWazuh, FakeIndexer]]:
    """``estate(version=..., cap=..., index_cap=...)``: a loaded server and its indexer."""
    def make(index_cap: int = 10_000, **kw: Any) -> tuple[FakeWazuh, FakeIndexer]:
        server, idx = wazuh(**kw), indexer(cap=index_cap)
        load_estate(server, idx)
        return server, idx
    return make


@pytest.fixture
def dead_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                 "all_proxy"):
        monkeypatch.delenv(name, raising=False)
