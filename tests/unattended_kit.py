"""A small contract and evidence file, and the CLI run in a subprocess, for the unattended tests."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CONTRACT = """\
contract:
  id: k
  title: Test MSA
  provider: MSP
  customer: ACME
  effective_from: "2026-01-01"
  timezone: Europe/Paris
commitments:
  - id: patch-prod
    clause: "MSA §7.2"
    title: Critical patches within 7 days
    check: patch_lag
    responsible: provider
    params: {deadlines_days: {critical: 7}}
    target: 100%
"""
FIRST = datetime(2026, 11, 22, 6, 0, tzinfo=UTC)
BREACHED = 3  # the evidence holds a critical update 45 days late


def write_inputs(folder: Path) -> tuple[Path, Path]:
    """The contract and a two-line evidence file (one server, one late critical update)."""
    folder.mkdir(parents=True, exist_ok=True)
    policy, evidence = folder / "contract.yaml", folder / "evidence.jsonl"
    policy.write_text(CONTRACT, encoding="utf-8")
    seen = "2026-11-22T05:00:00Z"
    lines = [
        {"kind": "asset", "source": "rmm", "subject": "s1", "observed_at": seen,
         "facts": {"asset_kind": "server", "patch_assessed_at": seen}},
        {"kind": "patch", "source": "rmm", "subject": "s1", "observed_at": seen,
         "facts": {"update_id": "KB1", "severity": "critical", "state": "missing",
                   "released_at": "2026-10-01T00:00:00Z"}},
    ]
    evidence.write_text("".join(json.dumps(x) + "\n" for x in lines), encoding="utf-8")
    return policy, evidence


def as_of(night: int) -> str:
    """Each run a minute after the previous one (the evidence stays fresh)."""
    return (FIRST + timedelta(minutes=night)).strftime("%Y-%m-%dT%H:%M:%SZ")


def clausewatch(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
                prefix: tuple[str, ...] = ()) -> subprocess.CompletedProcess[str]:
    """``python -m clausewatch ARGS`` in a subprocess (``prefix``: a wrapper command)."""
    full_env = {**os.environ, "COLUMNS": "100", **(env or {})}
    return subprocess.run([*prefix, sys.executable, "-m", "clausewatch", *args],
                          capture_output=True, text=True, timeout=timeout, env=full_env,
                          check=False)


def in_process(*args: str) -> subprocess.CompletedProcess[str]:
    """``clausewatch ARGS`` through ``cli.main`` in this process, its stdout, stderr and warning
    logs captured as a subprocess's would be: for the runs whose point is not the process (the
    one before a kill, the one that puts it right), without an interpreter start each."""
    import contextlib
    import io
    import logging

    from clausewatch.cli import main

    out, err = io.StringIO(), io.StringIO()
    handler = logging.StreamHandler(err)
    handler.setLevel(logging.WARNING)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        root.removeHandler(handler)
    return subprocess.CompletedProcess(["clausewatch", *args], code, out.getvalue(),
                                       err.getvalue())


def no_traceback(done: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in done.stderr, done.stderr
    return done.stderr


def history_runs(path: Path) -> tuple[list[str], list[str]]:
    """(run ids in order, run ids still marked unpublished)."""
    conn = sqlite3.connect(path)
    try:
        runs = [r[0] for r in conn.execute("SELECT run_id FROM runs ORDER BY seq")]
        pending = [r[0] for r in conn.execute(
            "SELECT r.run_id FROM unpublished u JOIN runs r ON r.seq = u.run_seq")]
    finally:
        conn.close()
    return runs, pending


def published_run(out: Path) -> str | None:
    try:
        return str(json.loads((out / "results.json").read_text())["run"]["run_id"])
    except FileNotFoundError:
        return None


def chain(out: Path) -> dict:
    return json.loads((out / "evidence-pack" / "chain.json").read_text())  # type: ignore[no-any-return]
