"""Copy one history store into another (``clausewatch history migrate``): SQLite into
PostgreSQL when an embedded store becomes a shared one.

Everything is copied — contracts, runs, verdicts, results, intervals, deliveries — in one
transaction on the destination, so a copy that fails or is killed leaves it as it was. Run
numbers and interval ids are given anew by the destination (it may already hold other
contracts) and every reference is carried over. A contract whose runs the destination already
holds (by run id) is refused rather than merged twice.
"""

from __future__ import annotations

from dataclasses import dataclass

from clausewatch.history.store import HistoryError, HistoryStore

_COLUMNS = {
    "runs": ("run_id", "contract_id", "contract_digest", "as_of", "recorded_at", "status",
             "exit_code", "partial", "results_digest", "tool_version", "command"),
    "verdicts": ("commitment_id", "status", "measured", "target", "reason", "due", "counts"),
    "results": ("commitment_id", "subject", "label", "status", "reason", "due",
                "evidence_ids"),
    "deliveries": ("channel", "type", "ok", "attempts", "events", "detail"),
    "intervals": ("contract_id", "commitment_id", "subject", "label", "opened_at", "breached_at",
                  "due", "last_seen_at", "last_status", "closed_at", "end_reason",
                  "cured_within_deadline"),
}


@dataclass(frozen=True, slots=True)
class Copied:
    contracts: int
    runs: int
    results: int
    intervals: int


def copy_store(src: HistoryStore, dst: HistoryStore) -> Copied:
    """Copy every run of ``src`` into ``dst`` in one transaction (``dst`` locked by the caller)."""
    s, d = src.conn, dst.conn
    run_ids = [r[0] for r in s.execute("SELECT run_id FROM runs")]
    clash = _existing(dst, run_ids)
    if clash:
        raise HistoryError(f"{dst.path} already holds {len(clash)} of these runs (e.g. "
                           f"{sorted(clash)[0]}): nothing copied")
    counts = {"results": 0, "intervals": 0}
    d.execute("BEGIN IMMEDIATE")
    try:
        d.executemany(
            "INSERT INTO contracts (digest, contract_id, name, text) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (digest) DO NOTHING",
            list(s.execute("SELECT digest, contract_id, name, text FROM contracts")))
        seqs: dict[int, int] = {}
        cols = _COLUMNS["runs"]
        for row in list(s.execute(f"SELECT seq, {', '.join(cols)} FROM runs ORDER BY seq")):
            seqs[row[0]] = int(d.execute(
                f"INSERT INTO runs ({', '.join(cols)}) VALUES ({_marks(cols)}) RETURNING seq",
                row[1:]).fetchone()[0])
        for table in ("verdicts", "results", "deliveries"):
            cols = _COLUMNS[table]
            rows = [(seqs[r[0]], *r[1:]) for r in
                    s.execute(f"SELECT run_seq, {', '.join(cols)} FROM {table}")]
            d.executemany(f"INSERT INTO {table} (run_seq, {', '.join(cols)}) "
                          f"VALUES (?, {_marks(cols)})", rows)
            counts[table] = len(rows)
        cols = _COLUMNS["intervals"]
        rows = [(*r[:-2], seqs[r[-2]], None if r[-1] is None else seqs[r[-1]]) for r in
                s.execute(f"SELECT {', '.join(cols)}, opened_run, closed_run FROM intervals")]
        d.executemany(f"INSERT INTO intervals ({', '.join(cols)}, opened_run, closed_run) "
                      f"VALUES ({_marks(cols)}, ?, ?)", rows)
        counts["intervals"] = len(rows)
    except BaseException:
        d.rollback()
        raise
    d.commit()
    contracts = len({r[0] for r in s.execute("SELECT DISTINCT contract_id FROM runs")})
    return Copied(contracts=contracts, runs=len(seqs), results=counts["results"],
                  intervals=counts["intervals"])


def _marks(cols: tuple[str, ...]) -> str:
    return ", ".join("?" * len(cols))


def _existing(dst: HistoryStore, run_ids: list[str]) -> set[str]:
    found: set[str] = set()
    for i in range(0, len(run_ids), 500):
        chunk = run_ids[i : i + 500]
        found.update(r[0] for r in dst.conn.execute(
            f"SELECT run_id FROM runs WHERE run_id IN ({', '.join('?' * len(chunk))})", chunk))
    return found
