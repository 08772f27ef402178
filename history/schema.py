"""The history store's schema, as an ordered list of migrations.

``PRAGMA user_version`` holds how many migrations a database has had. Opening a store applies
the missing ones in order, each in its own transaction with the version bump, so a store is
always at a version listed here. A store written by a newer ClauseWatch (a higher version) is
refused rather than guessed at. Append new migrations; never edit a released one.
"""

from __future__ import annotations

import sqlite3

V1 = """
CREATE TABLE contracts (
    digest      TEXT PRIMARY KEY,          -- sha256 of the contract file as read
    contract_id TEXT NOT NULL,
    name        TEXT NOT NULL,             -- how the run called the file
    text        TEXT NOT NULL              -- the file itself, so a report can reload it
);
CREATE TABLE runs (
    seq             INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id          TEXT NOT NULL UNIQUE,
    contract_id     TEXT NOT NULL,
    contract_digest TEXT NOT NULL REFERENCES contracts(digest),
    as_of           TEXT NOT NULL,         -- UTC, ISO 8601 with microseconds and Z
    recorded_at     TEXT NOT NULL,
    status          TEXT NOT NULL,
    exit_code       INTEGER NOT NULL,
    partial         INTEGER NOT NULL,
    results_digest  TEXT NOT NULL,
    tool_version    TEXT NOT NULL,
    command         TEXT NOT NULL
);
CREATE INDEX runs_by_contract ON runs(contract_id, as_of);
CREATE TABLE verdicts (
    run_seq       INTEGER NOT NULL REFERENCES runs(seq),
    commitment_id TEXT NOT NULL,
    status        TEXT NOT NULL,
    measured      REAL,
    target        REAL NOT NULL,
    reason        TEXT NOT NULL,
    due           TEXT,
    counts        TEXT NOT NULL,           -- JSON object status -> count
    PRIMARY KEY (run_seq, commitment_id)
) WITHOUT ROWID;
CREATE TABLE results (
    run_seq       INTEGER NOT NULL REFERENCES runs(seq),
    commitment_id TEXT NOT NULL,
    subject       TEXT NOT NULL,
    label         TEXT NOT NULL,
    status        TEXT NOT NULL,
    reason        TEXT NOT NULL,
    due           TEXT,
    evidence_ids  TEXT NOT NULL,           -- JSON array
    PRIMARY KEY (run_seq, commitment_id, subject)
) WITHOUT ROWID;
-- One row per episode of a (commitment, subject) out of compliance: it opens when the subject
-- is first seen at risk or breached and closes when it is compliant (or waived, or gone) again.
-- subject '' is the commitment's own verdict. breached_at NULL: cured inside the deadline.
CREATE TABLE intervals (
    id            INTEGER PRIMARY KEY,
    contract_id   TEXT NOT NULL,
    commitment_id TEXT NOT NULL,
    subject       TEXT NOT NULL,
    label         TEXT NOT NULL,
    opened_at     TEXT NOT NULL,
    opened_run    INTEGER NOT NULL REFERENCES runs(seq),
    breached_at   TEXT,                    -- first run that saw it breached
    due           TEXT,                    -- earliest deadline the results gave
    last_seen_at  TEXT NOT NULL,
    last_status   TEXT NOT NULL,
    closed_at     TEXT,
    closed_run    INTEGER REFERENCES runs(seq),
    end_reason    TEXT,                    -- cured | waived | gone
    cured_within_deadline INTEGER          -- 1 cured before breaching, 0 after; NULL open
);
CREATE UNIQUE INDEX one_open_interval
    ON intervals(contract_id, commitment_id, subject) WHERE closed_at IS NULL;
CREATE INDEX intervals_by_commitment ON intervals(contract_id, commitment_id, opened_at);
"""

V2 = """
CREATE TABLE deliveries (
    run_seq  INTEGER NOT NULL REFERENCES runs(seq),
    channel  TEXT NOT NULL,
    type     TEXT NOT NULL,
    ok       INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    events   INTEGER NOT NULL,
    detail   TEXT NOT NULL,                -- HTTP status or the error, secrets redacted
    PRIMARY KEY (run_seq, channel)
) WITHOUT ROWID;
"""

V3 = """
-- A run being published: recorded before its output folder is renamed into place, deleted
-- once it is. A row left by a killed run is resolved on the next start: marked published if
-- the output folder holds its results, else rolled back with ``undo`` (the intervals rows the
-- run changed, as they were before it).
CREATE TABLE unpublished (
    run_seq INTEGER PRIMARY KEY REFERENCES runs(seq),
    output  TEXT NOT NULL,                 -- the output folder, resolved
    undo    TEXT NOT NULL                  -- JSON array of intervals rows
);
"""

#: Ordered; migration ``i`` takes a store from version ``i`` to ``i + 1``.
MIGRATIONS: tuple[str, ...] = (V1, V2, V3)
VERSION = len(MIGRATIONS)


class SchemaTooNew(Exception):
    """The store was written by a newer ClauseWatch."""


def user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(conn: sqlite3.Connection, upto: int = VERSION) -> int:
    """Apply the missing migrations in order (each atomic with its version bump); return version."""
    current = user_version(conn)
    if current > VERSION:
        raise SchemaTooNew(
            f"history schema version {current} is newer than this ClauseWatch knows ({VERSION})"
        )
    for version in range(current, upto):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(MIGRATIONS[version]):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        except BaseException:
            conn.rollback()
            raise
        conn.commit()
    return user_version(conn)


def _statements(script: str) -> list[str]:
    """Split a migration into statements (executescript would commit on its own)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return [s for s in out if s]
