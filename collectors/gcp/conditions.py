"""IAM conditions, read conservatively: only an expiry (or a start) that has certainly passed
takes a role away.

A conditional binding holds when its CEL expression is true at request time
(https://cloud.google.com/iam/docs/conditions-overview). Time-bound access is written
``request.time < timestamp("2027-01-01T00:00:00Z")`` (https://cloud.google.com/iam/docs/
configuring-temporary-access). This module evaluates exactly one thing: the expression, split
on top-level ``&&``, has a conjunct of the form ``request.time OP timestamp("…")`` (``OP`` one
of ``<``, ``<=``, ``>``, ``>=``, the literal in RFC 3339) that is false at ``as_of``; then the
conjunction is false and the role is *not held*. Anything else — ``||`` or ``?:`` at the top
level, a string literal that cannot be tokenised, a conjunct it does not know — leaves the role
*held*, with the condition text recorded: for an MFA commitment, counting a possible admin as
an admin can only make the verdict stricter, never compliant without evidence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from clausewatch.core.clock import parse_utc

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>&&|\|\||<=|>=|==|!=|[<>!?:(),.\[\]{}+\-*/%])
    | (?P<word>[A-Za-z_][A-Za-z0-9_]*|\d+(?:\.\d+)?)
    )""", re.VERBOSE)
_TIME_CLAUSE = re.compile(
    r"""^request\.time(<=|<|>=|>)timestamp\((?:"([^"\\]*)"|'([^'\\]*)')\)$""")


@dataclass(frozen=True, slots=True)
class Verdict:
    """Whether a conditional binding holds at ``as_of``, and why."""

    held: bool
    evaluated: bool  # False: the expression could not be fully evaluated (held by default)
    expires_at: datetime | None
    note: str


def _tokens(expression: str) -> list[tuple[str, str]] | None:
    out: list[tuple[str, str]] = []
    pos = 0
    text = expression.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            return None
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        pos = match.end()
    return out


def _conjuncts(tokens: list[tuple[str, str]]) -> list[list[tuple[str, str]]] | None:
    """Top-level ``&&`` parts (outer parentheses removed); None if ``||``/``?`` is top-level."""
    while _wrapped(tokens):
        tokens = tokens[1:-1]
    parts: list[list[tuple[str, str]]] = [[]]
    depth = 0
    for kind, text in tokens:
        if kind == "op" and text in "([{":
            depth += 1
        elif kind == "op" and text in ")]}":
            depth -= 1
            if depth < 0:
                return None
        if depth == 0 and kind == "op" and text in ("||", "?", ":"):
            return None
        if depth == 0 and kind == "op" and text == "&&":
            parts.append([])
        else:
            parts[-1].append((kind, text))
    if depth != 0 or any(not p for p in parts):
        return None
    return parts


def _wrapped(tokens: list[tuple[str, str]]) -> bool:
    if len(tokens) < 2 or tokens[0] != ("op", "(") or tokens[-1] != ("op", ")"):
        return False
    depth = 0
    for i, (kind, text) in enumerate(tokens):
        if kind == "op" and text == "(":
            depth += 1
        elif kind == "op" and text == ")":
            depth -= 1
            if depth == 0 and i != len(tokens) - 1:
                return False
    return True


def _time_clause(part: list[tuple[str, str]]) -> tuple[str, datetime] | None:
    while _wrapped(part):
        part = part[1:-1]
    joined = "".join(text for _, text in part)
    match = _TIME_CLAUSE.match(joined)
    if match is None:
        return None
    literal = match.group(2) if match.group(2) is not None else match.group(3)
    try:
        return match.group(1), parse_utc(literal, "timestamp")
    except ValueError:
        return None


def evaluate(expression: str, as_of: datetime) -> Verdict:
    """Whether a binding with this condition holds at ``as_of`` (see the module docstring)."""
    tokens = _tokens(expression)
    parts = _conjuncts(tokens) if tokens else None
    if parts is None:
        return Verdict(True, False, None, "condition not evaluated (held)")
    unknown = 0
    expires: datetime | None = None
    for part in parts:
        clause = _time_clause(part)
        if clause is None:
            unknown += 1
            continue
        op, when = clause
        if op in ("<", "<="):
            expires = when if expires is None else min(expires, when)
            true = as_of < when if op == "<" else as_of <= when
        else:
            true = as_of > when if op == ">" else as_of >= when
        if not true:
            what = "expired" if op in ("<", "<=") else "not started"
            return Verdict(False, True, expires, f"{what} ({when.isoformat()})")
    if unknown:
        return Verdict(True, False, expires, "condition not evaluated (held)")
    note = f"until {expires.isoformat()}" if expires else "time condition in force"
    return Verdict(True, True, expires, note)
