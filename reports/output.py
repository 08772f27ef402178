"""Write an output folder all at once: a failed run leaves the previous one untouched
(``reports.staging`` says how, and how a kill is put right)."""

from __future__ import annotations

import fnmatch
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from clausewatch.reports.formats import FORMATS
from clausewatch.reports.staging import INSIDE, abort, begin, commit

#: The run's record, written whatever formats are selected (the pack and ``verify`` need it).
RECORD_NAMES = ("contract.yaml", "evidence.jsonl", "results.json")
#: What else ClauseWatch writes into an output folder besides the output formats' files.
FIXED_NAMES = (
    *RECORD_NAMES, "evidence-pack", "evidence-pack.zip", "raw", "history.sqlite",
    "history.sqlite.lock", "history.sqlite-*", "outbox.jsonl", "alerts.json", "period-*.html",
    "period-*.md", f"{INSIDE}*",
)


def output_names() -> tuple[str, ...]:
    """What ClauseWatch writes into an output folder (names and glob patterns): the fixed
    files and every registered output format's file. A folder holding anything else is not
    ours to replace: it may hold the very evidence file being judged."""
    return (*FIXED_NAMES, *FORMATS.file_names())


class NotAnOutputFolder(ValueError):
    """The output folder holds files ClauseWatch did not write."""


def check_replaceable(target: Path) -> None:
    """Refuse to replace a folder that holds anything but ClauseWatch outputs."""
    if not target.is_dir():
        if target.exists():
            raise NotAnOutputFolder(f"--out {target} exists and is not a folder")
        return
    names = output_names()
    foreign = sorted(
        p.name for p in target.iterdir()
        if not any(fnmatch.fnmatch(p.name, pattern) for pattern in names)
    )
    if foreign:
        more = f" and {len(foreign) - 5} more" if len(foreign) > 5 else ""
        shown = ", ".join(foreign[:5]) + more
        raise NotAnOutputFolder(
            f"--out {target} holds files ClauseWatch did not write ({shown}); it replaces its "
            "output folder as a whole, so give it a folder of its own"
        )


@contextmanager
def staged_dir(target: Path) -> Iterator[Path]:
    """Yield an empty staging folder for ``target``; on success it replaces ``target``.

    On any exception the staging folder is removed and ``target`` is left as it was; a kill
    is put right by ``staging.recover`` (see there, and for folders that are mount points).
    Callers that write a user's ``--out`` call ``check_replaceable`` first.
    """
    st = begin(target, steps=False)
    try:
        yield st.stage
    except BaseException:
        abort(st)
        raise
    commit(st)


def write_text_atomic(path: Path, text: str) -> None:
    """Write a file through a temporary sibling and a rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
