"""What a Google source entry shares: ``credentials``, ``endpoints``, ``retry``, resolved once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from clausewatch.collectors.catalogue import BuildContext
from clausewatch.collectors.google.credentials import CREDENTIALS_SCHEMA, GoogleAuth, auth_from
from clausewatch.collectors.google.endpoints import ENDPOINTS_SCHEMA, Endpoints
from clausewatch.collectors.google.retry import RETRY_SCHEMA, RetrySettings

#: Properties every Google entry takes (merge into its ENTRY_SCHEMA properties).
COMMON_PROPERTIES: dict[str, Any] = {
    "credentials": CREDENTIALS_SCHEMA,
    "endpoints": ENDPOINTS_SCHEMA,
    "retry": RETRY_SCHEMA,
}


@dataclass(frozen=True, slots=True)
class GoogleSetup:
    """An entry's credentials source, endpoint overrides and retry."""

    auth: GoogleAuth
    endpoints: Endpoints
    retry: RetrySettings


def setup_from(entry: Mapping[str, Any], context: BuildContext) -> GoogleSetup:
    """Resolve the common parts (raises ``CredentialError`` for a credential it cannot have)."""
    endpoints = Endpoints(dict(entry.get("endpoints", {})))
    auth = auth_from(entry, context, iamcredentials=endpoints.get("iamcredentials"))
    return GoogleSetup(auth, endpoints, RetrySettings.from_entry(entry))
