"""The example source module of docs/rest-kit.md works as documented: schema, build, collect
through the runner, raw pages saved and redacted, failures as CollectionError."""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

import jsonschema
import pytest

from clausewatch.collectors.base import Collector, FailedCollector
from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.rest.retry import RetryPolicy
from clausewatch.collectors.runner import collect_all
from clausewatch.core.redact import Redactor

AS_OF = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)
PASSWORD = "acme-pa55word-123"


@pytest.fixture(scope="module")
def acme() -> Iterator[ModuleType]:
    """The example module, loaded from its file (a would-be ``collectors/acme.py``)."""
    path = Path(__file__).with_name("example_source.py")
    spec = importlib.util.spec_from_file_location("clausewatch_example_acme", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def job(i: int, result: str = "Success") -> dict[str, object]:
    return {"id": f"job-{i}", "name": f"Backup Job {i}", "lastResult": result,
            "lastRun": f"2026-11-2{i % 10}T22:00:12.473+01:00", "password": PASSWORD}


def page(skip: int, *jobs: dict[str, object], total: int = 5) -> dict[str, object]:
    return {"data": list(jobs),
            "pagination": {"total": total, "count": len(jobs), "skip": skip, "limit": 200}}


def context(tmp_path: Path, redactor: Redactor, env: dict[str, str]) -> BuildContext:
    return BuildContext(as_of=AS_OF, raw=RawRecorder(tmp_path / "out", redactor), env=env,
                        base_dir=tmp_path, secrets=redactor)


def entry(server) -> dict[str, object]:
    return {"name": "vbr-01", "url": f"{server.base}/api/", "username": "svc-clausewatch",
            "password_env": "ACME_PASSWORD", "timeouts": {"read": 5}}


def script_token(server) -> None:
    server.script("POST /api/oauth2/token", {"body": {"access_token": "acme-token-0123456789",
                                                      "expires_in": 900}})


def test_the_example_source_collects_through_the_runner(acme, server, clock, tmp_path):
    script_token(server)
    server.script("GET /api/v1/jobs/states", {"body": page(0, job(1), job(2), job(3, "None"))})
    server.script("GET /api/v1/jobs/states?skip=3&limit=200",
                  {"body": page(3, job(4, "Failed"), job(5, "Warning"))})
    jsonschema.validate(entry(server), acme.ENTRY_SCHEMA)
    assert list(acme.entry_problems(entry(server))) == []
    redactor = Redactor()
    collectors = acme.build(entry(server), context(tmp_path, redactor,
                                                   {"ACME_PASSWORD": PASSWORD}))
    collector: Collector = collectors[0]
    assert (collector.source, collector.origin, collector.kinds) == (
        "acme", "acme/vbr-01", ("backup",))
    batch = collect_all(collectors)
    assert batch.errors == []
    outcomes = {e.subject: e.facts["outcome"] for e in batch.evidence}
    assert outcomes == {"Backup Job 1": "success", "Backup Job 2": "success",
                        "Backup Job 4": "failed", "Backup Job 5": "partial"}
    assert all(e.observed_at == AS_OF and e.origin == "acme/vbr-01" for e in batch.evidence)
    assert {PASSWORD, "acme-token-0123456789"} <= set(redactor.known)
    ref = batch.evidence[0].raw_ref
    assert ref is not None and ref.startswith("raw/acme/acme/vbr-01/jobs-states-0001.json#")
    saved = (tmp_path / "out" / ref.split("#")[0]).read_text()
    assert PASSWORD not in saved and json.loads(saved)["pagination"]["total"] == 5


def test_a_failing_api_is_one_collection_error_for_the_origin(acme, server, clock, tmp_path):
    script_token(server)
    server.script("GET /api/v1/jobs/states", {"status": 403, "body": {
        "errorCode": "AccessDenied", "message": "user lacks the Backup Viewer role"}})
    collectors = acme.build(entry(server), context(tmp_path, Redactor(),
                                                   {"ACME_PASSWORD": PASSWORD}),
                            retry=RetryPolicy(sleep=clock.sleep, clock=clock))
    batch = collect_all(collectors)
    assert batch.evidence == []
    [error] = batch.errors
    assert (error.source, error.origin, error.kinds, error.operation) == (
        "acme", "acme/vbr-01", ("backup",), "jobs-states")
    assert "HTTP 403 access denied" in error.message
    assert error.message.endswith(": AccessDenied user lacks the Backup Viewer role")


def test_a_missing_password_is_a_failed_collector(acme, server, tmp_path):
    [collector] = acme.build(entry(server), context(tmp_path, Redactor(), {}))
    assert isinstance(collector, FailedCollector)
    [error] = collect_all([collector]).errors
    assert error.message == "environment variable ACME_PASSWORD (password_env) is not set"
    assert server.requests == []
