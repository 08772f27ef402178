"""Fixtures of the Wazuh tests: ``wazuh`` / ``indexer`` (started fakes, tests/wazuh_fake.py),
``estate`` (a server and indexer loaded with the scenario), ``clock``, ``dead_url``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from wazuh_fake import FakeClock, FakeIndexer, FakeWazuh, load_estate, start


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
def dead_url(dead_port: int) -> str:
    return f"http://127.0.0.1:{dead_port}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()

