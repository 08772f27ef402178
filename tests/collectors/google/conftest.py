"""Fixtures for the Google sources: a local server, and no test sleeping through a back-off."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from google.api_core.retry import retry_base, retry_unary
from google_helpers import FakeTime
from google_stub import GoogleStub

from clausewatch.collectors.raw import RawRecorder
from clausewatch.core.redact import Redactor


@pytest.fixture(autouse=True)
def fake_time(monkeypatch: pytest.MonkeyPatch) -> FakeTime:
    """No test sleeps through a back-off: the retry loop's ``time`` is a fake clock."""
    fake = FakeTime()
    monkeypatch.setattr(retry_unary, "time", fake)  # the sleep and the deadline
    monkeypatch.setattr(retry_base, "time", fake)  # the deadline check
    return fake


@pytest.fixture
def stub() -> Iterator[Callable[[dict[str, Any]], GoogleStub]]:
    started: list[GoogleStub] = []

    def start(routes: dict[str, Any]) -> GoogleStub:
        server = GoogleStub(routes).__enter__()
        started.append(server)
        return server

    yield start
    for server in started:
        server.__exit__(None, None, None)


@pytest.fixture
def raw(tmp_path: Path) -> RawRecorder:
    return RawRecorder(tmp_path / "out", Redactor())
