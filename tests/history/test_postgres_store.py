"""The PostgreSQL history store against a real server (tests/pg_server.py): the same content
as SQLite for the same runs, one run per contract at a time, eight contracts at once,
nothing half-written when a writer is SIGKILLed, no password in the URL."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from clausewatch.demo import portfolio as synthetic
from clausewatch.history.periods import parse_period
from clausewatch.history.portfolio import portfolio
from clausewatch.history.store import HistoryError, StoreBusy, open_history, read_history
from clausewatch.reports.portfolio import to_json

LAST = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def snapshot(location: str | Path) -> dict[str, object]:
    """Everything the reports read, per contract, in a backend-neutral form."""
    out: dict[str, object] = {}
    with read_history(location) as store:
        for cid in sorted(store.contract_ids()):
            runs = store.runs(cid)
            seqs = [r.seq for r in runs]
            verdicts, counts = store.verdicts(seqs), store.result_counts(seqs)
            out[cid] = {
                "runs": [(r.run_id, r.as_of, r.status, r.exit_code, r.partial) for r in runs],
                "verdicts": [sorted(verdicts[s].items()) for s in seqs],
                "counts": [sorted((k, sorted(v.items())) for k, v in counts[s].items())
                           for s in seqs],
                "intervals": [(i.commitment_id, i.subject, i.opened_at, i.breached_at,
                               i.closed_at, i.end_reason, i.last_status)
                              for i in store.intervals(cid)],
            }
        rolled = to_json(portfolio(store, parse_period("2026-11"), NOW))
        rolled.pop("tool_version")
        out["portfolio"] = rolled
    return out


def test_same_runs_give_the_same_store_and_portfolio(pg_url: str, tmp_path: Path) -> None:
    sqlite = tmp_path / "h.sqlite"
    for location in (sqlite, pg_url):
        with open_history(location, durable=False) as store:
            synthetic.fill(store, count=3, nights=40, last_night=LAST)
    assert snapshot(pg_url) == snapshot(sqlite)
    with read_history(pg_url) as store:
        assert store.count("runs") == 120 and store.count("intervals") > 0


def test_two_runs_of_one_contract_are_refused_others_proceed(pg_url: str) -> None:
    with open_history(pg_url, contract_id="customer-0000"):
        with pytest.raises(StoreBusy, match="customer-0000.*in progress.*backend"):
            with open_history(pg_url, contract_id="customer-0000"):
                pass
        with open_history(pg_url, contract_id="customer-0001"):
            pass  # another contract: side by side
    with open_history(pg_url, contract_id="customer-0000"):
        pass  # released with the connection


def test_eight_contracts_at_once_all_land(pg_url: str) -> None:
    contracts = list(synthetic.contracts(8))
    barrier = threading.Barrier(8)
    failures: list[BaseException] = []

    def night(contract, text) -> None:  # type: ignore[no-untyped-def]
        try:
            with open_history(pg_url, contract_id=contract.id) as store:
                barrier.wait(timeout=30)  # all eight hold their lock together
                for k in range(5):
                    ev = synthetic.evaluation(contract, LAST.replace(day=20 + k), k)
                    from clausewatch.core.run import RunInfo

                    info = RunInfo(as_of=ev.as_of, started_at=ev.as_of, finished_at=ev.as_of,
                                   run_id=f"{contract.id}-{k}")
                    store.record(ev, info, contract_text=text)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            failures.append(exc)

    threads = [threading.Thread(target=night, args=pair) for pair in contracts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert failures == []
    with read_history(pg_url) as store:
        assert sorted(store.contract_ids()) == sorted(c.id for c, _ in contracts)
        assert store.count("runs") == 40


KILLER = """
import os, signal, sys
from datetime import datetime, UTC
from clausewatch.demo import portfolio as synthetic
from clausewatch.core.run import RunInfo
from clausewatch.history.store import open_history
contract, text = next(synthetic.contracts(1))
as_of = datetime(2026, 11, 30, 2, tzinfo=UTC)
ev = synthetic.evaluation(contract, as_of, 3)
info = RunInfo(as_of=as_of, started_at=as_of, finished_at=as_of, run_id="killed")
with open_history(sys.argv[1], contract_id=contract.id) as store:
    store.record(ev, info, contract_text=text,
                 before_commit=lambda: os.kill(os.getpid(), signal.SIGKILL))
"""


def test_sigkill_mid_write_leaves_the_store_as_it_was(pg_url: str) -> None:
    with open_history(pg_url, durable=False) as store:
        synthetic.fill(store, count=1, nights=3, last_night=LAST)
    before = snapshot(pg_url)
    done = subprocess.run([sys.executable, "-c", KILLER, pg_url], capture_output=True,
                          timeout=120, env={**os.environ}, check=False)
    assert done.returncode == -signal.SIGKILL
    assert snapshot(pg_url) == before  # the server rolled the transaction back
    with open_history(pg_url, contract_id="customer-0000"):
        pass  # and the lock went with the connection


def test_a_password_in_the_url_is_refused(pg_server: str) -> None:
    url = pg_server.replace("clausewatch@", "clausewatch:s3cret-pw@")
    with pytest.raises(HistoryError) as caught:
        with read_history(url):
            pass
    assert "PGPASSWORD" in str(caught.value) and "s3cret-pw" not in str(caught.value)


def test_an_unreachable_server_is_a_history_error(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(HistoryError, match="cannot connect"):
        with read_history(f"postgresql://nobody@127.0.0.1:{port}/x?connect_timeout=2"):
            pass


def test_json_is_what_the_portfolio_command_writes(pg_url: str, tmp_path: Path) -> None:
    from clausewatch.cli import main

    with open_history(pg_url, durable=False) as store:
        synthetic.fill(store, count=2, nights=35, last_night=LAST)
    assert main(["portfolio", "--period", "2026-11", "--history", pg_url, "--out",
                 str(tmp_path), "--format", "json"]) == 0
    doc = json.loads((tmp_path / "portfolio-2026-11.json").read_text())
    assert doc["contracts"] == 2 and len(doc["rows"]) == 6


def test_history_migrate_copies_sqlite_into_postgresql(pg_url: str, tmp_path: Path) -> None:
    from clausewatch.cli import main

    sqlite = tmp_path / "h.sqlite"
    with open_history(sqlite, durable=False) as store:
        synthetic.fill(store, count=2, nights=33, last_night=LAST)
    other, text = list(synthetic.contracts(3))[2]  # the destination already holds another
    with open_history(pg_url, durable=False) as store:
        for k in range(4):
            ev = synthetic.evaluation(other, LAST.replace(day=10 + k), k)
            from clausewatch.core.run import RunInfo

            store.record(ev, RunInfo(as_of=ev.as_of, started_at=ev.as_of,
                                     finished_at=ev.as_of, run_id=f"other-{k}"),
                         contract_text=text)
    assert main(["history", "migrate", "--from", str(sqlite), "--to", pg_url]) == 0
    copied, source = snapshot(pg_url), snapshot(sqlite)
    for cid in ("customer-0000", "customer-0001"):
        assert copied[cid] == source[cid]  # runs renumbered, every reference carried over
    assert len(copied["customer-0002"]["runs"]) == 4  # type: ignore[index]
    assert main(["history", "migrate", "--from", str(sqlite), "--to", pg_url]) == 2  # twice
    assert snapshot(pg_url) == copied  # refused whole: nothing copied the second time


def test_portfolio_shards_run_into_postgresql(pg_url: str, tmp_path: Path) -> None:
    """The nightly path end to end on PostgreSQL: the whole-run lock is the contract's, and
    the run records, publishes and marks itself published through it."""
    from clausewatch.cli import main

    lines = ["version: 1", f"history: {pg_url}", "output: out", "contracts:"]
    for i in range(3):
        (tmp_path / f"c{i}.yaml").write_text(synthetic.contract_text(i), encoding="utf-8")
        lines += [f"  - contract: c{i}.yaml", "    sources: sources.yaml"]
    (tmp_path / "sources.yaml").write_text("version: 1\nsources: {veeam: []}\n")
    (tmp_path / "portfolio.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    for night in ("2026-11-20T06:00:00Z", "2026-11-21T06:00:00Z"):
        codes = [main(["run", "--portfolio", str(tmp_path / "portfolio.yaml"), "--shard",
                       f"{i}/2", "--as-of", night]) for i in range(2)]
        assert codes == [0, 0]
    with read_history(pg_url) as store:
        assert sorted(store.contract_ids()) == [f"customer-{i:04d}" for i in range(3)]
        assert all(len(store.runs(c)) == 2 for c in store.contract_ids())
        assert store.unpublished() == []  # every run marked published
