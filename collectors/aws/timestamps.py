"""AWS timestamps decoded in C, always in UTC: botocore's ``timestamp_parser`` hook.

botocore decodes every timestamp member of every answer with ``botocore.utils.parse_timestamp``:
epoch numbers (JSON protocols) through dateutil's ``tzlocal`` and ISO 8601 text (query and EC2
XML) through ``dateutil.parser``, 15-55 µs each, a third of the CPU of parsing a page of
managed nodes or patches. botocore lets the caller choose that function: the session component
``response_parser_factory`` and its ``set_parser_defaults(timestamp_parser=...)``
("A callable that can parse a timestamp string", ``botocore/parsers.py``; the AWS CLI's
``awscli/customizations/scalarparse.py`` sets it for ``cli_timestamp_format``, and botocore's
own functional test ``TestCanChangeParsing`` covers it). :func:`parse_timestamp` reads epoch
numbers with ``datetime.fromtimestamp`` and the ISO 8601 forms AWS sends
(``2026-11-30T06:00:00.000Z``,
https://docs.aws.amazon.com/AWSEC2/latest/APIReference/Query-Requests.html and the Smithy
``date-time`` format) with ``datetime.fromisoformat`` (about 1 µs); anything else (RFC 822
dates, numeric text, other layouts) goes to botocore's own parser. Every result is in UTC:
the same instant botocore gives, without the machine's local zone leaking into raw pages.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import botocore.session
from botocore.parsers import ResponseParserFactory
from botocore.utils import parse_timestamp as botocore_parse_timestamp

#: The ISO 8601 layout AWS writes: seconds, an optional fraction of at most 6 digits, ``Z`` or
#: an ``±hh:mm`` offset (what ``datetime.fromisoformat`` reads exactly as dateutil does).
ISO_8601 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,6})?(?:Z|[+-]\d{2}:\d{2})")


def parse_timestamp(value: Any) -> datetime:
    """An AWS timestamp (epoch number or text) as an aware UTC datetime."""
    kind = type(value)
    if kind is float or kind is int:
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            pass
    elif kind is str and ISO_8601.fullmatch(value):
        return datetime.fromisoformat(value).astimezone(UTC)
    return botocore_parse_timestamp(value).astimezone(UTC)


def install(session: botocore.session.Session) -> None:
    """Make every client created from ``session`` from now on decode timestamps with
    :func:`parse_timestamp` (its own parser factory: other sessions are not touched)."""
    factory = ResponseParserFactory()
    factory.set_parser_defaults(timestamp_parser=parse_timestamp)
    session.register_component("response_parser_factory", factory)
