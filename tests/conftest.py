"""Fixtures shared across the suite."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from clausewatch.cli import main

DEMO_AS_OF = "2026-11-22T06:00:00Z"
TESTS = Path(__file__).resolve().parent
#: The slowest files (child processes killed at each step, whole demos, import probes), run
#: first: they would otherwise come last (top-level files sort after the folders) and leave one
#: xdist worker finishing them alone. Only the order changes; each file stays in one piece.
#: The tamper tests lead: their tally (the module's last test) reads what the attack tests
#: left in that worker's memory, and xdist's ``load`` hands the first worker the first
#: ``tests // workers // 4`` tests whole, so at the front the six stay together.
SLOW_FIRST = ("reports/test_verify_tamper.py", "test_kill_points.py", "test_situations.py",
              "reports/test_cli_reports.py", "test_lazy_imports.py", "test_demo.py",
              "collectors/test_fast_lines.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    rank = {name: at for at, name in enumerate(SLOW_FIRST)}

    def place(item: pytest.Item) -> int:
        try:
            name = item.path.resolve().relative_to(TESTS).as_posix()
        except ValueError:
            return len(rank)
        return rank.get(name, len(rank))

    items.sort(key=place)  # stable: the rest keep their order


@dataclass(frozen=True)
class DemoRun:
    """One `clausewatch run --demo` made for the whole session: tests only read its outputs."""

    out: Path
    code: int
    stdout: str


def _run_demo(out: Path) -> DemoRun:
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["run", "--demo", "--as-of", DEMO_AS_OF, "--out", str(out)])
    return DemoRun(out=out, code=code, stdout=printed.getvalue())


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> DemoRun:
    """Made once per pytest run: under xdist the first worker to ask makes it (the others wait
    on a lock) in the folder all workers share, and each reads it from there."""
    if worker_id == "master":
        return _run_demo(tmp_path_factory.mktemp("shared-demo") / "clausewatch-demo")
    root = tmp_path_factory.getbasetemp().parent / "shared-demo"  # shared by this run's workers
    root.mkdir(exist_ok=True)
    made = root / "made.json"
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file is closed
        if not made.exists():
            run = _run_demo(root / "clausewatch-demo")
            made.write_text(json.dumps({"code": run.code, "stdout": run.stdout}))
            return run
    done = json.loads(made.read_text())
    return DemoRun(out=root / "clausewatch-demo", code=done["code"], stdout=done["stdout"])


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """The URL of a PostgreSQL server for the whole session (tests/pg_server.py)."""
    import os

    from pg_server import Unavailable, postgres_server

    try:
        with postgres_server() as url:
            yield url
    except Unavailable as exc:
        if os.environ.get("CLAUSEWATCH_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL required (CLAUSEWATCH_REQUIRE_PG=1): {exc}")
        pytest.skip(f"no PostgreSQL server: {exc}")


@pytest.fixture
def pg_url(pg_server: str, request: pytest.FixtureRequest) -> Iterator[str]:
    """A fresh, empty database on the session's server, dropped afterwards."""
    import re

    import psycopg

    name = "t_" + re.sub(r"\W", "_", request.node.name.lower())[:50]
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = pg_server.rpartition("/")
    yield f"{base}/{name}"
    with psycopg.connect(pg_server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
