"""The evidence pack's zip, its big member compressed on a second core while the pack is built.

A zip of a million-record pack spends nearly all its time deflating ``evidence.jsonl``. zlib
releases the GIL while it compresses and while it computes the CRC-32 of a large block
(CPython's ``Modules/zlibmodule.c``: ``deflate`` and ``crc32`` run between
``Py_BEGIN_ALLOW_THREADS`` and ``Py_END_ALLOW_THREADS``), and so do file reads and writes
(https://docs.python.org/3/library/io.html, "Multi-threading"): a thread zipping that one member
runs on the second core while the main thread renders the reports and writes the rest of the
pack (``reports.publish``). The zip is then finished with every other file, in name order.

Entry order is therefore fixed as ``first`` (the members zipped early, in that order), then
every other file in name order, whether the zip is made during publishing or later from the
finished folder (``write``): the same pack always gives the same bytes (timestamps at as_of,
mode 0644, deflate level ``LEVEL``). Each file is streamed a block at a time, as ZIP64 when it
may exceed the 4 GiB of plain zip entries.

The first member can be zipped while its file is still being written (``start(growing=...)``,
``grown``): the thread reads what the writer says is on disk, ``BLOCK`` at a time, so the big
member is deflated on the second core as evidence.jsonl is encoded. The bytes are those of a
zip made afterwards: deflate's output (no flush until the end) does not depend on how its
input is cut into calls, nor does the CRC-32; the local header, written before the size is
known, is rewritten at the member's end with its size and CRC (``zipfile`` on a seekable file),
and is a plain (not ZIP64) header as ``zipfile`` writes for a file of that size. A file that
turns out large enough for ZIP64 (``file_size * 1.05 > ZIP64_LIMIT``, zipfile's rule) is
zipped again from the finished file by ``finish``.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import zipfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from clausewatch.reports.streams import file_chunks

#: Bytes read and deflated at a time by the thread (fewer hand-offs of the GIL than 1 MiB).
BLOCK = 8 << 20
#: Deflate level: 1 compresses a million evidence lines about 8 times faster than zlib's
#: default (6), for a zip about a third larger (JSON Lines still shrink about 9 times).
LEVEL = 1


class PackZip:
    """A zip of the folder ``pack`` being written to ``target`` (atomically: a temporary
    sibling renamed into place by ``finish``), entries under ``prefix/``."""

    def __init__(self, pack: Path, target: Path, as_of: datetime, *, prefix: str,
                 first: Sequence[str] = ()) -> None:
        self.pack, self.target, self.prefix, self.first = pack, target, prefix, tuple(first)
        self.stamp = as_of.astimezone(UTC).timetuple()[:6]
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
        os.close(fd)
        self.tmp = Path(tmp)
        self.zf = zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._growing: Path | None = None
        self._grown = threading.Condition()
        self._written = 0  # bytes of the growing file on disk, as the writer last said
        self._final = False  # the writer is done: ``_written`` is its size
        self._stop = False
        self._again = False  # the growing file needs ZIP64: zipped again by ``finish``
        self._followed: str | None = None  # SHA-256 of the growing file, as read and zipped
        self._follow_ended = threading.Event()

    def start(self, growing: Path | None = None) -> None:
        """Zip the ``first`` members in a thread of their own; the zip is not touched by
        anything else until ``finish`` or ``abort``. They are complete in ``pack``, but for
        ``growing``: the file the first of them will be (its bytes, as ``grown`` says they
        are written)."""
        self._growing = growing
        self._thread = threading.Thread(target=self._first, name="pack-zip", daemon=True)
        self._thread.start()

    def followed_sha256(self) -> str | None:
        """Once the growing file is zipped, its SHA-256 (hex) as read (the writer need not
        hash it: this thread does, on the second core); None if it was not zipped whole
        (not growing, stopped, failed, or to be zipped again as ZIP64)."""
        if self._growing is None:
            return None
        self._follow_ended.wait()
        return self._followed

    def grown(self, size: int, final: bool) -> None:
        """The growing file has ``size`` bytes on disk (flushed); ``final``: and no more."""
        with self._grown:
            self._written, self._final = size, final
            self._grown.notify()

    def finish(self) -> None:
        """Wait for the first members (zipping them now if ``start`` was not called), add
        every other file of the finished pack in name order and put the zip in place."""
        try:
            if self._thread is None:
                self._zip_first()
            self._join()
            if self._again:
                self._restart()
            early = set(self.first)
            rest = sorted(p.relative_to(self.pack).as_posix()
                          for p in self.pack.rglob("*") if p.is_file())
            for rel in rest:
                if rel not in early:
                    self._member(rel)
            self.zf.close()
            os.replace(self.tmp, self.target)
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Stop: wait for the thread, drop the temporary zip (the target is left as it was)."""
        with self._grown:
            self._stop = True
            self._grown.notify()
        try:
            self._join(raise_error=False)
            self.zf.close()
        finally:
            self.tmp.unlink(missing_ok=True)

    def _restart(self) -> None:
        """Drop what was zipped, and zip the ``first`` members again from their files."""
        self.zf.close()
        self.zf = zipfile.ZipFile(self.tmp, "w", compression=zipfile.ZIP_DEFLATED)
        self._growing, self._again = None, False
        self._zip_first()

    def _first(self) -> None:
        try:
            self._zip_first()
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread by _join
            self._error = exc
        finally:
            self._follow_ended.set()

    def _zip_first(self) -> None:
        rest = self.first
        if self._growing is not None and rest:
            self._follow(rest[0], self._growing)
            if self._stop or self._again:
                return
            rest = rest[1:]
        for rel in rest:
            self._member(rel)

    def _follow(self, rel: str, source: Path) -> None:
        """Zip ``source`` as member ``rel`` as it is written (see the module docstring), and
        hash it."""
        handle = None
        digest = hashlib.sha256()
        try:
            with self.zf.open(self._info(rel, 0), "w") as member:
                offset = 0
                while True:
                    with self._grown:
                        while not (self._stop or self._final
                                   or self._written - offset >= BLOCK):
                            self._grown.wait()
                        if self._stop:
                            return
                        written, final = self._written, self._final
                    if written * 1.05 > zipfile.ZIP64_LIMIT:  # zipfile's rule for ZIP64
                        self._again = True
                        return
                    if handle is None:
                        handle = open(source, "rb")  # noqa: SIM115 - closed below
                    while offset < written:
                        block = handle.read(min(BLOCK, written - offset))
                        if not block:
                            raise OSError(f"{source} is shorter than its writer said")
                        member.write(block)
                        digest.update(block)
                        offset += len(block)
                    if final:
                        self._followed = digest.hexdigest()
                        return
        finally:
            if handle is not None:
                handle.close()
            self._follow_ended.set()

    def _join(self, *, raise_error: bool = True) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if raise_error and self._error is not None:
            error, self._error = self._error, None
            raise error

    def _info(self, rel: str, size: int) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(f"{self.prefix}/{rel}", self.stamp)
        info.external_attr = 0o644 << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        # the level ZipFile.write would set (``compress_level`` since Python 3.13)
        setattr(info, "compress_level" if hasattr(info, "compress_level")
                else "_compresslevel", LEVEL)
        info.file_size = size  # ZipFile.open picks ZIP64 from it
        return info

    def _member(self, rel: str) -> None:
        path = self.pack / rel
        with self.zf.open(self._info(rel, path.stat().st_size), "w") as member:
            for block in file_chunks(path, BLOCK):
                member.write(block)


def write(pack: Path, target: Path, as_of: datetime, *, prefix: str,
          first: Sequence[str] = ()) -> None:
    """Zip the finished folder ``pack`` to ``target`` in one go (the same bytes as a
    ``PackZip`` started while the pack was built)."""
    PackZip(pack, target, as_of, prefix=prefix, first=first).finish()
