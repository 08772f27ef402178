"""The typed failures of the REST kit: what went wrong, with enough to say it in one line.

Each names the URL it concerns. ``collectors/rest/mapper.py`` turns these (and httpx's own
exceptions) into ``CollectionError`` records. Paging errors exist so that a partial list never
looks complete: a malformed page, a loop that stops short of the announced total, a repeated
cursor or a next link to another host all raise instead of ending the list early.
"""

from __future__ import annotations

from typing import Any


class RestFailure(Exception):
    """Base of the kit's own failures. ``detail`` is one line for the message."""

    retryable = False

    def __init__(self, url: str, detail: str) -> None:
        super().__init__(f"{detail} ({url})")
        self.url = url
        self.detail = detail


class PagingError(RestFailure):
    """A list could not be read whole."""


class MalformedPage(PagingError):
    """A page without its items (key missing, not a list) or envelope (totals, cursor)."""

    def __init__(self, url: str, detail: str, body: Any = None) -> None:
        super().__init__(url, detail)
        self.body = body


class BadJson(MalformedPage):
    """A response body that is not JSON (an HTML error page from a proxy, a cut-off body)."""

    def __init__(self, url: str, detail: str, text: str = "", content_type: str = "") -> None:
        super().__init__(url, detail, text)
        self.content_type = content_type


class ShortPaging(PagingError):
    """The pages ended before the total the server announced (or the total changed)."""

    retryable = True  # the data moved while it was paged: a later run may read it whole

    def __init__(self, url: str, detail: str, *, announced: int, received: int) -> None:
        super().__init__(url, detail)
        self.announced = announced
        self.received = received


class RepeatedCursor(PagingError):
    """A next link, page token or page came back a second time: the loop would not end."""


class ForeignLink(PagingError):
    """A next link pointing at another scheme, host or port than the first request."""


class TooManyPages(PagingError):
    """More pages than the pager's bound: a runaway loop, or a list far larger than planned."""


class PartialPage(PagingError):
    """A page the server itself marks as partial (Wazuh ``error: 2``, Google ``unreachable``).

    Raised by a source module's ``page_check``; ``retryable`` as that module judges.
    """

    def __init__(self, url: str, detail: str, *, retryable: bool = False) -> None:
        super().__init__(url, detail)
        self.retryable = retryable


class TokenError(RestFailure):
    """The token endpoint refused or failed (``status`` None: no usable token in a 2xx)."""

    def __init__(self, url: str, detail: str, *, status: int | None = None,
                 body: Any = None) -> None:
        super().__init__(url, detail)
        self.status = status
        self.body = body


class InsecureUrl(RestFailure, ValueError):
    """A plain ``http://`` URL to a host other than this machine (credentials in clear)."""


class GaveUp(RestFailure):
    """The retry stopped: the attempts bound or the time budget ran out.

    ``last`` is the failure of the last attempt (an ``httpx.HTTPStatusError``, a transport
    error, a ``TokenError``); ``reason`` is ``"attempts"`` or ``"time budget"``.
    """

    retryable = True

    def __init__(self, url: str, last: BaseException, *, attempts: int, elapsed: float,
                 reason: str, limit: float) -> None:
        bound = (f"{int(limit)} attempt{'s' if int(limit) != 1 else ''}"
                 if reason == "attempts" else f"{limit:g} s budget")
        super().__init__(url, f"gave up after {attempts} attempt(s) in {elapsed:.1f} s "
                              f"({bound} reached)")
        self.last = last
        self.attempts = attempts
        self.elapsed = elapsed
        self.reason = reason
        self.limit = limit
