"""A transport failure in words: which host, which operation, which limit.

httpx's timeouts often carry no message (``ReadTimeout: `` after 100 s says nothing): this
names the phase, the limit the request had (httpx keeps it in ``request.extensions["timeout"]``,
https://www.python-httpx.org/advanced/timeouts/) and the request line without its query string:
``ReadTimeout after 100 s reading graph.microsoft.com GET /v1.0/users``.
"""

from __future__ import annotations

from collections.abc import Mapping

import httpx

_PHASES: Mapping[type[httpx.TimeoutException], tuple[str, str]] = {
    httpx.ConnectTimeout: ("connect", "connecting to"),
    httpx.ReadTimeout: ("read", "reading"),
    httpx.WriteTimeout: ("write", "writing to"),
    httpx.PoolTimeout: ("pool", "waiting for a connection to"),
}


def describe_transport(exc: httpx.TransportError) -> str:
    """One line for ``exc``; the message of any other httpx error when it has one."""
    try:
        request: httpx.Request | None = exc.request
    except RuntimeError:  # raised without its request
        request = None
    where = f"{request.url.host}{_port(request)} {request.method} {request.url.path}" \
        if request is not None else "the server"
    if isinstance(exc, httpx.TimeoutException):
        phase, verb = _PHASES.get(type(exc), ("read", "reading"))
        limits = request.extensions.get("timeout", {}) if request is not None else {}
        limit = limits.get(phase) if isinstance(limits, Mapping) else None
        after = f" after {limit:g} s" if isinstance(limit, int | float) else ""
        return f"{type(exc).__name__}{after} {verb} {where}"
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else "no detail"
    return f"{type(exc).__name__} on {where}: {detail}"


def _port(request: httpx.Request) -> str:
    return f":{request.url.port}" if request.url.port else ""
