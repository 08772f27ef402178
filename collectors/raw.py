"""Keep the raw API pages evidence was derived from, redacted, and name them in ``raw_ref``;
keep the files an attestation rests on verbatim (``attach``).

A page is written as ``layout`` lays it out (sorted keys, one member a line to two levels),
or, when the caller gives the bytes the API sent and the redactor proves on them that nothing
needs masking (``Redactor.leaves_received``), as those bytes: the file is then the vendor's
JSON as received (its spacing and key order, no final newline added). Either way it is JSON
whose parse is the redacted page, and ``raw_ref``'s digest is that of the bytes written."""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

Redactor = Callable[[Any], Any]
#: The folder, beside ``raw/``, of the files kept verbatim (``RawRecorder.attach``).
ATTACHMENTS = "attachments"
#: ``json.dumps(value, sort_keys=True, default=str)`` without building an encoder per call (a
#: page of 100,000 rows is 100,000 calls; the encoder keeps no state between them).
_ENCODE = json.JSONEncoder(sort_keys=True, default=str).encode


def _refuse(value: Any) -> Any:
    raise TypeError(f"not JSON: {type(value).__name__}")


#: The same, refusing what is not JSON (``_plain_layout``: such a page is masked first), and
#: without the check for circular references (a quarter of the encoding time of a page: the
#: encoder records every container it enters): a page decoded from JSON holds none, and one
#: that did would raise RecursionError, which ``_plain_layout`` takes as "not proved", as the
#: check's ValueError was.
_ENCODE_JSON_ONLY = json.JSONEncoder(sort_keys=True, default=_refuse, check_circular=False).encode


def _safe(part: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", part).strip("_") or "_"


def layout(value: Any, depth: int = 2, pad: str = "", json_only: bool = False) -> str:
    """``value`` as JSON with sorted keys, one member per line down to ``depth`` levels, each
    deeper value on one line: a page of 100,000 rows is one row a line (readable, diff-able)
    and encoded by json's C encoder (``indent=`` would force its pure-Python one). An object
    json cannot encode is written as ``str`` of it, or raises TypeError with ``json_only``."""
    if depth == 0 or not isinstance(value, dict | list) or not value:
        return (_ENCODE_JSON_ONLY if json_only else _ENCODE)(value)
    inner = pad + " "
    if isinstance(value, dict):
        parts = [f"{inner}{json.dumps(str(k))}: {layout(value[k], depth - 1, inner, json_only)}"
                 for k in sorted(value, key=str)]
        return "{\n" + ",\n".join(parts) + f"\n{pad}}}"
    parts = [inner + layout(v, depth - 1, inner, json_only) for v in value]
    return "[\n" + ",\n".join(parts) + f"\n{pad}]"


def _plain_layout(page: Any, redact: Redactor) -> str | None:
    """``layout(page)`` when it is provably ``layout(redact(page))``, else None: the page holds
    only JSON types (no tuple where ``layout`` breaks lines, nothing json cannot encode), and
    the redactor proves on the text that it would change nothing (``Redactor.leaves_json``).
    A page decoded from JSON nearly always is; masking it would copy every value."""
    leaves = getattr(redact, "leaves_json", None)
    if leaves is None or type(page) not in (dict, list):
        return None
    children = page.values() if type(page) is dict else page
    if any(type(c) is tuple or (isinstance(c, Mapping) and not isinstance(c, dict))
           for c in children):
        return None
    try:
        body = layout(page, json_only=True)
    except (TypeError, ValueError, RecursionError):
        return None
    return body if leaves(body) else None


def _as_received(page: Any, received: bytes | None, redact: Redactor) -> bytes | None:
    """``received`` when the redactor proves it holds nothing to mask, else None (a 100 MB
    export page then costs a search of its bytes and a walk of its keys, not a layout)."""
    leaves = getattr(redact, "leaves_received", None)
    if received is None or leaves is None:
        return None
    return received if leaves(received, page) else None


class RawRecorder:
    """Writes each page as ``raw/<source>/<origin>/<operation>-<n>.json`` under ``root``.

    Pages pass through ``redact`` before they touch the disk, so secrets never reach the
    evidence pack. ``save`` returns the ``raw_ref`` to put on the evidence derived from the page:
    the relative path and the SHA-256 of what was written.
    """

    def __init__(self, root: Path | None, redact: Redactor) -> None:
        self.root = root
        self.redact = redact
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._folders: set[Path] = set()  # made already: one mkdir per folder, not per page

    def save(self, source: str, origin: str, operation: str, page: Any,
             received: bytes | None = None) -> str:
        """Write ``page`` (``received``: the body it was parsed from, kept as is when proved
        clean) and return its ``raw_ref``."""
        folder = "/".join(_safe(p) for p in (source, *origin.split("/")))
        with self._lock:
            key = f"{folder}/{operation}"
            n = self._counts[key] = self._counts.get(key, 0) + 1
        rel = f"raw/{folder}/{_safe(operation)}-{n:04d}.json"
        data = _as_received(page, received, self.redact)
        if data is None:
            body = _plain_layout(page, self.redact)
            if body is None:
                body = layout(self.redact(page))
            data = (body + "\n").encode()
        digest = hashlib.sha256(data).hexdigest()
        if self.root is not None:
            path = self.root / rel
            if path.parent not in self._folders:
                path.parent.mkdir(parents=True, exist_ok=True)
                with self._lock:
                    self._folders.add(path.parent)
            path.write_bytes(data)
        return f"{rel}#sha256={digest}"

    def attach(self, origin: str, name: str, data: bytes) -> str:
        """Keep a file evidence rests on (a signed report) byte for byte, as
        ``attachments/<origin>/<sha256>/<name>``; return its ``raw_ref``.

        Attachments are not redacted (a signed PDF must keep its hash); the evidence pack
        still scans them for the run's secrets before sealing them.
        """
        folder = "/".join(_safe(p) for p in origin.split("/"))
        digest = hashlib.sha256(data).hexdigest()
        rel = f"{ATTACHMENTS}/{folder}/{digest}/{_safe(name)}"
        if self.root is not None:
            path = self.root / rel
            with self._lock:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
        return f"{rel}#sha256={digest}"
