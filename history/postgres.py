"""The PostgreSQL history store: the same tables, queries and guarantees as the SQLite one,
for a store shared by many contracts and many concurrent runs (psycopg 3).

* **Where**: ``history: postgresql://user@host:5432/db?sslmode=require`` (a libpq URL) in the
  sources or portfolio file, or ``--history``. A password is never taken from the URL: libpq
  reads it from ``PGPASSWORD``, a password file (``PGPASSFILE``, ``~/.pgpass``) or a service
  file (``postgresql:///?service=clausewatch`` with ``PGSERVICEFILE``); a URL carrying one is
  refused, so it cannot end up in a file, a log or a report.
* **Schema**: the SQLite migrations of ``history/schema.py``, written for PostgreSQL by
  ``pg_ddl`` (one list of migrations for both stores); the version is kept in
  ``clausewatch_schema``. Each migration runs in one transaction under an advisory lock, so
  two runs starting at once never migrate twice.
* **One writer per contract**: a run holds the session-level advisory lock of its contract
  (``pg_try_advisory_lock`` on a 64-bit hash of the contract id) from opening to closing: a
  second run of the same contract is refused with ``StoreBusy`` naming the holder's backend;
  runs of different contracts proceed side by side. The lock is the server's: it goes when the
  connection goes, so a killed run never leaves a stale lock.
* **Nothing half-written**: a run is one transaction; a process killed mid-write drops its
  connection and the server rolls the transaction back.

psycopg documentation: connection and transaction handling (``autocommit``, ``commit``,
``rollback``), parameters as ``%s`` placeholders; PostgreSQL documentation: advisory lock
functions (``pg_try_advisory_lock``, ``pg_advisory_xact_lock``), ``hashtextextended``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any
from urllib.parse import urlsplit

from clausewatch.history.schema import MIGRATIONS, VERSION, SchemaTooNew

SCHEMES = ("postgresql://", "postgres://")


class DatabaseError(Exception):
    """A PostgreSQL failure during a run (psycopg's, re-raised without the driver's types)."""
_MIGRATION_LOCK = "clausewatch:schema"


def is_url(location: object) -> bool:
    """True for a PostgreSQL location (a libpq URL), False for a SQLite file path."""
    return isinstance(location, str) and location.startswith(SCHEMES)


def check_url(url: str) -> str:
    """``url`` if usable; ``ValueError`` naming the problem (a password in it, no database)."""
    parts = urlsplit(url)
    if parts.password is not None or re.search(r"(^|[?&])password=", parts.query):
        raise ValueError(
            "the history URL carries a password: remove it and give it in PGPASSWORD, a "
            "password file (PGPASSFILE) or a service file (PGSERVICEFILE)"
        )
    return url


def shown(url: str) -> str:
    """The URL as printed in messages (never with a password; query dropped)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    user = f"{parts.username}@" if parts.username else ""
    return f"{parts.scheme}://{user}{host}{port}{parts.path}"


def pg_ddl(script: str) -> str:
    """A SQLite migration written for PostgreSQL (the subset ``history/schema.py`` uses)."""
    out = re.sub(r"INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY", script)
    out = re.sub(r"\bid\s+INTEGER PRIMARY KEY\b", "id BIGSERIAL PRIMARY KEY", out)
    out = re.sub(r"\)\s*WITHOUT ROWID", ")", out)
    out = re.sub(r"\bREAL\b", "DOUBLE PRECISION", out)
    out = re.sub(r"\bINTEGER\b", "BIGINT", out)
    return out


def statements(script: str) -> list[str]:
    """Split a DDL script on ``;`` at line ends (the migrations hold no procedural code)."""
    body = "\n".join(line.split("--", 1)[0] for line in script.splitlines())
    return [s.strip() for s in body.split(";") if s.strip()]


class PgConnection:
    """A psycopg connection with the small sqlite3-like surface ``HistoryStore`` uses:
    ``?`` placeholders, ``execute`` returning an iterable cursor, ``executemany``, explicit
    ``BEGIN``/``commit``/``rollback`` (the connection is in autocommit outside them)."""

    dialect = "postgresql"

    def __init__(self, conn: Any) -> None:
        self.raw = conn

    @staticmethod
    def _sql(sql: str) -> str:
        sql = sql.replace("BEGIN IMMEDIATE", "BEGIN")
        return sql.replace("%", "%%").replace("?", "%s")

    def execute(self, sql: str, args: Sequence[Any] = ()) -> Any:
        import psycopg

        try:
            return self.raw.execute(self._sql(sql), list(args))
        except psycopg.Error as exc:
            raise DatabaseError(str(exc).strip()) from exc

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        import psycopg

        batch = [list(r) for r in rows]
        if batch:
            try:
                with self.raw.cursor() as cur:
                    cur.executemany(self._sql(sql), batch)
            except psycopg.Error as exc:
                raise DatabaseError(str(exc).strip()) from exc

    def commit(self) -> None:
        self.raw.execute("COMMIT")

    def rollback(self) -> None:
        self.raw.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()

    def try_lock(self, key: str) -> bool:
        row = self.raw.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, 0))",
                               [key]).fetchone()
        return bool(row[0])

    def unlock(self, key: str) -> None:
        self.raw.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])

    def lock_holder(self, key: str) -> str:
        """Who holds ``key``'s advisory lock (backend pid, client address, since when)."""
        row = self.raw.execute(
            "SELECT a.pid, a.client_addr, a.backend_start FROM pg_locks l "
            "JOIN pg_stat_activity a ON a.pid = l.pid WHERE l.locktype = 'advisory' "
            "AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = "
            "hashtextextended(%s, 0)", [key]).fetchone()
        if row is None:
            return "another run"
        return f"backend {row[0]} from {row[1] or 'local socket'} since {row[2]:%Y-%m-%d %H:%M}"


def connect(url: str) -> PgConnection:
    """Connect (autocommit) and migrate; ``HistoryError`` on failure (imported lazily)."""
    import psycopg

    from clausewatch.history.store import HistoryError

    try:
        raw = psycopg.connect(check_url(url), autocommit=True,
                              application_name="clausewatch")
    except ValueError as exc:
        raise HistoryError(str(exc)) from exc
    except psycopg.Error as exc:
        raise HistoryError(f"{shown(url)}: cannot connect to the history store: "
                           f"{str(exc).strip()}") from exc
    conn = PgConnection(raw)
    try:
        migrate(conn)
    except SchemaTooNew as exc:
        conn.close()
        raise HistoryError(f"{shown(url)}: {exc}") from exc
    except psycopg.Error as exc:
        conn.close()
        raise HistoryError(f"{shown(url)}: cannot prepare the history store: {exc}") from exc
    return conn


def migrate(conn: PgConnection) -> int:
    """Apply the missing migrations, each in one transaction holding the migration lock (so
    runs starting together never migrate twice); return the version."""
    raw = conn.raw
    while True:
        raw.execute("BEGIN")
        try:
            raw.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                        [_MIGRATION_LOCK])
            raw.execute("CREATE TABLE IF NOT EXISTS clausewatch_schema "
                        "(version BIGINT NOT NULL)")
            row = raw.execute("SELECT max(version) FROM clausewatch_schema").fetchone()
            current = int(row[0] or 0)
            if current > VERSION:
                raise SchemaTooNew(f"history schema version {current} is newer than this "
                                   f"ClauseWatch knows ({VERSION})")
            if current < VERSION:
                for statement in statements(pg_ddl(MIGRATIONS[current])):
                    raw.execute(statement)
                raw.execute("INSERT INTO clausewatch_schema (version) VALUES (%s)",
                            [current + 1])
        except BaseException:
            raw.execute("ROLLBACK")
            raise
        raw.execute("COMMIT")
        if current >= VERSION:
            return current
