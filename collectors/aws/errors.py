"""Turn an AWS failure into a ``CollectionError``: named source, origin, kinds and operation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError

from clausewatch.core.evidence import CollectionError

#: What AWS answers when it cannot be read (as opposed to a bug in this code).
AWS_FAILURES = (ClientError, BotoCoreError)
THROTTLING = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
     "LimitExceeded", "SlowDown"}
)


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def collection_error(
    exc: BaseException, *, source: str, origin: str, kinds: Sequence[str], operation: str = ""
) -> CollectionError:
    """The record of a failed call; throttling (after botocore's retries) and network failures
    are marked retryable."""
    if isinstance(exc, ClientError):
        err = exc.response.get("Error", {})
        code = str(err.get("Code", "Unknown"))
        message = f"{code}: {err.get('Message', '') or str(exc)}"
        operation = operation or exc.operation_name
        retryable = code in THROTTLING
    else:
        code = type(exc).__name__
        message = f"{code}: {exc}"
        retryable = isinstance(exc, ConnectionError)
    return CollectionError(
        source=source,
        origin=origin,
        kinds=tuple(str(k) for k in kinds),
        message=message,
        operation=operation,
        occurred_at=datetime.now(UTC),
        retryable=retryable,
        details={"code": code},
    )
