"""One collector's conversation with a REST API: a client, a retry policy, JSON or an error.

``RestSession.get_json`` sends a GET through :class:`RetryPolicy`, raises ``httpx.HTTPStatusError``
for any non-2xx answer (redirects included: the client follows none) and ``BadJson`` for a body
that is not JSON. It is what the pagers of ``collectors/rest/paging.py`` read pages with.
POSTs are not retried unless the caller says the call is safe to repeat (a search, a login).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

import httpx
import orjson

from clausewatch.collectors.rest.errors import BadJson
from clausewatch.collectors.rest.retry import RetryPolicy

Params = Mapping[str, str | int | float | bool | None]


@dataclass(slots=True)
class RestSession:
    """A client (``collectors/rest/client.make_client``) and the retry policy for its calls."""

    client: httpx.Client
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def absolute(self, url: str, params: Params | None = None) -> httpx.URL:
        """``url`` (relative to the client's base URL, or absolute) with ``params``."""
        return self.client.build_request("GET", url, params=_params(params)).url

    def get(self, url: str, params: Params | None = None) -> httpx.Response:
        """A 2xx response to ``GET url`` (retried as the policy says)."""
        return self.request("GET", url, params=params, retry=True)

    def get_json(self, url: str, params: Params | None = None) -> Any:
        """The JSON body of ``GET url``."""
        return decode(self.get(url, params))

    def get_json_received(self, url: str, params: Params | None = None) -> tuple[Any, bytes]:
        """The JSON body of ``GET url`` and the bytes it was parsed from (to save as received,
        ``RawRecorder.save``)."""
        response = self.get(url, params)
        return decode(response), response.content

    def post_json(self, url: str, body: Any = None, *, params: Params | None = None,
                  retry: bool = False) -> Any:
        """The JSON body of ``POST url`` with a JSON ``body``; retried only if ``retry``."""
        return decode(self.request("POST", url, params=params, json=body, retry=retry))

    def request(self, method: str, url: str, *, params: Params | None = None,
                json: Any = None, retry: bool = True) -> httpx.Response:
        target = str(self.absolute(url, params))

        def attempt() -> httpx.Response:
            response = self.client.request(method, url, params=_params(params), json=json)
            response.raise_for_status()
            return response

        if not retry:
            return attempt()
        return self.retry.call(attempt, url=target)

    def close(self) -> None:
        self.client.close()

    def __enter__(self) -> RestSession:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def decode(response: httpx.Response) -> Any:
    """The response's JSON; ``BadJson`` (with the start of the text) when it is not JSON.

    Parsed by orjson (a Defender export page is tens of MB), which reads RFC 8259 strictly:
    ``NaN``/``Infinity`` (Python's ``json`` extension) are refused, so such a page is a
    ``BadJson`` error, never a non-finite fact. An integer beyond 64 bits is read as the
    nearest double (orjson 3.13 has no strict-integer option on reading: ijl/orjson#473);
    every count the collectors read is checked to be an ``int`` (``paging._int``, Veeam's
    ``restorePointsCount``, the Wazuh indexer's ``failed``), so such a value is refused there,
    and a numeric fact is a ``float`` in any case.
    """
    try:
        return orjson.loads(response.content)
    except ValueError as exc:  # orjson.JSONDecodeError (a ValueError) and bad UTF-8
        text = response.content[:2000].decode("utf-8", "replace")
        kind = response.headers.get("Content-Type", "")
        what = "an empty body" if not response.content else f"{kind or 'no content type'}"
        raise BadJson(str(response.request.url), f"response is not JSON ({what}: {exc})",
                      text, kind) from exc


def _params(params: Params | None) -> dict[str, str | int | float | bool] | None:
    """Query parameters without the ones set to None."""
    if params is None:
        return None
    return {k: v for k, v in params.items() if v is not None}
