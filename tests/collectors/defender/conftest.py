"""Fixtures of the Defender tests: ``defender`` (a started fake, tests/defender_fake.py),
``estate`` (one loaded with the scenario), ``clock`` (fake monotonic), ``dead_url``,
``collect`` (build the entry through ``source.build`` and run it)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from defender_fake import AS_OF, SECRET, FakeClock, FakeDefender, entry, load_estate, start

from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.defender.source import build
from clausewatch.collectors.jsonl import EvidenceBatch
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.rest.retry import RetryPolicy
from clausewatch.collectors.runner import collect_all
from clausewatch.core.redact import Redactor


@pytest.fixture
def defender(tmp_path: Path, servers: list[Any]) -> Callable[..., FakeDefender]:
    def make(**kw: Any) -> FakeDefender:
        fake = FakeDefender(**kw)
        servers.append(start(fake, tmp_path / f"tls{len(servers)}"))
        return fake
    return make


@pytest.fixture
def estate(defender: Callable[..., FakeDefender]) -> Callable[..., FakeDefender]:
    return lambda **kw: load_estate(defender(**kw))


@pytest.fixture
def dead_url(dead_port: int) -> str:
    return f"https://127.0.0.1:{dead_port}"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()



@pytest.fixture
def collect(tmp_path: Path, clock: FakeClock) -> Callable[..., tuple[EvidenceBatch, Redactor]]:
    def run(fake: FakeDefender, *, secret: str | None = SECRET, **kw: Any
            ) -> tuple[EvidenceBatch, Redactor]:
        redactor = Redactor()
        out = tmp_path / "out"
        env = {"MOREL_MDE_SECRET": secret} if secret else {}
        context = BuildContext(as_of=AS_OF, raw=RawRecorder(out, redactor), env=env,
                               base_dir=tmp_path, secrets=redactor)
        source = {k: v for k, v in entry(fake, **kw).items() if v is not None}
        retry = RetryPolicy.from_entry(source, sleep=clock.sleep, clock=clock, jitter=0.0,
                                       now=lambda: AS_OF)
        return collect_all(build(source, context, retry=retry)), redactor

    return run
