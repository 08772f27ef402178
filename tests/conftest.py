"""Fixtures shared across the suite."""

from __future__ import annotations

import contextlib
import io
from dataclasses import dataclass
from pathlib import Path

import pytest

from clausewatch.cli import main

DEMO_AS_OF = "2026-11-22T06:00:00Z"


@dataclass(frozen=True)
class DemoRun:
    """One `clausewatch run --demo` made for the whole session: tests only read its outputs."""

    out: Path
    code: int
    stdout: str


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    out = tmp_path_factory.mktemp("shared-demo") / "clausewatch-demo"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(["run", "--demo", "--as-of", DEMO_AS_OF, "--out", str(out)])
    return DemoRun(out=out, code=code, stdout=printed.getvalue())
