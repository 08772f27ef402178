"""The Google client libraries, each imported only when a collector needs it.

A Workspace-only run loads none of the Cloud libraries. Resource Manager uses the Cloud client
library over its REST transport (``transport="rest"``). The Admin SDK Directory, IAM v1,
Compute Engine v1 and OS Config v1 are discovery clients (google-api-python-client, Google's
client for every discovery-described API: https://googleapis.github.io/google-api-python-client/
docs/start.html) built from the discovery document bundled with the library (no discovery fetch
at run time), each over its own ``httplib2`` connection with a timeout. Compute and OS Config
are read this way because their answers are wanted as Google's JSON (the raw pages and the
normalisers read it): ``google-cloud-compute`` takes about 6 s to import (its package imports
every Compute service) and its REST transport parses each page into protobuf messages in pure
Python, which were then turned back into the same JSON: about 1 ms per VM inventory.

httplib2 is not thread-safe ("each thread that you are making requests from must have its own
instance of httplib2.Http()"; the page's first remedy is a ``requestBuilder`` giving each request
its connection: https://googleapis.github.io/google-api-python-client/docs/thread_safety.html).
A discovery client built here builds every request on the calling thread's own connection, so
one client serves every collector of an entry (the VM collectors of 20 projects share one
Compute and one OS Config client): building a client makes its resources' methods and their
docstrings from the document's schemas, about 50 ms of CPU a client, once per entry instead of
once per project. Each call of a client's resource method (``compute.instances()``) builds a
new resource with all its methods again (Compute's ``instances`` has about 50): ``collection``
builds each one once per client. The parsed discovery document is shared: building a client
only reads it.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from google.auth.credentials import Credentials

from clausewatch.collectors.google.endpoints import Endpoints

if TYPE_CHECKING:
    from google.cloud import resourcemanager_v3


@dataclass(frozen=True, slots=True)
class ResourceManager:
    """The three Resource Manager v3 clients."""

    organizations: resourcemanager_v3.OrganizationsClient
    folders: resourcemanager_v3.FoldersClient
    projects: resourcemanager_v3.ProjectsClient


def resource_manager(credentials: Credentials, endpoints: Endpoints) -> ResourceManager:
    from google.cloud import resourcemanager_v3

    kw: dict[str, Any] = {"credentials": credentials, "transport": "rest",
                          "client_options": endpoints.client_options("cloudresourcemanager")}
    return ResourceManager(resourcemanager_v3.OrganizationsClient(**kw),
                           resourcemanager_v3.FoldersClient(**kw),
                           resourcemanager_v3.ProjectsClient(**kw))


def compute(credentials: Credentials, endpoints: Endpoints, timeout: float) -> Any:
    """Compute Engine v1 (discovery; ``instances().aggregatedList``)."""
    return discovery("compute", "v1", credentials, endpoints, "compute", timeout,
                     service_path="compute/v1/")


def os_config(credentials: Credentials, endpoints: Endpoints, timeout: float) -> Any:
    """OS Config v1 (discovery; ``projects().locations().instances().inventories()`` ...)."""
    return discovery("osconfig", "v1", credentials, endpoints, "osconfig", timeout)


def with_token(credentials: Credentials, timeout: float) -> Credentials:
    """``credentials`` holding a valid token, fetched here once (one request) if they have none,
    so that the collectors sharing them do not each fetch one when their threads start together
    (google-auth refreshes lazily, on each request that finds no valid token)."""
    if not credentials.valid:
        import google_auth_httplib2
        import httplib2

        request = google_auth_httplib2.Request(httplib2.Http(timeout=timeout))
        credentials.refresh(request)  # type: ignore[no-untyped-call]
    return credentials


@cache
def _document(api: str, version: str) -> dict[str, Any]:
    """The discovery document bundled with google-api-python-client, parsed once a process."""
    import json

    from googleapiclient.discovery_cache import get_static_doc

    text = get_static_doc(api, version)
    if text is None:
        raise RuntimeError(f"google-api-python-client bundles no {api} {version} document")
    document: dict[str, Any] = json.loads(text)
    return document


def discovery(api: str, version: str, credentials: Credentials, endpoints: Endpoints,
              endpoint_key: str, timeout: float, service_path: str = "") -> Any:
    """A discovery client (``admin``/``directory_v1``, ``iam``/``v1``, ...) from the bundled
    document, safe to share between threads: each request is built on the calling thread's own
    authorised connection (made on its first request). ``service_path``: the document's
    ``servicePath``, kept under an endpoint override (which replaces ``rootUrl`` +
    ``servicePath``)."""
    import google_auth_httplib2
    import httplib2
    from googleapiclient.discovery import build_from_document
    from googleapiclient.http import HttpRequest

    local = threading.local()

    def connection() -> Any:
        http = getattr(local, "http", None)
        if http is None:
            http = local.http = google_auth_httplib2.AuthorizedHttp(
                credentials, http=httplib2.Http(timeout=timeout))
        return http

    def build_request(_shared: Any, *args: Any, **kwargs: Any) -> Any:
        return HttpRequest(connection(), *args, **kwargs)

    return build_from_document(_document(api, version), http=connection(),
                               requestBuilder=build_request,
                               client_options=endpoints.discovery_options(endpoint_key,
                                                                          service_path))


_collections: weakref.WeakKeyDictionary[Any, dict[tuple[str, ...], Any]] = (
    weakref.WeakKeyDictionary())
_collections_lock = threading.Lock()


def collection(client: Any, *path: str) -> Any:
    """``client.<path[0]>().<path[1]>()...`` of a discovery client, built once per client and
    shared (a resource only builds requests; they run on the calling thread's connection)."""
    with _collections_lock:
        known = _collections.setdefault(client, {})
        if path not in known:
            node = client
            for name in path:
                node = getattr(node, name)()
            known[path] = node
        return known[path]
