"""The history store: what a run writes, breach intervals over scripted nights, migrations."""

from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest
from nights import OUTAGE, B, C, N, R, W, contract, evaluation, info, night

from clausewatch.history import schema
from clausewatch.history.store import HistoryError, StoreBusy, open_history, read_history


def record(store, k, n, statuses, **kw):
    ev = evaluation(k, night(n), statuses, **kw)
    return store.record(ev, info(night(n), n), contract_text="contract: {}\n")


def test_a_run_is_recorded_whole(tmp_path):
    k = contract()
    with open_history(tmp_path / "h.sqlite") as store:
        rec = record(store, k, 0, {"a": C, "b": B, "c": N})
        assert store.count("runs") == 1 and store.count("results") == 3
        assert store.count("verdicts") == 1 and store.count("contracts") == 1
        row = store.conn.execute(
            "SELECT status, exit_code, partial, results_digest FROM runs"
        ).fetchone()
        assert row == ("breached", 3, 0, rec.results_digest)
        evidence = store.conn.execute(
            "SELECT evidence_ids FROM results WHERE subject = 'b'"
        ).fetchone()[0]
        assert evidence == '["ev:b"]'
    # the same results give the same digest; a different status does not
    with open_history(tmp_path / "h2.sqlite") as other:
        assert record(other, k, 0, {"a": C, "b": B, "c": N}).results_digest == rec.results_digest
        assert record(other, k, 1, {"a": C, "b": C, "c": N}).results_digest != rec.results_digest


def intervals(store, subject):
    return [i for i in store.intervals("ctr-1") if i.subject == subject]


def test_breach_intervals_over_scripted_nights(tmp_path):
    k = contract()
    with open_history(tmp_path / "h.sqlite") as store:
        record(store, k, 0, {"x": R, "y": C})  # x falls due soon
        record(store, k, 1, {"x": C, "y": B})  # x cured in time; y breached
        record(store, k, 2, {"x": C, "y": N}, errors=[OUTAGE])  # no evidence: y stays open
        record(store, k, 3, {"x": C}, errors=[OUTAGE])  # a partial run lost y: still open
        (y,) = intervals(store, "y")
        assert y.closed_at is None and y.breached_at == night(1)
        record(store, k, 4, {"x": C, "y": C})  # cured late
        record(store, k, 5, {"x": C, "y": B})  # relapse: a new interval
        record(store, k, 6, {"x": C, "y": W})  # waived
        record(store, k, 7, {"x": B, "y": B})  # x breached; y, waiver gone, breached again
        record(store, k, 8, {"y": B})  # a complete run no longer sees x: gone
        (x1, x2) = intervals(store, "x")
        assert (x1.opened_at, x1.breached_at, x1.closed_at, x1.end_reason) == (
            night(0), None, night(1), "cured")
        assert x1.cured_within_deadline is True
        assert (x2.breached_at, x2.closed_at, x2.end_reason) == (night(7), night(8), "gone")
        y1, y2, y3 = intervals(store, "y")
        assert (y1.breached_at, y1.closed_at, y1.end_reason) == (night(1), night(4), "cured")
        assert y1.cured_within_deadline is False
        assert (y2.breached_at, y2.closed_at, y2.end_reason) == (night(5), night(6), "waived")
        assert (y3.breached_at, y3.closed_at) == (night(7), None)
        flags = dict(store.conn.execute(
            "SELECT id, cured_within_deadline FROM intervals WHERE subject IN ('x', 'y')"
        ).fetchall())
        assert flags[x1.id] == 1 and flags[y1.id] == 0 and flags[y3.id] is None
        # the commitment's own verdict has intervals too (subject ""): night 2 is no_evidence
        # (kept open), night 3 judged the subjects it saw compliant
        verdict = intervals(store, "")
        assert [(i.breached_at, i.closed_at) for i in verdict][:2] == [
            (night(1), night(3)), (night(5), night(6))]


def test_a_breach_cured_while_a_new_item_falls_due(tmp_path):
    k = contract()
    with open_history(tmp_path / "h.sqlite") as store:
        record(store, k, 0, {"x": B})
        record(store, k, 1, {"x": R}, due={"x": night(3)})
        first, second = intervals(store, "x")
        assert (first.closed_at, first.end_reason, first.cured_within_deadline) == (
            night(1), "cured", False)
        assert (second.opened_at, second.breached_at, second.due) == (night(1), None, night(3))


def test_prior_is_the_previous_run_and_open_intervals(tmp_path):
    k = contract()
    with open_history(tmp_path / "h.sqlite") as store:
        assert store.prior("ctr-1").as_of is None
        record(store, k, 0, {"x": B, "y": C})
        prior = store.prior("ctr-1")
        assert prior.as_of == night(0)
        assert prior.statuses == {("PATCH", "x"): B, ("PATCH", "y"): C}
        assert set(prior.open) == {("PATCH", "x"), ("PATCH", "")}


def test_two_runs_on_one_store_are_refused(tmp_path):
    path = tmp_path / "h.sqlite"
    with open_history(path):
        with pytest.raises(StoreBusy, match=r"in use by another run \(pid \d+ on .+ since "):
            with open_history(path):
                pass
    with open_history(path):  # released on exit
        pass


def test_schema_migrations_in_order(tmp_path):
    path = tmp_path / "h.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    assert schema.migrate(conn, upto=1) == 1
    conn.execute(
        "INSERT INTO contracts VALUES ('d', 'ctr-1', 'contract.yaml', 'text')"
    )
    conn.close()
    with open_history(path) as store:  # upgrades v1 -> v2, keeping the data
        assert schema.user_version(store.conn) == schema.VERSION == 3
        assert store.count("contracts") == 1 and store.count("deliveries") == 0
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version = 99")
    conn.close()
    with pytest.raises(HistoryError, match="newer than this ClauseWatch"):
        with open_history(path):
            pass
    with pytest.raises(HistoryError, match="newer"):
        with read_history(path):
            pass


def test_not_a_store(tmp_path):
    path = tmp_path / "h.sqlite"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(HistoryError, match="not a ClauseWatch history store"):
        with open_history(path):
            pass
    with pytest.raises(HistoryError, match="no history store"):
        with read_history(tmp_path / "missing.sqlite"):
            pass


def test_a_failed_write_leaves_nothing(tmp_path):
    k = contract()
    with open_history(tmp_path / "h.sqlite") as store:
        record(store, k, 0, {"x": B})

        def boom():
            raise RuntimeError("disk on fire")

        ev = evaluation(k, night(1), {"x": C})
        with pytest.raises(RuntimeError):
            store.record(ev, info(night(1), 1), contract_text="", before_commit=boom)
        assert store.count("runs") == 1 and store.count("results") == 1
        (x,) = intervals(store, "x")
        assert x.closed_at is None
        record(store, k, 1, {"x": C})  # the store is usable afterwards
        assert intervals(store, "x")[0].closed_at == night(1)
        assert night(1) - night(0) == timedelta(days=1)


SCRIPT = [{"x": R, "y": C}, {"x": C, "y": B}, {"x": C, "y": N}, {"x": B, "y": C}]


def dump(path):
    conn = sqlite3.connect(path)
    try:
        return {t: conn.execute(f"SELECT * FROM {t} ORDER BY 1, 2").fetchall()
                for t in ("runs", "verdicts", "results", "intervals", "contracts")}
    finally:
        conn.close()


def test_a_batch_records_what_run_by_run_records(tmp_path):
    k = contract()
    with open_history(tmp_path / "one.sqlite") as store:
        for n, statuses in enumerate(SCRIPT):
            record(store, k, n, statuses)
    with open_history(tmp_path / "batch.sqlite") as store, store.batch():
        for n, statuses in enumerate(SCRIPT):
            record(store, k, n, statuses)
            assert store.prior("ctr-1").as_of == night(n)  # reads see the batch so far
    assert dump(tmp_path / "batch.sqlite") == dump(tmp_path / "one.sqlite")


def test_a_failed_batch_keeps_none_of_its_runs(tmp_path):
    k = contract()
    with open_history(tmp_path / "h.sqlite") as store:
        record(store, k, 0, {"x": B})
        with pytest.raises(RuntimeError), store.batch():
            record(store, k, 1, {"x": C})
            record(store, k, 2, {"x": C})
            raise RuntimeError("killed mid back-fill")
        assert store.count("runs") == 1 and store.count("results") == 1
        assert intervals(store, "x")[0].closed_at is None
        with store.batch():  # usable afterwards
            record(store, k, 1, {"x": C})
        assert store.count("runs") == 2
