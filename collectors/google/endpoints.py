"""The Google APIs the sources call, and an endpoint override for each (``endpoints:``).

An override is ``scheme://host[:port]`` (a Private Service Connect endpoint, a proxy, a local
emulator for a dry run). The client libraries need the scheme: ``127.0.0.1:8080`` alone would
become ``https://127.0.0.1:8080``. ``iamcredentials`` is where impersonated credentials mint
their token (``iam_endpoint_override``); with a delegation subject google-auth calls the
hard-coded ``iamcredentials.googleapis.com`` ``signJwt`` and ``oauth2.googleapis.com`` instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: API name (the key under ``endpoints:``) -> what it is used for.
APIS: Mapping[str, str] = {
    "cloudresourcemanager": "Resource Manager v3: organisation, folders, projects, IAM policies",
    "iam": "IAM v1 (discovery): custom roles and their permissions",
    "compute": "Compute Engine v1: VM instances",
    "osconfig": "OS Config v1: inventories and vulnerability reports",
    "admin": "Admin SDK Directory v1 (discovery): users, roles, groups",
    "iamcredentials": "IAM Service Account Credentials: impersonation tokens",
}

ENDPOINTS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "per-API endpoint (scheme://host[:port]): " + ", ".join(APIS),
    "properties": {name: {"type": "string", "pattern": "^https?://[^/?#\\s]+/?$",
                          "description": why} for name, why in APIS.items()},
}


@dataclass(frozen=True, slots=True)
class Endpoints:
    """The overrides of one entry; an API without one uses the library's default."""

    overrides: Mapping[str, str] = field(default_factory=dict)

    def get(self, api: str) -> str | None:
        if api not in APIS:
            raise KeyError(api)
        url = self.overrides.get(api)
        return url.rstrip("/") if url else None

    def client_options(self, api: str) -> dict[str, str] | None:
        """``client_options`` for a client library (None: the default endpoint)."""
        url = self.get(api)
        return {"api_endpoint": url} if url else None

    def discovery_options(self, api: str, service_path: str = "") -> dict[str, str] | None:
        """``client_options`` for a discovery client, whose base URL (the host and the
        document's ``servicePath``, e.g. ``compute/v1/``) keeps a trailing slash."""
        url = self.get(api)
        return {"api_endpoint": f"{url}/{service_path}"} if url else None
