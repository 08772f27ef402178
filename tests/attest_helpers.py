"""Shared by the attestation tests: a fixed clock for ``attest`` and a helper to call it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from clausewatch.cli import main

NOW = datetime(2026, 11, 21, 6, 0, tzinfo=UTC)  # attest's clock, and the runs' as_of
AS_OF = "2026-11-21T06:00:00Z"


def fix_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """``attest`` refuses a test in the future: give it a fixed now."""
    monkeypatch.setattr("clausewatch.commands.attest.utc_now", lambda: NOW)


def report(folder: Path, name: str = "PV-PRA-2026.pdf", body: bytes | None = None) -> Path:
    path = folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body if body is not None else b"%PDF-1.7\n\x00\xff signed " + name.encode())
    return path


def attest(store: Path, system: str, when: str, report_file: Path, *extra: str,
           outcome: str = "success") -> int:
    return main(["attest", "--store", str(store), "--system", system, "--date", when,
                 "--outcome", outcome, "--by", "C. Morel", "--role", "DSI",
                 "--report", str(report_file), *extra])
