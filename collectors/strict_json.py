"""Strict reading of one JSON Lines record: what plain JSON parsers let through, refused.

RFC 8259 leaves duplicate object names to the implementation ("the names within an object
SHOULD be unique", §4; parsers then disagree on which value wins) and lets implementations set
limits on nesting and on the range of numbers (§9, §6). The evidence format sets them
(``clausewatch.core.limits``, ``docs/evidence.md``): every name unique at every depth, at most
``MAX_DEPTH`` nested objects and arrays, numbers finite (``NaN``/``Infinity`` are not JSON, and
a literal such as ``1e999`` that overflows a double is refused as well) and integers bounded.

:func:`loads` is the reader's slow path (orjson tells what is not JSON; the standard library's
``object_pairs_hook`` sees every name and gives the values, integers exact); :func:`keys_intact`
is the fast path's proof that msgspec, which keeps the last of two equal names, saw none.
"""

from __future__ import annotations

import json
import re
from typing import Any

import orjson

from clausewatch.core.limits import MAX_DEPTH, MAX_INTEGER

_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"')
_INNERMOST = re.compile(rb"\{\}|\[\]")
_STRUCTURE = bytes(range(256)).translate(None, b"{}[]")  # every byte but the brackets
_NON_FINITE = re.compile(rb"(?<![\w.])-?(NaN|Infinity)(?![\w.])")


class StrictJSONError(ValueError):
    """A line that is not strict JSON; the message says what, ``path`` where (if known)."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


def depth(line: bytes) -> int:
    """How deeply objects and arrays nest in ``line`` (at most ``MAX_DEPTH + 1`` is counted).

    Strings are taken out, then each pass removes the innermost ``{}`` and ``[]`` pairs.
    """
    rest = _STRING.sub(b"", line).translate(None, _STRUCTURE)
    levels = 0
    while rest and levels <= MAX_DEPTH:
        shorter = _INNERMOST.sub(b"", rest)
        if shorter == rest:  # unbalanced: the parser words that error
            break
        rest = shorter
        levels += 1
    return levels


def _unique(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise StrictJSONError(f"duplicate key {key!r} in one object (every name must be "
                                  "unique: readers disagree on which value wins)")
        out[key] = value
    return out


def _no_constant(name: str) -> Any:
    raise StrictJSONError(f"{name} is not a JSON number: numbers must be finite")


def _check_integers(obj: Any) -> None:
    """Refuse an integer beyond ±``MAX_INTEGER``, naming where it is."""
    stack: list[tuple[str, Any]] = [("", obj)]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            stack.extend((f"{path}.{k}" if path else k, v) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((f"{path}.{i}" if path else str(i), v) for i, v in enumerate(value))
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
            text = str(value)
            raise StrictJSONError(f"integer {text[:24]}{'...' if len(text) > 24 else ''} is "
                                  f"beyond ±{MAX_INTEGER}", path)


def loads(line: bytes) -> Any:
    """Parse one line strictly; raise ``StrictJSONError`` saying what is wrong."""
    if depth(line) > MAX_DEPTH:
        raise StrictJSONError(f"nested deeper than {MAX_DEPTH} levels of objects and arrays")
    try:
        orjson.loads(line)  # the parse errors, worded with their column
    except orjson.JSONDecodeError as exc:
        if _NON_FINITE.search(_STRING.sub(b'""', line)):
            raise StrictJSONError("NaN and Infinity are not JSON: numbers must be finite") from exc
        if "infinity" in exc.msg:
            raise StrictJSONError(f"a number at column {exc.colno} is out of range (it would be "
                                  "infinite): numbers must be finite") from exc
        raise StrictJSONError(f"not valid JSON: {exc.msg} at column {exc.colno}") from exc
    # Valid JSON of a bounded depth: now every name, one by one (orjson keeps the last), and
    # the values as written: orjson reads an integer beyond 64 bits as a float (1e29 for
    # 123456789012345678901234567890), which the bound below would then not see.
    obj = json.loads(line, object_pairs_hook=_unique, parse_constant=_no_constant)
    _check_integers(obj)
    return obj


def keys_intact(line: bytes, decoded_again: bytes) -> bool:
    """Whether the fast path's decoding of ``line`` (re-encoded: ``decoded_again``) kept every
    name: proof that the line has no duplicate key.

    Without a backslash, each string of the line is a string of the decoding (a duplicate
    name drops at least that name), so the quotes match in number exactly when none was
    dropped. A line with a backslash is not proved (the slow path reads it).
    """
    return b"\\" not in line and line.count(b'"') == decoded_again.count(b'"')
