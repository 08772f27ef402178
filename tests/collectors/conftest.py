"""Fixtures shared by the collector tests: ``no_proxy_env`` (every test), ``servers`` (local
servers shut down after the test) and ``dead_port`` (a local port nobody listens on)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy",
                   "all_proxy")


@pytest.fixture(autouse=True)
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """A proxy set in the developer's environment must not capture the local servers."""
    for name in PROXY_VARIABLES:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def servers() -> Iterator[list[Any]]:
    """Started ``socketserver`` servers the test appends; each is shut down and closed after."""
    running: list[Any] = []
    yield running
    for server in running:
        server.shutdown()
        server.server_close()


@pytest.fixture
def dead_port() -> int:
    """A local port nobody listens on (a connection to it is refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port
