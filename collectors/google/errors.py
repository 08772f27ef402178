"""Any failure of a Google call as a ``CollectionError`` an operator can act on.

The message names the operation, the HTTP status with what it usually means, Google's reason
(an ``ErrorInfo`` reason or the legacy ``errors[0].reason``) and message, without the query
string (page tokens and filters live there). ``retryable`` tells the next run it can expect
better: throttling, server errors, connection failures and retries cut short are; a missing
permission, a refused credential or a bad request are not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc

from clausewatch.collectors.google.credentials import CredentialError
from clausewatch.collectors.google.retry import GaveUp, error_reason, http_status, retryable
from clausewatch.core.evidence import CollectionError

Redact = Callable[[Any], Any]
_HINTS = {
    400: "request refused (bad request)",
    401: "authentication refused (check the credential)",
    403: "access denied (a role or OAuth scope is missing, or the API is not enabled)",
    404: "not found",
    429: "throttled",
}
_URL = re.compile(r"(https?://[^\s?]+)\?\S*")


def _failures() -> tuple[type[BaseException], ...]:
    found: list[type[BaseException]] = [gexc.GoogleAPIError, auth_exc.GoogleAuthError, GaveUp,
                                         CredentialError, ConnectionError, TimeoutError]
    try:
        from googleapiclient.errors import Error as DiscoveryError
        found.append(DiscoveryError)
    except ImportError:  # pragma: no cover - a dependency of this package
        pass
    try:
        import requests
        found.append(requests.exceptions.RequestException)
    except ImportError:  # pragma: no cover - a dependency of google-api-core
        pass
    try:
        import httplib2
        found.append(httplib2.HttpLib2Error)
    except ImportError:  # pragma: no cover - a dependency of google-api-python-client
        pass
    return tuple(found)


#: What a Google call raises when the API, the network or the credential fails (not a bug).
GOOGLE_FAILURES: tuple[type[BaseException], ...] = _failures()


#: What building a source's clients can raise besides: a credential that cannot be had.
SETUP_FAILURES: tuple[type[BaseException], ...] = (CredentialError, *GOOGLE_FAILURES)


def not_found(exc: BaseException) -> bool:
    return http_status(exc) == 404


def describe(exc: BaseException) -> str:
    """One line: what failed, without query strings."""
    if isinstance(exc, GaveUp):
        return f"{exc.detail}; last: {describe(exc.last)}"
    if isinstance(exc, gexc.RetryError):
        cause = exc.cause
        if cause is None:
            return f"retries ran out of time ({_strip(_first(str(exc.message)))})"
        return f"retries ran out of time; last: {describe(cause)}"
    status = http_status(exc)
    if status is not None:
        hint = _HINTS.get(status) or ("server error" if status >= 500 else "request refused")
        reason = error_reason(exc)
        text = f"HTTP {status} {hint}"
        if reason:
            text += f" [{reason}]"
        message = _message(exc)
        return f"{text}: {message}" if message else text
    if isinstance(exc, auth_exc.RefreshError):
        return f"the credential was refused when fetching a token: {_first(str(exc))}"
    if isinstance(exc, auth_exc.DefaultCredentialsError):
        return f"no Application Default Credentials: {_first(str(exc))}"
    return f"{type(exc).__name__}: {_strip(_first(str(exc)))}"


def collection_error(exc: BaseException, *, source: str, origin: str, kinds: Sequence[str],
                     operation: str, redact: Redact, **covered: Any) -> CollectionError:
    """The record of ``exc`` for ``operation`` at ``origin``, masked by the run's redactor;
    ``covered`` narrows it (``asset_kinds``, ``subject``, ``tags``, ``facts``)."""
    text = redact(f"{operation}: {describe(exc)}")
    last = exc.last if isinstance(exc, GaveUp) else exc
    if isinstance(last, gexc.RetryError) and last.cause is not None:
        last = last.cause
    details: dict[str, Any] = {"error": type(exc).__name__}
    if (status := http_status(last)) is not None:
        details["status"] = status
    if (reason := error_reason(last)) is not None:
        details["reason"] = reason
    if isinstance(exc, GaveUp):
        details["attempts"] = exc.attempts
    return CollectionError(
        source=source,
        origin=origin,
        kinds=tuple(str(k) for k in kinds),
        message=text if isinstance(text, str) else f"{operation}: {type(exc).__name__}",
        operation=operation,
        retryable=isinstance(exc, GaveUp | gexc.RetryError) or retryable(last),
        details=details,
        **covered,
    )


def _message(exc: BaseException) -> str:
    if isinstance(exc, gexc.GoogleAPICallError):
        text = str(exc.message or "")
        # "GET http://host/v3/projects?pageToken=...: The caller does not have permission"
        if ": " in text and text.split(" ", 1)[0] in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            text = text.split(": ", 1)[1]
        return _strip(_first(text))
    content = getattr(exc, "content", None)
    if isinstance(content, bytes | str):
        try:
            body = json.loads(content)
            message = body.get("error", {}).get("message") if isinstance(body, dict) else None
            if isinstance(message, str):
                return _strip(_first(message))
        except ValueError:
            pass
    reason = getattr(exc, "reason", None)
    return _strip(_first(str(reason))) if reason else ""


def _strip(text: str) -> str:
    return _URL.sub(r"\1", text)


def _first(text: str) -> str:
    return (text.strip().splitlines() or [""])[0][:300]
