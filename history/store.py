"""The history store: every run, result and interval, in an embedded SQLite database (the
default) or a shared PostgreSQL one (``postgresql://`` locations: ``history/postgres.py``).

One writer at a time: ``open_history`` takes an exclusive lock on ``<store>.lock`` (released by
the kernel if the process dies, so a killed run never leaves a stale lock) and refuses a second
run with ``StoreBusy`` naming the holder. Each run is written in one ``BEGIN IMMEDIATE``
transaction: a run that crashes or is killed before its commit leaves the store exactly as it
was (SQLite's rollback journal undoes the partial write on the next open). The database uses
SQLite's default rollback journal with ``synchronous=FULL``, which also works on filesystems
where WAL does not (network mounts). A store holds any number of contracts; every query is
by contract.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import socket
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, ClassVar

from clausewatch.core.evaluation import Evaluation
from clausewatch.core.result import Status
from clausewatch.core.run import RunInfo, exit_code_for
from clausewatch.history import postgres
from clausewatch.history.intervals import (
    Interval,
    Key,
    Step,
    advance,
    observations,
    uncertain_commitments,
)
from clausewatch.history.postgres import is_url
from clausewatch.history.schema import SchemaTooNew, migrate

DEFAULT_PATH = Path("clausewatch-history.sqlite")
#: ``Status(text)`` as a lookup (a run's prior reads every result of the last run).
_STATUSES = {str(s): s for s in Status}


class HistoryError(Exception):
    """The store cannot be used (unreadable, not a ClauseWatch store, too new)."""


class StoreBusy(HistoryError):
    """Another run holds the store (or the output folder)."""


class StoreUnwritable(HistoryError):
    """The store cannot be written: permission, read-only file system, disk full."""


def ts(value: datetime) -> str:
    """A UTC instant as stored: fixed width, so text order is time order."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_ts(text: str | None) -> datetime | None:
    if text is None:
        return None
    value = datetime.fromisoformat(text)  # what ``ts`` wrote (C-fast; strptime is 20x slower)
    return value if value.tzinfo is UTC else value.replace(tzinfo=UTC)


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """How one channel's message fared: recorded with the run and in ``alerts.json``."""

    channel: str
    type: str
    ok: bool
    attempts: int
    events: int
    detail: str  # HTTP status or the error, secrets redacted


@dataclass(frozen=True, slots=True, kw_only=True)
class Prior:
    """What the store knew before this run: the previous run and the open intervals."""

    as_of: datetime | None = None
    statuses: dict[Key, Status] = field(default_factory=dict)
    labels: dict[Key, str] = field(default_factory=dict)
    open: dict[Key, Interval] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class RunRecord:
    seq: int
    run_id: str
    results_digest: str
    step: Step


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredRun:
    seq: int
    run_id: str
    as_of: datetime
    status: str
    exit_code: int
    partial: bool
    contract_digest: str


def _verdict_rows(ev: Evaluation) -> list[tuple[Any, ...]]:
    return [
        (
            o.commitment.id,
            str(o.verdict.status),
            o.verdict.measured,
            o.verdict.target,
            o.verdict.reason,
            ts(o.verdict.due) if o.verdict.due else None,
            json.dumps(dict(o.verdict.counts), sort_keys=True),
        )
        for o in ev.outcomes
    ]


def _result_rows(ev: Evaluation) -> list[tuple[Any, ...]]:
    return [
        (
            r.commitment_id,
            r.subject,
            r.label or r.subject,
            str(r.status),
            r.reason,
            ts(r.due) if r.due else None,
            _ids_json(r.evidence_ids),
        )
        for o in ev.outcomes
        for r in o.results
    ]


@lru_cache(maxsize=1 << 16)
def _ids_json(ids: tuple[str, ...]) -> str:
    """A result's evidence ids as stored (``json.dumps`` of the list), worked out once per
    tuple: a subject's ids are the same night after night (the demo's back-fill, nightly runs
    of a portfolio in one process)."""
    return json.dumps(list(ids))


def results_digest(ev: Evaluation) -> str:
    """sha256 over the run's verdicts and results exactly as the store keeps them."""
    return _digest(_verdict_rows(ev), _result_rows(ev))


def _digest(verdicts: list[tuple[Any, ...]], results: list[tuple[Any, ...]]) -> str:
    canon = json.dumps([verdicts, results], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canon.encode("utf-8")).hexdigest()


class _Lock:
    """An exclusive ``flock`` on a lock file holding the owner's pid, host and start.

    A run takes it for its whole length with ``hold``; ``open_history`` inside that finds the
    lock held for the run and goes on. Any other second taker is refused, in this process too."""

    _held: ClassVar[dict[str, tuple[IO[str], int]]] = {}  # held by ``hold``: handle, depth

    def __init__(self, path: Path, *, lock_file: Path | None = None, what: str = "") -> None:
        self.path = lock_file or path.with_name(path.name + ".lock")
        self.what = what or f"history store {path}"
        self.key = str(self.path.resolve())
        self.held = False
        self.handle: IO[str] | None = None

    def acquire(self, *, for_run: bool = False) -> None:
        if self.key in self._held:
            handle, depth = self._held[self.key]
            self._held[self.key] = (handle, depth + 1)
            self.held = True
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 (held until release)
        except OSError as exc:
            raise StoreUnwritable(
                f"{self.what}: cannot create its lock file {self.path}: "
                f"{exc.strerror or exc}"
            ) from exc
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown process"
            handle.close()
            raise StoreBusy(
                f"{self.what} is in use by another run ({holder}); refusing to run two at "
                "once, try again when it has finished"
            ) from None
        handle.seek(0)
        handle.truncate()
        started = datetime.now(UTC).isoformat(timespec="seconds")
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {started}\n")
        handle.flush()
        if for_run:
            self._held[self.key] = (handle, 1)
        self.handle = handle
        self.held = True

    def release(self) -> None:
        if not self.held:
            return
        self.held = False
        if self.handle is None:  # passed through a run's ``hold``: the run keeps the lock
            handle, depth = self._held[self.key]
            self._held[self.key] = (handle, depth - 1)
            return
        handle, self.handle = self.handle, None
        self._held.pop(self.key, None)
        handle.seek(0)
        handle.truncate()
        fcntl.flock(handle, fcntl.LOCK_UN)
        handle.close()


@contextmanager
def hold(path: Path, *, lock_file: Path | None = None, what: str = "") -> Iterator[None]:
    """Hold the lock of the history store at ``path`` (or of ``lock_file``, naming ``what``)
    for the body: ``StoreBusy`` if another process holds it."""
    lock = _Lock(path, lock_file=lock_file, what=what)
    lock.acquire(for_run=True)
    try:
        yield
    finally:
        lock.release()


Location = Path | str  # a SQLite file, or a postgresql:// URL


@contextmanager
def open_history(
    path: Location = DEFAULT_PATH, *, durable: bool = True, contract_id: str | None = None
) -> Iterator[HistoryStore]:
    """Open (creating and migrating) the store at ``path`` for one run; hold its lock throughout.

    SQLite: one run at a time per store (a file lock). PostgreSQL: one run at a time per
    contract (``contract_id``; without it, the whole store), others side by side.
    Raises ``StoreBusy`` if another run holds it, ``HistoryError`` if it cannot be used.
    ``durable=False`` skips the fsync of each commit (the demo's throw-away store): still
    atomic for a crashed process, not for a power cut.
    """
    if is_url(path):
        with _open_postgres(str(path), contract_id) as store:
            yield store
        return
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreUnwritable(f"history store {path}: cannot create its folder: "
                              f"{exc.strerror or exc}") from exc
    lock = _Lock(path)
    lock.acquire()
    try:
        conn = _connect(path, readonly=False)
        if not durable:
            conn.execute("PRAGMA synchronous = OFF")
        try:
            yield HistoryStore(conn, path)
        finally:
            conn.close()
    finally:
        lock.release()


@contextmanager
def _open_postgres(url: str, contract_id: str | None) -> Iterator[HistoryStore]:
    held = _PG_HELD.get(url)
    if held is not None:  # this process's run holds the store: its connection and lock
        try:
            yield HistoryStore(held, postgres.shown(url))
        except postgres.DatabaseError as exc:
            raise HistoryError(f"history store {postgres.shown(url)}: {exc}") from exc
        return
    conn = postgres.connect(url)
    key = f"clausewatch:contract:{contract_id}" if contract_id else "clausewatch:store"
    try:
        if not conn.try_lock(key):
            what = f"contract {contract_id}" if contract_id else "the store"
            raise StoreBusy(
                f"history store {postgres.shown(url)}: a run of {what} is in progress "
                f"({conn.lock_holder(key)}); refusing to run two at once"
            )
        try:
            yield HistoryStore(conn, postgres.shown(url))
        except postgres.DatabaseError as exc:
            raise HistoryError(f"history store {postgres.shown(url)}: {exc}") from exc
        finally:
            conn.unlock(key)
    finally:
        conn.close()


#: PostgreSQL stores a run of this process holds (``hold_postgres``): url -> its connection.
_PG_HELD: dict[str, postgres.PgConnection] = {}


@contextmanager
def hold_postgres(url: str, contract_id: str | None) -> Iterator[None]:
    """Hold the contract's lock on the PostgreSQL store at ``url`` for the body (a whole run);
    ``open_history(url)`` inside it uses the same connection instead of asking again."""
    with _open_postgres(url, contract_id) as store:
        assert isinstance(store.conn, postgres.PgConnection)
        _PG_HELD[url] = store.conn
        try:
            yield
        finally:
            _PG_HELD.pop(url, None)


@contextmanager
def read_history(path: Location) -> Iterator[HistoryStore]:
    """Open an existing store read-only (reports); no lock needed, readers never block a run."""
    if is_url(path):
        pg = postgres.connect(str(path))
        try:
            yield HistoryStore(pg, postgres.shown(str(path)))
        finally:
            pg.close()
        return
    path = Path(path)
    if not path.is_file():
        raise HistoryError(f"no history store at {path} (run with --history {path} first)")
    conn = _connect(path, readonly=True)
    try:
        yield HistoryStore(conn, path)
    finally:
        conn.close()


def _connect(path: Path, *, readonly: bool) -> sqlite3.Connection:
    try:
        if readonly:
            conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
        else:
            # timeout 0: the file lock already says we are alone; anything else is refused
            conn = sqlite3.connect(path, timeout=0, isolation_level=None)
            conn.execute("PRAGMA synchronous = FULL")
        conn.execute("PRAGMA foreign_keys = ON")
        if readonly:
            from clausewatch.history.schema import VERSION, user_version

            if user_version(conn) > VERSION:
                raise SchemaTooNew(f"history schema is newer than this ClauseWatch ({VERSION})")
        else:
            migrate(conn)
    except SchemaTooNew as exc:
        raise HistoryError(f"{path}: {exc}") from exc
    except sqlite3.OperationalError as exc:
        if readonly:
            raise HistoryError(f"{path}: cannot open the history store: {exc}") from exc
        raise store_error(path, exc, "cannot open the history store") from exc
    except sqlite3.DatabaseError as exc:
        raise HistoryError(f"{path}: not a ClauseWatch history store: {exc}") from exc
    return conn


#: SQLite's primary result codes that mean the store cannot be written where it is.
_UNWRITABLE = {"SQLITE_READONLY", "SQLITE_FULL", "SQLITE_CANTOPEN", "SQLITE_IOERR", "SQLITE_PERM"}


def store_error(path: Path | str, exc: sqlite3.Error, doing: str) -> HistoryError:
    """The ``HistoryError`` an SQLite error means: busy, unwritable (permission, read-only file
    system, disk full: ``StoreUnwritable``) or otherwise unusable."""
    name = str(getattr(exc, "sqlite_errorname", "") or "")
    primary = "_".join(name.split("_")[:2])  # SQLITE_IOERR_WRITE -> SQLITE_IOERR
    if primary in {"SQLITE_BUSY", "SQLITE_LOCKED"} or "locked" in str(exc):
        return StoreBusy(f"history store {path} is locked by another process")
    if primary in _UNWRITABLE:
        return StoreUnwritable(f"history store {path}: {doing}: {exc}")
    return HistoryError(f"{path}: {doing}: {exc}")


@dataclass(frozen=True, slots=True)
class Unpublished:
    """A run recorded while its outputs were being published, not yet marked published."""

    seq: int
    run_id: str
    output: str


class HistoryStore:
    """Queries and the one write of a run. Get one from ``open_history`` or ``read_history``."""

    def __init__(self, conn: sqlite3.Connection | postgres.PgConnection, path: Path | str) -> None:
        self.conn = conn
        self.path = path
        self._batched = False

    # ---- reading ----------------------------------------------------------------------------

    def prior(self, contract_id: str) -> Prior:
        """The previous run of ``contract_id`` and the intervals still open."""
        row = self.conn.execute(
            "SELECT seq, as_of FROM runs WHERE contract_id = ? ORDER BY as_of DESC, seq DESC "
            "LIMIT 1",
            (contract_id,),
        ).fetchone()
        if row is None:
            return Prior()
        seq, as_of = row
        statuses: dict[Key, Status] = {}
        labels: dict[Key, str] = {}
        for commitment, subject, label, status in self.conn.execute(
            "SELECT commitment_id, subject, label, status FROM results WHERE run_seq = ?", (seq,)
        ):
            statuses[(commitment, subject)] = _STATUSES.get(status) or Status(status)
            labels[(commitment, subject)] = label
        return Prior(
            as_of=parse_ts(as_of),
            statuses=statuses,
            labels=labels,
            open={i.key: i for i in self.open_intervals(contract_id)},
        )

    def open_intervals(self, contract_id: str) -> list[Interval]:
        return self.intervals(contract_id, open_only=True)

    def intervals(
        self,
        contract_id: str,
        *,
        open_only: bool = False,
        start: datetime | None = None,
        end: datetime | None = None,
    ) -> list[Interval]:
        """Intervals of a contract; with ``start``/``end``, those overlapping [start, end)."""
        sql = (
            "SELECT id, commitment_id, subject, label, opened_at, breached_at, due, "
            "last_seen_at, last_status, closed_at, end_reason FROM intervals "
            "WHERE contract_id = ?"
        )
        args: list[Any] = [contract_id]
        if open_only:
            sql += " AND closed_at IS NULL"
        if end is not None:
            sql += " AND opened_at < ?"
            args.append(ts(end))
        if start is not None:
            sql += " AND (closed_at IS NULL OR closed_at > ?)"
            args.append(ts(start))
        sql += " ORDER BY commitment_id, subject, opened_at"
        return [
            Interval(
                id=r[0],
                commitment_id=r[1],
                subject=r[2],
                label=r[3],
                opened_at=parse_ts(r[4]),  # type: ignore[arg-type]
                breached_at=parse_ts(r[5]),
                due=parse_ts(r[6]),
                last_seen_at=parse_ts(r[7]),  # type: ignore[arg-type]
                last_status=Status(r[8]),
                closed_at=parse_ts(r[9]),
                end_reason=r[10],
            )
            for r in self.conn.execute(sql, args)
        ]

    def runs(
        self, contract_id: str, start: datetime | None = None, end: datetime | None = None
    ) -> list[StoredRun]:
        """Runs of a contract with ``start <= as_of < end``, oldest first."""
        sql = (
            "SELECT seq, run_id, as_of, status, exit_code, partial, contract_digest FROM runs "
            "WHERE contract_id = ?"
        )
        args: list[Any] = [contract_id]
        if start is not None:
            sql += " AND as_of >= ?"
            args.append(ts(start))
        if end is not None:
            sql += " AND as_of < ?"
            args.append(ts(end))
        sql += " ORDER BY as_of, seq"
        return [
            StoredRun(
                seq=r[0],
                run_id=r[1],
                as_of=parse_ts(r[2]),  # type: ignore[arg-type]
                status=r[3],
                exit_code=r[4],
                partial=bool(r[5]),
                contract_digest=r[6],
            )
            for r in self.conn.execute(sql, args)
        ]

    def contract_ids(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT contract_id FROM runs")]

    def contract_text(self, digest: str) -> tuple[str, str]:
        """The contract file a run used: (name, text)."""
        row = self.conn.execute(
            "SELECT name, text FROM contracts WHERE digest = ?", (digest,)
        ).fetchone()
        if row is None:
            raise HistoryError(f"contract {digest[:12]} is not in the store")
        return row[0], row[1]

    def verdicts(self, seqs: Sequence[int]) -> dict[int, dict[str, Status]]:
        """run seq -> commitment id -> verdict status."""
        out: dict[int, dict[str, Status]] = {s: {} for s in seqs}
        for chunk in _chunks(seqs):
            marks = ",".join("?" * len(chunk))
            for seq, commitment, status in self.conn.execute(
                f"SELECT run_seq, commitment_id, status FROM verdicts WHERE run_seq IN ({marks})",
                chunk,
            ):
                out[seq][commitment] = Status(status)
        return out

    def result_counts(self, seqs: Sequence[int]) -> dict[int, dict[str, dict[Status, int]]]:
        """run seq -> commitment id -> status -> number of subjects."""
        out: dict[int, dict[str, dict[Status, int]]] = {s: {} for s in seqs}
        for chunk in _chunks(seqs):
            marks = ",".join("?" * len(chunk))
            for seq, commitment, status, n in self.conn.execute(
                "SELECT run_seq, commitment_id, status, COUNT(*) FROM results "
                f"WHERE run_seq IN ({marks}) GROUP BY run_seq, commitment_id, status",
                chunk,
            ):
                out[seq].setdefault(commitment, {})[Status(status)] = n
        return out

    def deliveries(self, seq: int) -> list[Delivery]:
        return [
            Delivery(channel=r[0], type=r[1], ok=bool(r[2]), attempts=r[3], events=r[4],
                     detail=r[5])
            for r in self.conn.execute(
                "SELECT channel, type, ok, attempts, events, detail FROM deliveries "
                "WHERE run_seq = ? ORDER BY channel",
                (seq,),
            )
        ]

    def count(self, table: str) -> int:
        if table not in {"runs", "results", "verdicts", "intervals", "contracts", "deliveries"}:
            raise ValueError(table)
        return int(self.conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0])

    # ---- writing ----------------------------------------------------------------------------

    def record(
        self,
        ev: Evaluation,
        info: RunInfo,
        *,
        contract_text: str,
        deliveries: Iterable[Delivery] = (),
        before_commit: Callable[[], None] | None = None,
        publishing: str | None = None,
    ) -> RunRecord:
        """Write the whole run in one transaction: run, verdicts, results, intervals, deliveries
        (inside ``batch``, in the batch's transaction).

        ``publishing``: the output folder the run is being published to. The run is then
        recorded as unpublished, with what its interval changes overwrote, until
        ``mark_published``; ``roll_back`` undoes it exactly. ``before_commit`` runs inside the
        transaction, just before COMMIT (tests use it to kill the process there).
        """
        try:
            return self._record(ev, info, contract_text, deliveries, before_commit, publishing)
        except sqlite3.Error as exc:
            raise store_error(self.path, exc, "cannot record the run") from exc

    def _record(
        self,
        ev: Evaluation,
        info: RunInfo,
        contract_text: str,
        deliveries: Iterable[Delivery],
        before_commit: Callable[[], None] | None,
        publishing: str | None,
    ) -> RunRecord:
        contract = ev.contract
        verdict_rows = _verdict_rows(ev)
        result_rows = _result_rows(ev)
        digest = _digest(verdict_rows, result_rows)
        conn = self.conn
        batched = self._batched
        if not batched:
            try:
                conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                raise StoreBusy(f"history store {self.path} is locked by another process"
                                ) from exc
        seq = 0
        try:
            conn.execute(
                "INSERT INTO contracts (digest, contract_id, name, text) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (digest) DO NOTHING",
                (contract.digest, contract.id, contract.source_file, contract_text),
            )
            cur = conn.execute(
                "INSERT INTO runs (run_id, contract_id, contract_digest, as_of, recorded_at, "
                "status, exit_code, partial, results_digest, tool_version, command) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq",
                (
                    info.run_id,
                    contract.id,
                    contract.digest,
                    ts(ev.as_of),
                    ts(info.finished_at or datetime.now(UTC)),
                    str(ev.status),
                    int(exit_code_for(ev)),
                    int(ev.partial),
                    digest,
                    info.tool_version,
                    info.command,
                ),
            )
            seq = int(cur.fetchone()[0])
            conn.executemany(
                "INSERT INTO verdicts (run_seq, commitment_id, status, measured, target, reason, "
                "due, counts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(seq, *row) for row in verdict_rows],
            )
            conn.executemany(
                "INSERT INTO results (run_seq, commitment_id, subject, label, status, reason, "
                "due, evidence_ids) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(seq, *row) for row in result_rows],
            )
            open_now = {i.key: i for i in self.open_intervals(contract.id)}
            step = advance(open_now, observations(ev), ev.as_of, uncertain_commitments(ev))
            if publishing is not None:
                touched = sorted({i.id for i in (*step.closed, *step.updated) if i.id is not None})
                conn.execute(
                    "INSERT INTO unpublished (run_seq, output, undo) VALUES (?, ?, ?)",
                    (seq, publishing, json.dumps(self._rows("intervals", touched))),
                )
            self._write_step(contract.id, seq, step)
            conn.executemany(
                "INSERT INTO deliveries (run_seq, channel, type, ok, attempts, events, detail) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(seq, d.channel, d.type, int(d.ok), d.attempts, d.events, d.detail)
                 for d in deliveries],
            )
            if before_commit is not None:
                before_commit()
        except BaseException:
            if not batched:
                conn.rollback()
            raise
        if not batched:
            conn.commit()
        return RunRecord(seq=seq, run_id=info.run_id, results_digest=digest, step=step)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Record every run of the body in one transaction (the demo's back-fill of many
        nights): ``record`` inside it neither begins nor commits, and a failure keeps none of
        them. Reads inside the body see the runs recorded so far (one connection)."""
        if self._batched:
            raise RuntimeError("HistoryStore.batch is not reentrant")
        try:
            self.conn.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError as exc:
            raise StoreBusy(f"history store {self.path} is locked by another process") from exc
        self._batched = True
        try:
            yield
        except BaseException:
            self.conn.rollback()
            raise
        finally:
            self._batched = False
        try:
            self.conn.commit()
        except sqlite3.Error as exc:
            raise store_error(self.path, exc, "cannot record the runs") from exc

    # ---- publication ------------------------------------------------------------------------

    def unpublished(self, contract_id: str | None = None) -> list[Unpublished]:
        """Runs recorded but not yet marked published (a run killed while publishing), of
        ``contract_id`` only if given (a shared store: other contracts' runs are theirs)."""
        sql = ("SELECT u.run_seq, r.run_id, u.output FROM unpublished u "
               "JOIN runs r ON r.seq = u.run_seq")
        args: tuple[str, ...] = ()
        if contract_id is not None:
            sql += " WHERE r.contract_id = ?"
            args = (contract_id,)
        return [
            Unpublished(seq, run_id, output)
            for seq, run_id, output in self.conn.execute(sql + " ORDER BY u.run_seq", args)
        ]

    def mark_published(self, run_id: str) -> None:
        """The run's outputs are in place: it is a run like any other from now on."""
        try:
            self.conn.execute(
                "DELETE FROM unpublished WHERE run_seq = (SELECT seq FROM runs WHERE run_id = ?)",
                (run_id,),
            )
        except sqlite3.Error as exc:
            raise store_error(self.path, exc, "cannot mark the run published") from exc

    def roll_back(self, run_id: str) -> bool:
        """Undo an unpublished run as if it had never been recorded (its rows deleted, the
        intervals it changed restored); False if it is not an unpublished run."""
        conn = self.conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                row = conn.execute(
                    "SELECT u.run_seq, u.undo FROM unpublished u JOIN runs r ON r.seq = u.run_seq "
                    "WHERE r.run_id = ?",
                    (run_id,),
                ).fetchone()
                if row is None:
                    conn.rollback()
                    return False
                seq, undo = row
                for before in json.loads(undo):
                    names = [k for k in before if k != "id"]
                    conn.execute(
                        f"UPDATE intervals SET {', '.join(f'{k} = ?' for k in names)} WHERE id = ?",
                        [*(before[k] for k in names), before["id"]],
                    )
                conn.execute("DELETE FROM intervals WHERE opened_run = ?", (seq,))
                for table in ("deliveries", "results", "verdicts", "unpublished"):
                    conn.execute(f"DELETE FROM {table} WHERE run_seq = ?", (seq,))
                conn.execute("DELETE FROM runs WHERE seq = ?", (seq,))
            except BaseException:
                conn.rollback()
                raise
            conn.commit()
        except sqlite3.Error as exc:
            raise store_error(self.path, exc, "cannot roll back the unpublished run") from exc
        return True

    def _rows(self, table: str, ids: Sequence[int]) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for chunk in _chunks(ids):
            cur = self.conn.execute(
                f"SELECT * FROM {table} WHERE id IN ({','.join('?' * len(chunk))})", chunk
            )
            names = [d[0] for d in cur.description]
            rows += [dict(zip(names, r, strict=True)) for r in cur]
        return rows

    def _write_step(self, contract_id: str, seq: int, step: Step) -> None:
        conn = self.conn
        # close first: a cured breach and a new item falling due may share a key in one run
        conn.executemany(
            "UPDATE intervals SET closed_at = ?, closed_run = ?, end_reason = ?, "
            "cured_within_deadline = ?, last_status = ? WHERE id = ?",
            [
                (
                    ts(i.closed_at),  # type: ignore[arg-type]
                    seq,
                    i.end_reason,
                    None if i.cured_within_deadline is None else int(i.cured_within_deadline),
                    str(i.last_status),
                    i.id,
                )
                for i in step.closed
            ],
        )
        conn.executemany(
            "UPDATE intervals SET label = ?, breached_at = ?, due = ?, last_seen_at = ?, "
            "last_status = ? WHERE id = ?",
            [
                (
                    i.label,
                    ts(i.breached_at) if i.breached_at else None,
                    ts(i.due) if i.due else None,
                    ts(i.last_seen_at),
                    str(i.last_status),
                    i.id,
                )
                for i in step.updated
            ],
        )
        conn.executemany(
            "INSERT INTO intervals (contract_id, commitment_id, subject, label, opened_at, "
            "opened_run, breached_at, due, last_seen_at, last_status) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    contract_id,
                    i.commitment_id,
                    i.subject,
                    i.label,
                    ts(i.opened_at),
                    seq,
                    ts(i.breached_at) if i.breached_at else None,
                    ts(i.due) if i.due else None,
                    ts(i.last_seen_at),
                    str(i.last_status),
                )
                for i in step.opened
            ],
        )


def _chunks(seqs: Sequence[int], size: int = 500) -> Iterator[list[int]]:
    for i in range(0, len(seqs), size):
        yield list(seqs[i : i + size])
