"""Call Graph through the SDK's request builders: one page reader, one pager, one error map.

Every page's raw JSON (captured by the SDK's body-inspection middleware, exactly as Graph sent
it) is saved through the run's ``RawRecorder``; the returned ``raw_ref`` goes on the evidence
derived from it. HTTP failures become ``GraphFailure`` (401/403/404/429/5xx, each with a sentence
an operator can act on, naming the Graph permission the call needs), which collectors turn into
``CollectionError`` records. So does every other way a call can fail: any httpx error (network,
timeouts, a malformed next link), a body the SDK cannot parse, and a collection page without a
``value`` array (never read as an empty list).

Every request, ``@odata.nextLink`` pages included, carries ``Prefer:
include-unknown-enum-members`` in its request configuration headers (the SDK's way to add a
header, https://learn.microsoft.com/graph/sdks/create-requests): without it Graph replaces
enum members added after the ``unknownFutureValue`` sentinel (protection unit ``offboarded``,
restore session ``failed``) by ``unknownFutureValue``
(https://github.com/microsoft/api-guidelines/blob/vNext/graph/patterns/evolvable-enums.md).
A value still unknown to this client is read as unknown, never as a known state.

The large listings (users, the registration report, managed devices, role definitions and
assignments) and security defaults skip the SDK's models: ``listing.rows`` and ``listing.one``
send them with ``send_bytes`` (the same adapter, middleware and error map) and decode each page
with msgspec.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
from kiota_abstractions.api_error import APIError
from kiota_abstractions.base_request_configuration import RequestConfiguration
from kiota_abstractions.request_adapter import RequestAdapter
from kiota_abstractions.request_information import RequestInformation
from kiota_abstractions.request_option import RequestOption
from kiota_http.middleware.options import BodyInspectionHandlerOption
from msgraph.generated.models.o_data_errors.o_data_error import ODataError

from clausewatch.collectors.raw import RawRecorder
from clausewatch.collectors.transport_errors import describe_transport
from clausewatch.core.evidence import CollectionError, Evidence, RunWarning

PREFER = "Prefer"
INCLUDE_UNKNOWN_ENUMS = "include-unknown-enum-members"
#: Graph's sentinel for an enum member the caller did not opt into (or this SDK does not know).
UNKNOWN = "unknownFutureValue"
#: Graph's error body (https://learn.microsoft.com/graph/errors), for every status
ERROR_MAP: dict[str, Any] = {"XXX": ODataError}

#: operation -> least-privileged application permission (see docs/m365-permissions.md)
PERMISSIONS: Mapping[str, str] = {
    "users": "User.Read.All",
    "mailbox-settings": "MailboxSettings.Read",
    "registration-details": "AuditLog.Read.All",
    "authentication-methods": "UserAuthenticationMethod.Read.All",
    "security-defaults": "Policy.Read.All",
    "conditional-access": "Policy.Read.All",
    "group-members": "GroupMember.Read.All",
    "role-assignments": "RoleManagement.Read.Directory",
    "role-definitions": "RoleManagement.Read.Directory",
    "managed-devices": "DeviceManagementManagedDevices.Read.All",
    "update-catalog": "WindowsUpdates.ReadWrite.All",
    "backup-service": "BackupRestore-Control.Read.All",
    "protection-policies": "BackupRestore-Configuration.Read.All",
    "protection-units": "BackupRestore-Configuration.Read.All",
    "restore-points": "BackupRestore-Search.Read.All",
    "restore-sessions": "BackupRestore-Restore.Read.All",
}


@dataclass
class GraphFailure(Exception):
    """A Graph call that failed for good (after the SDK's retries)."""

    operation: str
    message: str
    status: int | None = None
    code: str | None = None
    retryable: bool = False
    details: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.message

    def to_error(self, source: str, origin: str, kinds: tuple[str, ...],
                 prefix: str = "", **covered: Any) -> CollectionError:
        """The ``CollectionError``; ``covered`` narrows it (``asset_kinds``, ``subject``,
        ``tags``, ``facts``: see ``CollectionError``)."""
        details = {"status": self.status, "code": self.code, **self.details}
        return CollectionError(
            source=source,
            origin=origin,
            kinds=kinds,
            message=f"{prefix}{self.message}",
            operation=self.operation,
            retryable=self.retryable,
            details={k: v for k, v in details.items() if v is not None},
            **covered,
        )


@dataclass(frozen=True, slots=True)
class Page:
    """One response: the SDK's parsed model, the raw JSON and its ``raw_ref``."""

    model: Any
    raw: Any
    raw_ref: str


class GraphReader:
    """Reads Graph for one collector (one source at one origin) and records the raw pages."""

    def __init__(self, source: str, origin: str, raw: RawRecorder) -> None:
        self.source = source
        self.origin = origin
        self.raw = raw

    async def get(self, builder: Any, operation: str, query: Any = None) -> Page:
        """``builder.get()`` with optional query parameters (the builder's own dataclass)."""
        return await self._call(builder.get, operation, query)

    async def post(self, builder: Any, operation: str, body: Any) -> Page:
        return await self._call(lambda request_configuration: builder.post(
            body, request_configuration=request_configuration), operation, None)

    async def pages(self, builder: Any, operation: str, query: Any = None
                    ) -> AsyncIterator[Page]:
        """Every page of a collection, following ``@odata.nextLink`` with ``with_url``."""
        page = await self.get(builder, operation, query)
        yield page
        while getattr(page.model, "odata_next_link", None):
            page = await self.get(builder.with_url(page.model.odata_next_link), operation)
            yield page

    async def items(self, builder: Any, operation: str, query: Any = None
                    ) -> AsyncIterator[tuple[Any, str]]:
        """Every item of a collection with the ``raw_ref`` of the page it came on; a page whose
        body has no ``value`` array is a ``GraphFailure``, not an empty page."""
        async for page in self.pages(builder, operation, query):
            for item in values(page, operation):
                yield item, page.raw_ref

    async def _call(self, method: Any, operation: str, query: Any) -> Page:
        inspect = BodyInspectionHandlerOption(inspect_response_body=True)
        config = configuration(query, inspect)
        with mapped_errors(operation, operation, inspect):
            model = await method(request_configuration=config)
        raw = parse_json(inspect.response_body)
        return Page(model, raw, self.keep(operation, raw))

    def keep(self, operation: str, raw: Any) -> str:
        """Save a page's JSON as a raw page; a body that is not JSON is a ``GraphFailure``
        (naming the raw page it was kept as)."""
        ref = self.raw.save(self.source, self.origin, operation, raw)
        if isinstance(raw, dict) and "unparsed" in raw and len(raw) == 1:
            raise GraphFailure(operation, f"{operation}: the answer is not JSON (raw page {ref})",
                               retryable=True, details={"raw_ref": ref})
        return ref


def configuration(query: Any = None, *options: RequestOption) -> RequestConfiguration[Any]:
    """A request configuration with ``query``, ``options`` and ``Prefer:
    include-unknown-enum-members``."""
    config: RequestConfiguration[Any] = RequestConfiguration(query_parameters=query,
                                                             options=list(options))
    config.headers.add(PREFER, INCLUDE_UNKNOWN_ENUMS)
    return config


@contextmanager
def mapped_errors(operation: str, what: str, inspect: BodyInspectionHandlerOption
                  ) -> Iterator[None]:
    """Every way a Graph call can fail, as a ``GraphFailure`` (``what`` names the call)."""
    try:
        yield
    except APIError as exc:
        raise failure(operation, exc, parse_json(inspect.response_body)) from exc
    except httpx.TransportError as exc:  # names host, operation and the limit
        raise GraphFailure(operation, f"{what}: cannot reach Graph: "
                           f"{describe_transport(exc)}", retryable=True) from exc
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        raise GraphFailure(operation, f"{what}: cannot reach Graph: "
                           f"{type(exc).__name__}: {exc}", retryable=True) from exc
    except (ValueError, TypeError, KeyError, AttributeError) as exc:  # body not parsable
        raise GraphFailure(operation, f"{what}: unreadable answer: "
                           f"{type(exc).__name__}: {exc}", retryable=True,
                           details={"body": parse_json(inspect.response_body)}) from exc


async def send_bytes(adapter: RequestAdapter, info: RequestInformation, operation: str,
                     what: str | None = None) -> bytes | None:
    """Send ``info`` through the adapter (its auth, middleware, retries and gate) and return
    the body as bytes (``send_primitive_async(info, "bytes", ...)``: kiota's way to get a body
    unparsed); an error answer raises ``GraphFailure`` like any SDK call."""
    inspect = BodyInspectionHandlerOption(inspect_response_body=True)
    info.add_request_options([inspect])
    with mapped_errors(operation, what or operation, inspect):
        body: Any = await cast(Any, adapter).send_primitive_async(info, "bytes", ERROR_MAP)
    return body if isinstance(body, bytes) else None


def root_of(adapter: RequestAdapter) -> str:
    """The adapter's version root (``https://graph.microsoft.com/v1.0``), no trailing slash."""
    return str(adapter.base_url).rstrip("/")


def under_root(root: str, url: str) -> str:
    """``url`` relative to ``root`` (``/users?$skiptoken=...``); ``ValueError`` for a URL
    elsewhere: no request, and no token, leaves for a host the run was not given."""
    if not url.startswith(root + "/"):
        raise ValueError(f"{url} is not under {root}")
    return url[len(root):]


def values(page: Page, operation: str) -> list[Any]:
    """The items of a collection page; a body without a ``value`` array is a ``GraphFailure``,
    not an empty page."""
    found = getattr(page.model, "value", None)  # None: the body had no "value"
    if not isinstance(found, list):
        raise malformed(operation, "no 'value' array", page.raw_ref)
    return found


def malformed(operation: str, what: str, ref: str) -> GraphFailure:
    """A page that cannot be read as what it should be, naming the raw page it was kept as."""
    return GraphFailure(operation, f"{operation}: malformed page ({what}; raw page {ref})",
                        details={"raw_ref": ref})


def parse_json(body: bytes | None) -> Any:
    """A body as JSON (None when empty); a body that is not JSON is kept as
    ``{"unparsed": <its first 2,000 characters>}``, never dropped."""
    if not body:
        return None
    try:
        return json.loads(body)
    except ValueError:
        return {"unparsed": body[:2000].decode("utf-8", "replace")}


def error_code(exc: APIError, body: Any) -> tuple[str | None, str]:
    """Graph's ``error.code`` and ``error.message`` from the SDK error or the raw body."""
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None)
    message = getattr(err, "message", None)
    if (code is None or message is None) and isinstance(body, dict):
        raw = body.get("error") or {}
        if isinstance(raw, dict):
            code = code or raw.get("code")
            message = message or raw.get("message")
    return code, message or exc.message or type(exc).__name__


def failure(operation: str, exc: APIError, body: Any = None) -> GraphFailure:
    """Map an SDK ``APIError`` to a ``GraphFailure`` with an actionable message."""
    code, detail = error_code(exc, body)
    return status_failure(operation, exc.response_status_code, code, detail)


def status_failure(operation: str, status: int | None, code: str | None,
                   detail: str) -> GraphFailure:
    """A failed answer (a request's, or one item's of a ``$batch``) as a ``GraphFailure``."""
    permission = PERMISSIONS.get(operation)
    what = f"{operation}: HTTP {status}" + (f" {code}" if code else "")
    if status == 401:
        hint = "authentication failed: check the tenant id, client id and credential"
    elif status == 403:
        hint = "access denied" + (
            f": the app needs the {permission} application permission (admin-consented)"
            if permission else "")
    elif status == 404:
        hint = "not found (is the service available in this tenant?)"
    elif status == 429:
        hint = "still throttled after the bounded retries; try again later"
    elif status is not None and status >= 500:
        hint = "Graph server error"
    else:
        hint = "request failed"
    retryable = status is not None and (status == 429 or status >= 500)
    return GraphFailure(operation, f"{what}: {hint} ({detail})", status=status, code=code,
                        retryable=retryable)


Item = Evidence | CollectionError | RunWarning


def run_tenant(
    source: str,
    origin: str,
    kinds: tuple[str, ...],
    raw: RawRecorder,
    prefix: str,
    job: Callable[[GraphReader], Coroutine[Any, Any, Sequence[Item]]],
    **covered: Any,
) -> Iterator[Item]:
    """Run one tenant's async collection; a Graph failure that stops it becomes one error
    (narrowed by ``covered``: the tags and facts of everything the collector reports)."""
    reader = GraphReader(source, origin, raw)
    try:
        records = asyncio.run(job(reader))
    except GraphFailure as exc:
        yield exc.to_error(source, origin, kinds, prefix=prefix, **covered)
        return
    yield from records
