"""The Google client libraries, each imported only when a collector needs it.

``google-cloud-compute`` alone takes seconds to import; a Workspace-only run loads none of the
Cloud libraries, and a run that reads no VM does not load Compute or OS Config. The Cloud
clients use the REST transport (``transport="rest"``); the Admin SDK Directory and IAM v1 are
discovery clients built from the discovery document bundled with google-api-python-client
(``static_discovery=True``: no discovery fetch at run time), over an ``httplib2`` connection with
a timeout.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from google.auth.credentials import Credentials

from clausewatch.collectors.google.endpoints import Endpoints

if TYPE_CHECKING:
    from google.cloud import compute_v1, osconfig_v1, resourcemanager_v3


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


def compute_instances(credentials: Credentials,
                      endpoints: Endpoints) -> compute_v1.InstancesClient:
    from google.cloud import compute_v1

    return compute_v1.InstancesClient(credentials=credentials, transport="rest",
                                      client_options=endpoints.client_options("compute"))


def os_config(credentials: Credentials,
              endpoints: Endpoints) -> osconfig_v1.OsConfigZonalServiceClient:
    from google.cloud import osconfig_v1

    return osconfig_v1.OsConfigZonalServiceClient(
        credentials=credentials, transport="rest",
        client_options=endpoints.client_options("osconfig"))


def discovery(api: str, version: str, credentials: Credentials, endpoints: Endpoints,
              endpoint_key: str, timeout: float) -> Any:
    """A discovery client (``admin``/``directory_v1``, ``iam``/``v1``) from the bundled document."""
    import google_auth_httplib2
    import httplib2
    from googleapiclient.discovery import build

    http = google_auth_httplib2.AuthorizedHttp(credentials, http=httplib2.Http(timeout=timeout))
    return build(api, version, http=http, static_discovery=True, cache_discovery=False,
                 client_options=endpoints.discovery_options(endpoint_key))
