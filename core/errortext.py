"""A collection error in one line a person can read: status, code and what it says.

Collectors keep an error's whole message and its raw body in the evidence (``evidence.jsonl``
and the evidence pack); reports, reasons and the terminal show :func:`error_summary`: the HTTP
status and error code when the collector recorded them (``details``), then the message's first
meaningful line, with an HTML error page reduced to its title or text, entities decoded,
whitespace collapsed and the whole cut to :data:`SUMMARY_CHARS`.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from typing import Any

from clausewatch.core.evidence import CollectionError

SUMMARY_CHARS = 200
_HTML = re.compile(r"<\s*(!doctype|html|head|body|title|h[1-6]|div|p|pre|center|br)\b", re.I)
_TITLE = re.compile(r"<\s*title[^>]*>(.*?)<\s*/\s*title\s*>", re.I | re.S)
_DROP = re.compile(r"<\s*(script|style|head)\b.*?<\s*/\s*\1\s*>", re.I | re.S)
_TAG = re.compile(r"<[^>]*>")


def strip_html(text: str) -> str:
    """The readable part of an HTML error page: its visible text (its title when the body
    shows none), on one line; ``text`` itself, whitespace collapsed, when it is not HTML."""
    if not _HTML.search(text):
        return " ".join(text.split())
    body = " ".join(html.unescape(_TAG.sub(" ", _DROP.sub(" ", text))).split())
    if body:
        return body
    title = _TITLE.search(text)
    return " ".join(html.unescape(_TAG.sub(" ", title.group(1))).split()) if title else ""


def first_line(text: str) -> str:
    """The first line that says something (the rest of a stack or a body stays in the pack)."""
    for line in text.splitlines():
        if line.strip():
            return line.strip()
    return ""


def cut(text: str, limit: int = SUMMARY_CHARS) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def summarise_message(message: str, details: Mapping[str, Any] | None = None,
                      limit: int = SUMMARY_CHARS) -> str:
    """``HTTP 503 ServiceUnavailable: <one line>`` from a message and its details."""
    details = details or {}
    text = strip_html(message) if _HTML.search(message) else first_line(message)
    status = details.get("status")
    code = details.get("code")
    lead = []
    if isinstance(status, int) and not isinstance(status, bool) and f"HTTP {status}" not in text:
        lead.append(f"HTTP {status}")
    if isinstance(code, str | int) and not isinstance(code, bool) and str(code) \
            and str(code) not in text:
        lead.append(str(code))
    prefix = " ".join(lead)
    return cut(f"{prefix}: {text}" if prefix and text else prefix or text or "(no message)",
               limit)


def error_summary(error: CollectionError, limit: int = SUMMARY_CHARS) -> str:
    """The one-line summary of a collection error (its message and details stay whole in the
    evidence)."""
    return summarise_message(error.message, error.details, limit)
