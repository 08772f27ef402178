"""Fixtures of the Veeam tests: ``veeam`` (a started fake server, tests/veeam_fake.py),
``estate`` (one loaded with the scenario), ``clock`` (fake monotonic), ``dead_url``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from veeam_fake import FakeClock, FakeVeeam, load_estate, start


@pytest.fixture
def veeam(servers: list[Any]) -> Callable[..., FakeVeeam]:
    """``veeam(**FakeVeeam fields)``: a started fake server (``.base`` is its URL)."""
    def make(**kw: Any) -> FakeVeeam:
        fake = FakeVeeam(**kw)
        servers.append(start(fake))
        return fake
    return make


@pytest.fixture
def estate(veeam: Callable[..., FakeVeeam]) -> Callable[..., FakeVeeam]:
    """``estate(**FakeVeeam fields)``: a started server loaded with ``load_estate``."""
    return lambda **kw: load_estate(veeam(**kw))


@pytest.fixture
def dead_url(dead_port: int) -> str:
    """The URL of a local port nobody listens on (connection refused)."""
    return f"http://127.0.0.1:{dead_port}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()

