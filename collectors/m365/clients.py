"""Build Graph clients (v1.0 and beta) on one credential, one host and a bounded retry policy.

v1.0 is msgraph-sdk's ``GraphServiceClient``. Beta is a bare msgraph-core
``BaseGraphRequestAdapter`` on ``.../beta``: ClauseWatch reads a single beta endpoint, whose
request builder and models live in ``catalog_api`` (the generated msgraph-beta-sdk weighs
~680 MB for it). Both get the same credential, the same pipeline and msgraph-sdk's telemetry
options (msgraph-sdk's machinery sends the requests either way).

The SDK's default pipeline is kept (redirects, parameter decoding, URL replacement, user agent,
header and body inspection, Graph telemetry); only its ``RetryHandler`` is swapped for
``BoundedRetryHandler``; beneath the pipeline every attempt passes the tenant's gate
(``gate.GatedTransport``: at most N requests in flight for the entry, shared back-off). The
adapter's base URL is set without a trailing slash *before* the
service client is built: httpx normalises a client ``base_url`` to end in ``/``, which would make
every request go to ``.../v1.0//users`` (the "double slash" trap).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import httpx
from azure.core.credentials import TokenCredential
from kiota_abstractions.api_client_builder import register_default_deserializer
from kiota_abstractions.authentication import AuthenticationProvider
from kiota_abstractions.request_adapter import RequestAdapter
from kiota_authentication_azure.azure_identity_authentication_provider import (
    AzureIdentityAuthenticationProvider,
)
from kiota_http.kiota_client_factory import KiotaClientFactory
from kiota_http.middleware import RetryHandler
from kiota_serialization_json.json_parse_node_factory import JsonParseNodeFactory
from msgraph.graph_request_adapter import GraphRequestAdapter
from msgraph.graph_request_adapter import options as v1_options
from msgraph.graph_service_client import GraphServiceClient
from msgraph_core import BaseGraphRequestAdapter, GraphClientFactory

from clausewatch.collectors.m365.gate import GatedTransport, TenantGate
from clausewatch.collectors.m365.retry import BoundedRetryHandler
from clausewatch.collectors.retry_budget import RetryBudget

TIMEOUT = httpx.Timeout(100.0, connect=30.0)
LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=20)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Throttling bound: retries after the first attempt, the longest single wait, the time
    budget all the entry's calls share, and the tenant's gate (requests in flight, shared
    back-off: ``gate.TenantGate``), shared by the entry's collectors."""

    max_retries: int = 4
    max_wait_seconds: float = 60.0
    backoff_base_seconds: float = 0.5
    budget: RetryBudget = field(default_factory=RetryBudget)
    gate: TenantGate = field(default_factory=TenantGate)


@dataclass(frozen=True, slots=True)
class GraphEndpoint:
    """Where Graph is (``https://graph.microsoft.com`` or a local emulator) and its token scope."""

    base: str  # scheme://host[:port], no trailing slash
    scope: str  # e.g. https://graph.microsoft.com/.default


def _http_client(options: dict[str, Any], retry: RetryPolicy,
                 transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
    middleware = [
        BoundedRetryHandler(retry.max_retries, retry.max_wait_seconds, retry.backoff_base_seconds,
                            budget=retry.budget)
        if isinstance(m, RetryHandler) else m
        for m in KiotaClientFactory.get_default_middleware(options)
    ]
    middleware.append(GraphClientFactory._get_telemetry_handler(options))
    inner = transport or httpx.AsyncHTTPTransport(limits=LIMITS)
    client = httpx.AsyncClient(timeout=TIMEOUT, transport=GatedTransport(inner, retry.gate))
    return cast(httpx.AsyncClient,
                GraphClientFactory.create_with_custom_middleware(middleware, client=client))


def auth_provider(credential: TokenCredential, endpoint: GraphEndpoint) -> AuthenticationProvider:
    return AzureIdentityAuthenticationProvider(credential, scopes=[endpoint.scope])


def graph_v1(credential: TokenCredential, endpoint: GraphEndpoint, retry: RetryPolicy,
             transport: httpx.AsyncBaseTransport | None = None) -> GraphServiceClient:
    """A v1.0 ``GraphServiceClient`` on a fresh HTTP client (one per collector: async clients
    belong to the event loop that first uses them)."""
    adapter = GraphRequestAdapter(auth_provider(credential, endpoint),
                                  client=_http_client(v1_options, retry, transport))
    adapter.base_url = f"{endpoint.base}/v1.0"
    return GraphServiceClient(request_adapter=adapter)


def graph_beta(credential: TokenCredential, endpoint: GraphEndpoint, retry: RetryPolicy,
               transport: httpx.AsyncBaseTransport | None = None) -> RequestAdapter:
    """A request adapter on ``.../beta`` for ``catalog_api`` (the Windows Update catalog exists
    only in beta); JSON responses are parsed by kiota's JSON parse node factory, registered the
    way generated service clients register it."""
    register_default_deserializer(JsonParseNodeFactory)
    adapter = BaseGraphRequestAdapter(auth_provider(credential, endpoint),
                                      http_client=_http_client(v1_options, retry, transport))
    adapter.base_url = f"{endpoint.base}/beta"
    return cast(RequestAdapter, adapter)
