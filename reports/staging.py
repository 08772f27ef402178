"""Publish an output folder whole, in an order a kill at any point leaves recoverable.

A run writes everything into a staging folder, then publishes it:

1. ``commit`` writes a journal (``.<out>.publish.json`` beside the folder) naming the stage,
   where the previous folder goes, the run and the pack archive still to make;
2. the previous folder is renamed aside (``.<out>.old-<pid>``), the stage renamed into place;
3. the caller's ``published`` hook runs (history marks the run published), the pack is copied
   into ``--pack-history``, the journal removed, the previous folder deleted.

A process killed anywhere is put right by ``recover`` on the next start (under the run's
lock): a journal whose stage still exists is completed (the stage was whole: the journal is
written only after it), then its archive made and the old folder removed; staging and old
folders of processes that are gone are deleted.

An output folder that is a mount point (``docker -v host:/out``) cannot be renamed (EBUSY), nor
can a folder whose parent is not writable be replaced: ClauseWatch then publishes inside it.
The stage is ``<out>/.clausewatch-staging-<pid>``, the journal ``<out>/.clausewatch-publish.json``
with a phase: ``clear`` moves the previous entries into ``<out>/.clausewatch-old-<pid>``,
``fill`` moves the staged ones into ``<out>``; each rename stays on the mount's file system and
each phase is redone as a whole by ``recover``. A rename that fails with EBUSY or EXDEV after
all (a bind mount ``os.path.ismount`` cannot see) falls back to the same, copying the stage in.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from clausewatch.core.faults import checkpoint
from clausewatch.core.interrupt import Stopped, deferred

INSIDE = ".clausewatch-"  # what ClauseWatch keeps inside a folder it publishes in place
JOURNAL_FORMAT = "clausewatch-publish/1"
#: A rename that cannot replace the folder: publish inside it instead.
_CANNOT_RENAME = {errno.EBUSY, errno.EXDEV}

#: Copies the pack of a published output folder to an archive path (``--pack-history``).
Archive = Callable[[Path, Path], None]


@dataclass(frozen=True, slots=True)
class Staging:
    """A staging folder and where it goes."""

    target: Path  # the output folder, resolved
    stage: Path
    old: Path  # where the previous output folder (or its entries) is moved aside
    inside: bool  # published inside ``target`` (a mount point, or a parent we cannot write)
    steps: bool = True  # mark the steps (``core.faults``): the run's output folder only

    @property
    def journal(self) -> Path:
        return journal_path(self.target, self.inside)


def journal_path(target: Path, inside: bool) -> Path:
    return target / f"{INSIDE}publish.json" if inside else target.with_name(
        f".{target.name}.publish.json"
    )


def publishes_inside(target: Path) -> bool:
    """True when ``target`` must be published in place: a mount point, or an existing folder
    whose parent this process cannot write."""
    target = target.resolve()
    return target.is_dir() and (
        os.path.ismount(target) or not os.access(target.parent, os.W_OK | os.X_OK)
    )


def lock_path(target: Path) -> Path:
    """The output folder's lock file: beside it, or inside it when published in place (a
    folder renamed whole cannot hold its own lock)."""
    target = target.resolve()
    if publishes_inside(target):
        return target / f"{INSIDE}lock"
    return target.with_name(f".{target.name}.lock")


def begin(target: Path, *, steps: bool = True) -> Staging:
    """A new, empty staging folder for ``target`` (its parent is created if need be)."""
    target = target.resolve()
    pid = os.getpid()
    if publishes_inside(target):
        st = Staging(target, target / f"{INSIDE}staging-{pid}", target / f"{INSIDE}old-{pid}",
                     True, steps)
        shutil.rmtree(st.stage, ignore_errors=True)
        st.stage.mkdir()
    else:
        target.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.staging-{pid}-", dir=target.parent))
        st = Staging(target, stage, target.with_name(f".{target.name}.old-{pid}"), False, steps)
    shutil.rmtree(st.old, ignore_errors=True)  # this pid's, so a dead process's: stale
    return st


def abort(st: Staging) -> None:
    """Remove the staging folder; the output folder stays as it was."""
    shutil.rmtree(st.stage, ignore_errors=True)


def commit(
    st: Staging,
    *,
    run_id: str = "",
    archive: tuple[Path, str] | None = None,
    published: Callable[[], None] | None = None,
    archiver: Archive | None = None,
) -> None:
    """Publish the stage as ``st.target``; signals wait until it is done.

    ``published`` runs once the outputs are in place; then ``archiver`` copies the pack to
    ``archive`` (folder, name). On an error before the outputs are in place, the
    previous folder is put back and the stage removed."""
    doc: dict[str, Any] = {
        "format": JOURNAL_FORMAT,
        "run_id": run_id,
        "stage": str(st.stage),
        "old": str(st.old),
        "inside": st.inside,
        "phase": "clear",
        "archive": [str(archive[0]), archive[1]] if archive else None,
    }
    done = False
    try:
        with deferred():
            _write_json(st.journal, doc)
            _step(st, "journal-written")
            try:
                st = _swap(st, doc)
            except BaseException:
                _undo(st, doc)
                raise
            if published is not None:
                published()
            _step(st, "marked-published")
            _finish(st, doc, archiver)
            done = True
    except Stopped as exc:  # a signal held until the publication was over
        exc.published = done
        raise


def recover(target: Path, archiver: Archive | None = None) -> list[str]:
    """Put right what a killed publication of ``target`` left (call it holding the output
    lock): complete a journaled publication, remove stale staging and old folders. Returns
    what was done, one line each."""
    target = target.resolve()
    done: list[str] = []
    for inside in (False, True):
        journal = journal_path(target, inside)
        doc = _read_json(journal)
        if doc is None:
            journal.unlink(missing_ok=True)  # not ours, or written half: nothing published yet
            continue
        st = Staging(target, Path(doc["stage"]), Path(doc["old"]), bool(doc["inside"]), False)
        if st.stage.exists():
            _swap(st, doc)
            done.append(f"completed the publication of run {doc['run_id']} into {target}")
        _finish(st, doc, archiver)
    for path in _stale(target):
        _remove(path)
        done.append(f"removed {path}, left by a process that is gone")
    return done


def _step(st: Staging, name: str) -> None:
    if st.steps:
        checkpoint(name)


def _swap(st: Staging, doc: dict[str, Any]) -> Staging:
    """Move the stage into place (redone from wherever a kill stopped it)."""
    if st.inside:
        _swap_inside(st, doc)
        return st
    if not st.stage.exists():
        return st
    if st.target.exists():
        try:
            os.replace(st.target, st.old)
        except OSError as exc:
            if exc.errno not in _CANNOT_RENAME:
                raise
            return _move_inside(st, doc)
        _step(st, "old-moved")
    os.replace(st.stage, st.target)
    _step(st, "stage-moved")
    return st


def _move_inside(st: Staging, doc: dict[str, Any]) -> Staging:
    """The folder cannot be renamed: copy the stage into it and publish there."""
    pid = os.getpid()
    inner = replace(st, stage=st.target / f"{INSIDE}staging-{pid}",
                    old=st.target / f"{INSIDE}old-{pid}", inside=True)
    shutil.rmtree(inner.stage, ignore_errors=True)
    try:
        shutil.copytree(st.stage, inner.stage, symlinks=True)
    except BaseException:
        shutil.rmtree(inner.stage, ignore_errors=True)
        raise
    inside_doc = {**doc, "stage": str(inner.stage), "old": str(inner.old), "inside": True,
                  "phase": "clear"}
    _write_json(inner.journal, inside_doc)
    st.journal.unlink(missing_ok=True)
    shutil.rmtree(st.stage, ignore_errors=True)
    doc.update(inside_doc)
    try:
        _swap_inside(inner, doc)
    except BaseException:
        _undo(inner, doc)
        raise
    return inner


def _swap_inside(st: Staging, doc: dict[str, Any]) -> None:
    if doc["phase"] == "clear":
        st.old.mkdir(exist_ok=True)
        for entry in sorted(st.target.iterdir()):
            if not entry.name.startswith(INSIDE):
                os.replace(entry, st.old / entry.name)
        _step(st, "old-moved")
        doc["phase"] = "fill"
        _write_json(st.journal, doc)
    if st.stage.exists():
        for entry in sorted(st.stage.iterdir()):
            os.replace(entry, st.target / entry.name)
        st.stage.rmdir()
    _step(st, "stage-moved")


def _undo(st: Staging, doc: dict[str, Any]) -> None:
    """After a failed swap: put the previous outputs back, drop the stage and the journal."""
    if st.stage.exists():
        if st.inside and st.old.is_dir():
            if doc["phase"] == "fill":  # staged entries already moved in: move them back
                for entry in sorted(st.target.iterdir()):
                    if not entry.name.startswith(INSIDE):
                        os.replace(entry, st.stage / entry.name)
            for entry in sorted(st.old.iterdir()):
                os.replace(entry, st.target / entry.name)
        elif not st.inside and st.old.exists() and not st.target.exists():
            os.replace(st.old, st.target)
        abort(st)
    st.journal.unlink(missing_ok=True)
    shutil.rmtree(st.old, ignore_errors=True)


def _finish(st: Staging, doc: dict[str, Any], archiver: Archive | None) -> None:
    if doc.get("archive") and archiver is not None:
        dest = Path(doc["archive"][0]) / doc["archive"][1]
        if not dest.exists():
            archiver(st.target, dest)
        _step(st, "archived")
    st.journal.unlink(missing_ok=True)
    _step(st, "journal-removed")
    shutil.rmtree(st.old, ignore_errors=True)


def _stale(target: Path) -> list[Path]:
    """Staging and old folders (and journal temporaries) of ``target`` whose owner is gone."""
    found = []
    beside = [f".{target.name}.{kind}-" for kind in ("staging", "old", "publish.json.tmp")]
    patterns = [(target.parent, prefix) for prefix in beside]
    if target.is_dir():
        patterns += [(target, f"{INSIDE}{kind}-") for kind in ("staging", "old",
                                                               "publish.json.tmp")]
    for folder, prefix in patterns:
        for path in folder.glob(f"{prefix}*"):
            pid = path.name[len(prefix):].split("-")[0]
            if pid.isdigit() and not _alive(int(pid)):
                found.append(path)
    return sorted(found)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    """True if ``pid`` is another running process (our own pid, reused after a restart such
    as a container's pid 1, is stale: this process has not staged anything yet)."""
    if pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _write_json(path: Path, doc: dict[str, Any]) -> None:
    """Write ``doc`` through a temporary sibling, fsync'd, then renamed over ``path``."""
    fd, tmp = tempfile.mkstemp(prefix=f"{path.name}.tmp-{os.getpid()}-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(doc, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != JOURNAL_FORMAT:
        return None
    return doc
