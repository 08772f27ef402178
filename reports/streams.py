"""Write the run's big files as streams: encoded in batches, hashed and sized on the way.

A million evidence records make a 400 MB ``evidence.jsonl``. It is never built whole in memory:
``evidence_chunks`` encodes the records a batch at a time (msgspec's ``encode_lines``, in C) and
``write_stream`` writes each chunk while it feeds one incremental SHA-256 (``hashlib``) and,
with secrets to look for, the leak scan (``core.redact.LeakScan``), so the file is encoded
once, hashed and scanned once, and read back only by the zip (``reports.pack_zip``), which may
follow it as it is written (``grown``) and then hashes it itself, on the second core
(``hashed=False``: publishing's evidence.jsonl).
The pack's copy is a hard link to the output folder's (``link_or_copy``): writing
400 MB costs seconds of the disk's time, and the bytes are the same (an edit in place of one
name edits both, which ``clausewatch verify`` of the pack folder then reports; the zip and the
kept pack are files of their own).

The line format is the interchange format read by ``collectors.jsonl.read_evidence``: one JSON
object per line, keys sorted, UTF-8, instants as RFC 3339 (``...Z`` in UTC), written compact
(no space after ``,`` and ``:``) and with the envelope's ``raw_ref`` always present (``null``
when the record has none, as the schema allows). That each record reads back equal to itself
is the contract (``tests/reports/test_streams.py``). A record msgspec cannot write exactly — a
non-finite float (msgspec would write ``null``), a datetime outside UTC (in its facts or as its
``observed_at``), an integer beyond 64 bits, a type it does not know — is written by
``collectors.jsonl.dumps`` instead, as before.
"""

from __future__ import annotations

import hashlib
import math
import os
import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
from msgspec import UNSET
from msgspec.structs import astuple

from clausewatch.collectors.fast_lines import Facts
from clausewatch.collectors.jsonl import dumps
from clausewatch.core.evidence import CollectionError, Evidence
from clausewatch.core.redact import LeakScan

#: Records per encoded batch (about 1.5 MB of JSON for patch records).
BATCH = 4096
#: Bytes per write and per read of a stream.
CHUNK = 1 << 20
#: Bytes written between two ``grown`` calls.
BLOCK = 8 << 20


@dataclass(frozen=True, slots=True)
class Written:
    """A file written as a stream: its SHA-256 (hex; empty if not hashed) and size in bytes."""

    sha256: str
    size: int


#: Called with the bytes on disk so far (flushed) and whether the file is complete.
Grown = Callable[[int, bool], None]


def write_stream(chunks: Iterable[bytes], *paths: Path, scan: LeakScan | None = None,
                 grown: Grown | None = None, hashed: bool = True) -> Written:
    """Write ``chunks`` to every path in ``paths`` (each created or truncated) and hash them;
    with ``scan``, feed it every chunk too (the leak scan of the bytes as written, so the file
    need not be read back for it). ``grown`` is told each time at least ``BLOCK`` more bytes
    of the first path are on disk, and once it is complete: a reader may follow the file as
    it is written (the pack's zip, ``reports.pack_zip``, which then hashes it: ``hashed``
    False leaves ``Written.sha256`` empty)."""
    digest = hashlib.sha256()
    size = told = 0
    handles = [open(path, "wb") for path in paths]  # noqa: SIM115 - closed below
    try:
        for chunk in chunks:
            if not chunk:
                continue
            if hashed:
                digest.update(chunk)
            if scan is not None:
                scan.feed(chunk)
            size += len(chunk)
            for handle in handles:
                handle.write(chunk)
            if grown is not None and size - told >= BLOCK:
                handles[0].flush()
                told = size
                grown(size, False)
    finally:
        for handle in handles:
            handle.close()
    if grown is not None:
        grown(size, True)
    return Written(digest.hexdigest() if hashed else "", size)


def link_or_copy(source: Path, target: Path) -> None:
    """``target`` as a second name of the finished file ``source`` (a hard link: its bytes are
    written to disk once), or a copy where the file system has no hard links."""
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def file_chunks(path: Path, size: int = CHUNK) -> Iterator[bytes]:
    """The bytes of ``path``, ``size`` at a time."""
    with open(path, "rb") as handle:
        while block := handle.read(size):
            yield block


def _enc_hook(value: Any) -> Any:
    """What msgspec does not write natively, as the JSON Lines writer writes it."""
    if isinstance(value, Mapping):
        return dict(value)
    if isinstance(value, set | frozenset):
        return list(value)
    raise NotImplementedError(type(value).__name__)  # the record goes to the old writer


_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook, order="sorted")


def exact(value: Any) -> bool:
    """True when msgspec writes ``value`` (facts, or any JSON-like value) as the JSON Lines
    writer would, so that it reads back the same: no non-finite float (msgspec would write
    ``null``), no datetime outside UTC (naive, or with an offset msgspec would keep), no
    decimal or date (the old writer refuses those), in any
    nesting. Integers beyond msgspec's 64 bits make it raise: ``_encode`` falls back then.

    The reader's ``Facts`` structs are read as a tuple of their fields (``astuple``, in C:
    going through the ``Mapping`` view would cost a Python call per fact); msgspec leaves
    their ``UNSET`` fields out, as the mapping does."""
    t = type(value)
    if t is dict:
        values: Any = value.values()
    elif isinstance(value, Facts):
        values = astuple(value)
    else:
        values = (value,)
    for v in values:
        t = type(v)
        if t is str or t is bool or v is None or t is int or v is UNSET:
            continue
        if t is datetime:
            if v.tzinfo is not UTC:  # msgspec would keep its offset; the old writer goes UTC
                return False
        elif t is float:
            if not math.isfinite(v):
                return False
        elif t is list:  # most often a list of strings (CVEs, groups): no walk
            for item in v:
                if type(item) is not str:
                    if not _exact_deep(v):
                        return False
                    break
        elif t is dict:  # most often tags: strings
            for item in v.values():
                if type(item) is not str:
                    if not _exact_deep(v):
                        return False
                    break
        elif not _exact_deep(v):
            return False
    return True


def _exact_deep(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, bool | str | None):
            continue
        if isinstance(v, float):
            if not math.isfinite(v):
                return False
        elif isinstance(v, datetime):
            if v.tzinfo is not UTC:
                return False
        elif isinstance(v, Mapping):
            stack.extend(v.values())
        elif isinstance(v, list | tuple | set | frozenset):
            stack.extend(v)
        elif isinstance(v, Decimal | date) or not isinstance(v, int):
            return False
    return True


def evidence_chunks(records: Iterable[Evidence | CollectionError],
                    batch: int = BATCH) -> Iterator[bytes]:
    """``records`` as JSON Lines, a batch of lines per chunk (see the module docstring)."""
    pending: list[Evidence] = []
    for record in records:
        # ``Evidence`` checks that observed_at has a zone, but keeps the one it was given
        if type(record) is Evidence and record.observed_at.tzinfo is UTC \
                and exact(record.facts):
            pending.append(record)
            if len(pending) >= batch:
                yield _encode(pending)
                pending = []
            continue
        if pending:
            yield _encode(pending)
            pending = []
        yield (dumps(record) + "\n").encode("utf-8")
    if pending:
        yield _encode(pending)


def _encode(records: list[Evidence]) -> bytes:
    try:
        return _ENCODER.encode_lines(records)
    except (TypeError, ValueError, OverflowError, NotImplementedError):
        # one record msgspec cannot write: each by the old writer, so nothing is lost
        return b"".join((dumps(r) + "\n").encode("utf-8") for r in records)
