"""Turn an AWS failure into a ``CollectionError``: named source, origin, kinds and operation.

Every way a botocore call can fail is caught: ``ClientError`` (AWS answered with an error),
every ``BotoCoreError`` (``EndpointConnectionError``, ``ConnectTimeoutError``,
``ReadTimeoutError``, ``NoCredentialsError``, ``ParamValidationError``, ``PaginationError``,
...), and ``botocore.parsers.ResponseParserError``, which is *not* a ``BotoCoreError``: botocore
raises it when a body cannot be parsed, e.g. an HTML page from a proxy or load balancer with a
502 (https://github.com/boto/botocore/pull/478, https://github.com/boto/boto3/issues/1961).
A well-formed answer that lacks what the API always returns is ``MalformedResponse``.

``ClientError`` names its operation; for the others ``PageReader`` records the API name on the
exception (``note_operation``) so the error still says which call failed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError, HTTPClientError
from botocore.parsers import ResponseParserError

from clausewatch.core.evidence import CollectionError


class MalformedResponse(Exception):
    """An AWS answer without a member its API always returns (a list that is not there)."""

    def __init__(self, operation: str, member: str) -> None:
        super().__init__(f"{operation} answered without {member}: a malformed response, not an "
                         "empty list")
        self.operation = operation


#: What AWS answers when it cannot be read (as opposed to a bug in this code).
AWS_FAILURES = (ClientError, BotoCoreError, ResponseParserError, MalformedResponse)
THROTTLING = frozenset(
    {"Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded",
     "LimitExceeded", "SlowDown"}
)
_OPERATION = "clausewatch_operation"


def note_operation(exc: BaseException, operation: str) -> None:
    """Remember on ``exc`` the API operation it interrupted (first one wins)."""
    if not getattr(exc, _OPERATION, None):
        try:
            setattr(exc, _OPERATION, operation)
        except AttributeError:  # an exception type with slots: the caller's operation stays
            pass


def operation_of(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.operation_name or "")
    if isinstance(exc, MalformedResponse):
        return exc.operation
    return str(getattr(exc, _OPERATION, "") or "")


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", ""))
    return type(exc).__name__


def collection_error(
    exc: BaseException, *, source: str, origin: str, kinds: Sequence[str], operation: str = "",
    **covered: Any,
) -> CollectionError:
    """The record of a failed call; throttling (after botocore's retries), network failures
    and unparsable answers are marked retryable. ``covered`` takes ``CollectionError``'s
    narrowing fields (``asset_kinds``, ``resource_types``, ``subject``, ``tags``, ``facts``)."""
    if isinstance(exc, ClientError):
        err: Mapping[str, Any] = exc.response.get("Error", {})
        code = str(err.get("Code", "Unknown"))
        message = f"{code}: {err.get('Message', '') or str(exc)}"
        retryable = code in THROTTLING or code.isdigit() and int(code) >= 500
    else:
        code = type(exc).__name__
        message = f"{code}: {exc}"
        retryable = isinstance(exc, ConnectionError | HTTPClientError | ResponseParserError)
    operation = operation or operation_of(exc) or "unknown operation"
    return CollectionError(
        source=source,
        origin=origin,
        kinds=tuple(str(k) for k in kinds),
        message=message,
        operation=operation,
        occurred_at=datetime.now(UTC),
        retryable=retryable,
        details={"code": code},
        **covered,
    )
