"""A run killed inside its transaction leaves the store as it was; a second run is refused."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import UTC, datetime
from pathlib import Path

from nights import B, C, contract, evaluation, info, night

from clausewatch.collectors.jsonl import write_evidence
from clausewatch.demo.contract import demo_contract_text
from clausewatch.demo.estate import build_estate
from clausewatch.history.store import open_history

TESTS = Path(__file__).resolve().parents[1]

CHILD = textwrap.dedent(
    """
    import sys, time, pathlib
    sys.path.insert(0, {tests!r})
    from nights import B, C, contract, evaluation, info, night
    from clausewatch.history.store import open_history

    path, marker = sys.argv[1], pathlib.Path(sys.argv[2])
    k = contract()
    statuses = {{f"s{{i}}": C for i in range(2000)}} | {{"x": C, "y": B}}

    def pause():
        marker.write_text("inside the transaction")
        time.sleep(120)

    with open_history(path) as store:
        store.record(evaluation(k, night(1), statuses), info(night(1), 1), contract_text="",
                     before_commit=pause)
    """
)


def snapshot(path: Path) -> dict[str, list[tuple]]:
    conn = sqlite3.connect(path)
    try:
        return {
            t: sorted(conn.execute(f"SELECT * FROM {t}").fetchall(), key=repr)
            for t in ("runs", "verdicts", "results", "intervals", "contracts", "deliveries")
        }
    finally:
        conn.close()


def test_sigkill_inside_the_transaction_leaves_the_store_intact(tmp_path):
    path = tmp_path / "h.sqlite"
    k = contract()
    with open_history(path) as store:
        store.record(evaluation(k, night(0), {"x": B, "y": C}), info(night(0), 0),
                     contract_text="")
    before = snapshot(path)
    marker = tmp_path / "marker"
    script = tmp_path / "child.py"
    script.write_text(CHILD.format(tests=str(TESTS)))
    child = subprocess.Popen([sys.executable, str(script), str(path), str(marker)])
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, "the child died before reaching the pause point"
            assert time.monotonic() < deadline
            time.sleep(0.05)
        # the child is inside BEGIN IMMEDIATE with its rows written: a hot journal exists
        assert Path(f"{path}-journal").exists()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    with open_history(path) as store:  # the lock died with the child; the journal rolls back
        assert store.conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        prior = store.prior("ctr-1")
    assert snapshot(path) == before
    assert prior.as_of == night(0) and prior.open[("PATCH", "x")].breached_at == night(0)


def test_a_second_run_on_a_busy_store_exits_2(tmp_path):
    as_of = datetime(2026, 11, 22, 3, 0, tzinfo=UTC)
    policy = tmp_path / "contract.yaml"
    policy.write_text(demo_contract_text(as_of.date()), encoding="utf-8")
    estate = build_estate(as_of)
    evidence = tmp_path / "evidence.jsonl"
    with open(evidence, "w", encoding="utf-8") as handle:
        write_evidence([*estate.evidence, *estate.errors], handle)
    path = tmp_path / "h.sqlite"
    cmd = [sys.executable, "-m", "clausewatch", "evaluate", "--policy", str(policy),
           "--evidence", str(evidence), "--as-of", "2026-11-22T03:00:00Z", "--json",
           "--history", str(path)]
    with open_history(path):
        busy = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert busy.returncode == 2
    assert "is in use by another run (pid" in busy.stderr
    assert busy.stdout == ""  # refused before printing results
    with open_history(path) as store:
        assert store.count("runs") == 0
    ok = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert ok.returncode == 3, ok.stderr  # the demo estate has breaches
    with open_history(path) as store:
        assert store.count("runs") == 1


def test_an_unpublished_run_rolls_back_to_the_store_as_it_was(tmp_path):
    """A run recorded while publishing, then rolled back (its outputs never appeared): every
    row it wrote is gone and every interval it changed is as before, exactly."""
    path = tmp_path / "h.sqlite"
    k = contract()
    with open_history(path) as store:
        store.record(evaluation(k, night(0), {"x": B, "y": C}), info(night(0), 0),
                     contract_text="")
    before = snapshot(path)
    with open_history(path) as store:  # x cured, y breached: closes one interval, opens one
        store.record(evaluation(k, night(1), {"x": C, "y": B}), info(night(1), 1),
                     contract_text="", publishing=str(tmp_path / "out"))
        assert [u.run_id for u in store.unpublished()] == [info(night(1), 1).run_id]
    assert snapshot(path) != before
    with open_history(path) as store:
        assert store.roll_back(info(night(1), 1).run_id)
        assert store.unpublished() == []
        assert not store.roll_back(info(night(0), 0).run_id)  # a published run stays
    assert snapshot(path) == before
