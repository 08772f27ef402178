"""Can a host be reached at all? For the start-up checks of the sources (configuration, exit 7).

A DNS name that does not resolve, a refused connection or a connection that times out on the
first request of a run is a configuration problem (a typo in a host, a firewall, a proxy not
set), not missing evidence. :func:`unreachable` reads that from any library's exception chain
(httpx, requests/urllib3, azure-core, botocore, the socket itself); :func:`probe` sends one
``HEAD`` (any HTTP answer, even 404, means the host is there).
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

import httpx

_DNS = ("Name or service not known", "Failed to resolve", "nodename nor servname",
        "Temporary failure in name resolution", "getaddrinfo failed", "No address associated")
_REFUSED = ("Connection refused", "[Errno 111]", "actively refused")
_CONNECT_TIMEOUT = ("ConnectTimeout", "Connect timeout", "connect timeout", "timed out")


def unreachable(exc: BaseException) -> str | None:
    """``name not resolved``, ``connection refused`` or ``connection timed out`` when ``exc``
    (or what caused it) says the host could not be reached; else None."""
    seen: set[int] = set()
    current: BaseException | None = exc
    texts: list[str] = []
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, socket.gaierror):
            return "name not resolved"
        if isinstance(current, ConnectionRefusedError):
            return "connection refused"
        if isinstance(current, httpx.ConnectTimeout):
            return "connection timed out"
        texts.append(f"{type(current).__name__}: {current}")
        current = current.__cause__ or current.__context__
    text = " ".join(texts)
    if any(marker in text for marker in _DNS):
        return "name not resolved"
    if any(marker in text for marker in _REFUSED):
        return "connection refused"
    connect_phase = any(name in text for name in ("ConnectError", "ConnectTimeout",
                                                  "NewConnectionError", "ConnectTimeoutError",
                                                  "EndpointConnectionError"))
    if connect_phase and any(marker in text for marker in _CONNECT_TIMEOUT):
        return "connection timed out"
    return None


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc or url


def probe(url: str, *, verify: bool | str = True, timeout: float = 30.0) -> str | None:
    """None when ``url``'s host answers (any status); else why not, in words."""
    try:
        with httpx.Client(verify=verify, timeout=timeout, follow_redirects=False) as client:
            client.head(url)
    except httpx.TransportError as exc:
        reason = unreachable(exc)
        if reason is None and isinstance(exc, httpx.ConnectError):
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return reason
    return None
