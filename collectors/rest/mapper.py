"""Turn a REST failure into a ``CollectionError`` an operator can act on, secrets masked.

The message is one line naming the operation, the method and host (never the query string,
where tokens and cursors live), what failed and the limit that was hit; an HTTP error's body is
summarised (its error code and message, or its first line, at most 200 characters) and kept
whole in ``details["body"]`` (redacted, at most 64 KiB). ``retryable`` says whether the next
run can expect better: throttling, server errors, timeouts and lists that moved while paged
are; a refused credential, a missing permission, a malformed page or a TLS failure are not.

Catch :data:`REST_FAILURES` around a collector's calls and yield ``collection_error(...)``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import httpx

from clausewatch.collectors.rest.errors import (
    BadJson,
    GaveUp,
    MalformedPage,
    RestFailure,
    TokenError,
)
from clausewatch.collectors.rest.retry import tls_refused
from clausewatch.core.evidence import CollectionError

#: What a REST call raises when the API, the network or the data fails (not a bug here).
REST_FAILURES: tuple[type[Exception], ...] = (httpx.HTTPError, httpx.InvalidURL, RestFailure)
Redact = Callable[[Any], Any]
SUMMARY_CHARS = 200
BODY_BYTES = 65_536
_HINTS = {
    401: "authentication refused (check the credential; a fresh token was refused too)",
    403: "access denied (the account lacks a permission for this call)",
    404: "not found (wrong URL or API version, or the resource is gone)",
    408: "the server timed out waiting for the request",
    429: "throttled",
}


def collection_error(exc: BaseException, *, source: str, origin: str, kinds: Sequence[str],
                     operation: str, redact: Redact, **covered: Any) -> CollectionError:
    """The record of ``exc`` for ``operation`` at ``origin``; ``redact`` is the run's redactor
    (``BuildContext.raw.redact`` or the ``Redactor`` itself); ``covered`` narrows it
    (``asset_kinds``, ``subject``, ``tags``, ``facts``: see ``CollectionError``)."""
    retry_note = ""
    if isinstance(exc, GaveUp):
        retry_note = f"; {exc.detail}"
        attempts: dict[str, Any] = {"attempts": exc.attempts,
                                    "elapsed_seconds": round(exc.elapsed, 3),
                                    "stopped_by": exc.reason}
        exc = exc.last
    else:
        attempts = {}
    what, retryable, details = _describe(exc, redact)
    message = redact(f"{operation}: {what}{retry_note}")
    return CollectionError(
        source=source,
        origin=origin,
        kinds=tuple(str(k) for k in kinds),
        message=message if isinstance(message, str) else f"{operation}: {what}",
        operation=operation,
        retryable=retryable,
        details={"error": type(exc).__name__, **attempts, **details},
        **covered,
    )


def _describe(exc: BaseException, redact: Redact) -> tuple[str, bool, dict[str, Any]]:
    """(the failure in words, retryable, details) of one failure."""
    if isinstance(exc, httpx.HTTPStatusError):
        response = exc.response
        status = response.status_code
        summary = summarise(response.content, redact)
        hint = _HINTS.get(status) or ("server error" if status >= 500 else
                                      "redirected elsewhere (not followed)"
                                      if 300 <= status < 400 else "request refused")
        text = f"{_request_line(exc.request)}: HTTP {status} {hint}"
        if summary:
            text += f": {summary}"
        details: dict[str, Any] = {"status": status, "url": redact(str(exc.request.url)),
                                   "body": body_details(response.content, redact)}
        return text, status in (408, 429) or status >= 500, details
    if isinstance(exc, httpx.TimeoutException):
        request = _request(exc)
        phase = _TIMEOUT_PHASES.get(type(exc), "timeout")
        limit = _limit(request, phase)
        where = _request_line(request) if request else "request"
        text = f"{where}: {phase} timeout" + (f" after {limit:g} s" if limit else "")
        return text, True, {"timeout": phase, "limit_seconds": limit}
    if isinstance(exc, httpx.ConnectError):
        request = _request(exc)
        host = _host(request) if request else "the server"
        if tls_refused(exc):
            return (f"TLS certificate of {host} failed verification (set tls.ca_bundle to the "
                    f"CA that signed it): {_first_line(str(exc))}", False, {})
        return f"cannot connect to {host}: {_first_line(str(exc)) or 'refused'}", True, {}
    if isinstance(exc, httpx.TransportError):
        request = _request(exc)
        where = _request_line(request) if request else "request"
        return f"{where}: {type(exc).__name__}: {_first_line(str(exc))}", True, {}
    if isinstance(exc, TokenError):
        summary = summarise(json.dumps(exc.body).encode() if exc.body is not None else b"",
                            redact)
        text = f"{exc.detail} at {_host_of(exc.url)}" + (f": {summary}" if summary else "")
        retryable = exc.status is not None and (exc.status == 429 or exc.status >= 500)
        return text, retryable, {"status": exc.status, "url": redact(exc.url)}
    if isinstance(exc, BadJson):
        return (f"{_host_of(exc.url)}: {exc.detail}", False,
                {"url": redact(exc.url), "body": redact(str(exc.body)[:BODY_BYTES])})
    if isinstance(exc, MalformedPage):
        return (f"malformed page from {_host_of(exc.url)}: {exc.detail}", False,
                {"url": redact(exc.url), "body": redact(exc.body)})
    if isinstance(exc, RestFailure):
        return (f"{_host_of(exc.url)}: {exc.detail}", exc.retryable,
                {"url": redact(exc.url)})
    if isinstance(exc, httpx.InvalidURL):  # e.g. a next link the server sent, malformed
        return f"invalid URL: {_first_line(str(exc))}", False, {}
    return f"{type(exc).__name__}: {_first_line(str(exc))}", False, {}


_TIMEOUT_PHASES: Mapping[type[BaseException], str] = {
    httpx.ConnectTimeout: "connect", httpx.ReadTimeout: "read", httpx.WriteTimeout: "write",
    httpx.PoolTimeout: "pool",
}


def summarise(body: bytes, redact: Redact) -> str:
    """One line saying what an error body says: its code and message when it is one of the
    usual JSON error shapes (OData/Google ``error``, Veeam ``errorCode``/``message``, Wazuh
    and RFC 9457 ``title``/``detail``, OAuth ``error_description``), else its first line."""
    if not body:
        return ""
    try:
        doc = json.loads(body)
    except ValueError:
        doc = None
    parts: list[str] = []
    if isinstance(doc, Mapping):
        err = doc.get("error")
        inner = err if isinstance(err, Mapping) else doc
        for key in ("code", "errorCode", "status", "title", "message", "detail",
                    "error_description"):
            value = inner.get(key)
            if isinstance(value, str | int) and not isinstance(value, bool) and value != "":
                parts.append(str(value))
        if isinstance(err, str | int) and not isinstance(err, bool):
            parts.insert(0, str(err))
    text = " ".join(dict.fromkeys(parts)) or _first_line(body.decode("utf-8", "replace"))
    text = str(redact(" ".join(text.split())))
    return text if len(text) <= SUMMARY_CHARS else text[:SUMMARY_CHARS - 1] + "…"


def body_details(body: bytes, redact: Redact) -> Any:
    """The body for ``details``: parsed JSON (redacted), else text (redacted), capped."""
    if len(body) <= BODY_BYTES:
        try:
            return redact(json.loads(body))
        except ValueError:
            pass
    return redact(body[:BODY_BYTES].decode("utf-8", "replace"))


def _request(exc: httpx.HTTPError) -> httpx.Request | None:
    try:
        return exc.request
    except RuntimeError:  # raised without a request attached
        return None


def _request_line(request: httpx.Request | None) -> str:
    if request is None:
        return "request"
    return f"{request.method} {_host(request)}{request.url.path}"


def _host(request: httpx.Request | None) -> str:
    return _host_of(str(request.url)) if request is not None else "the server"


def _host_of(url: str) -> str:
    parsed = httpx.URL(url) if url else None
    if parsed is None or not parsed.host:
        return "the server"
    return f"{parsed.host}:{parsed.port}" if parsed.port else parsed.host


def _limit(request: httpx.Request | None, phase: str) -> float | None:
    timeouts = request.extensions.get("timeout", {}) if request is not None else {}
    value = timeouts.get(phase) if isinstance(timeouts, Mapping) else None
    return float(value) if isinstance(value, int | float) else None


def _first_line(text: str) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:4 * SUMMARY_CHARS]
    return ""
