"""Google credentials for a source entry, never written in the sources file.

``credentials:`` in an entry says where they come from:

* nothing: Application Default Credentials (``google.auth.default``: the
  ``GOOGLE_APPLICATION_CREDENTIALS`` file, ``gcloud auth application-default login``, or the
  metadata server of the VM, Cloud Run job or GKE pod the run is on);
* ``key_file_env: VAR``: the environment variable ``VAR`` holds the *path* of a credentials file
  (a service-account key, or any file type ``google.auth.load_credentials_from_file`` reads);
  its private key and secrets are registered with the run's redactor;
* ``impersonate: sa@project.iam.gserviceaccount.com``: the credentials above only mint
  short-lived tokens for that service account (``roles/iam.serviceAccountTokenCreator`` on it),
  through IAM Service Account Credentials (endpoint override ``iamcredentials``).

A domain-wide delegation subject (the Admin SDK acts as that Workspace administrator) is passed
by the caller for the Directory API only: a service-account key signs the JWT itself
(``with_subject``); impersonated credentials take ``subject=`` and then call
``iamcredentials.googleapis.com`` ``signJwt`` and ``oauth2.googleapis.com`` (google-auth
hard-codes both); user or metadata-server credentials cannot delegate, which is a
:class:`CredentialError`. Building credentials makes no network call: a refused credential shows
up at the first API call, as a collection error.

Every access token the credentials obtain (each ``refresh``: the first one, one before expiry,
a self-signed JWT) is registered with the run's redactor as soon as it is had, so a token never
reaches a log, a report or a raw page. google-auth keeps the token until it expires
(``credentials.valid``, refreshed within its own clock-skew margin): one token per credentials
object, reused by every request until then.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import google.auth
from google.auth import impersonated_credentials
from google.auth.credentials import Credentials
from google.auth.exceptions import GoogleAuthError

from clausewatch.collectors.catalogue import BuildContext, SecretSink

ENV = {"type": "string", "pattern": "^[A-Za-z_][A-Za-z0-9_]*$",
       "description": "name of an environment variable (never the value itself)"}
SERVICE_ACCOUNT = {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+\\.gserviceaccount\\.com$"}
EMAIL = {"type": "string", "pattern": "^[^@\\s]+@[^@\\s]+$"}
CREDENTIALS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "description": "default: Application Default Credentials",
    "properties": {
        "key_file_env": {**ENV, "description": "environment variable holding the path of a "
                         "credentials file (a service-account key)"},
        "impersonate": {**SERVICE_ACCOUNT, "description": "service account to impersonate"},
        "delegates": {"type": "array", "items": SERVICE_ACCOUNT,
                      "description": "delegation chain for impersonation"},
        "lifetime_seconds": {"type": "integer", "minimum": 600, "maximum": 43200,
                             "default": 3600},
    },
}
#: Values of a credentials file that are secrets (masked wherever they appear).
SECRET_FIELDS = ("private_key", "private_key_id", "client_secret", "refresh_token")
CLOUD_PLATFORM = "https://www.googleapis.com/auth/cloud-platform"


class CredentialError(Exception):
    """A credential the entry names cannot be had (a variable unset, a file missing)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class GoogleAuth:
    """Where an entry's credentials come from; ``credentials(scopes)`` builds them."""

    key_file: Path | None = None
    impersonate: str | None = None
    delegates: tuple[str, ...] = ()
    lifetime: int = 3600
    iamcredentials: str | None = None  # endpoint override (scheme://host)
    secrets: SecretSink | None = None  # where each token obtained is registered

    def credentials(self, scopes: Sequence[str], subject: str | None = None) -> Credentials:
        """Credentials for ``scopes``, acting as ``subject`` (domain-wide delegation) if given;
        every token they obtain is registered with ``secrets``."""
        return registering(self._credentials(scopes, subject), self.secrets)

    def _credentials(self, scopes: Sequence[str], subject: str | None) -> Credentials:
        try:
            base = self._base(scopes if self.impersonate is None else [CLOUD_PLATFORM])
        except GoogleAuthError as exc:
            raise CredentialError(f"no usable Google credentials: {exc}") from exc
        if self.impersonate is not None:
            override = None
            if self.iamcredentials:
                override = (f"{self.iamcredentials}/v1/projects/-/serviceAccounts/"
                            f"{self.impersonate}:generateAccessToken")
            return impersonated_credentials.Credentials(  # type: ignore[no-untyped-call]
                source_credentials=base, target_principal=self.impersonate,
                target_scopes=list(scopes), delegates=list(self.delegates) or None,
                subject=subject, lifetime=self.lifetime, iam_endpoint_override=override)
        if subject is None:
            return base
        with_subject = getattr(base, "with_subject", None)
        if with_subject is None:
            raise CredentialError(
                f"domain-wide delegation (subject {subject}) needs a service-account key or "
                f"credentials.impersonate; {type(base).__name__} credentials cannot delegate")
        delegated: Credentials = with_subject(subject)
        return delegated

    def _base(self, scopes: Sequence[str]) -> Credentials:
        creds: Credentials
        if self.key_file is not None:
            creds, _ = google.auth.load_credentials_from_file(  # type: ignore[no-untyped-call]
                str(self.key_file), scopes=list(scopes))
        else:
            creds, _ = google.auth.default(scopes=list(scopes))
        return creds


def auth_from(entry: Mapping[str, Any], context: BuildContext,
              iamcredentials: str | None = None) -> GoogleAuth:
    """The entry's ``credentials:`` resolved: a key file's path read from its variable, and its
    secrets registered with the redactor. Raises :class:`CredentialError`."""
    given = entry.get("credentials", {})
    key_file = None
    if "key_file_env" in given:
        var = given["key_file_env"]
        value = context.env.get(var)
        if not value:
            raise CredentialError(f"environment variable {var} (credentials.key_file_env) "
                                  "is not set")
        key_file = Path(value)
        key_file = key_file if key_file.is_absolute() else context.base_dir / key_file
        _register_secrets(key_file, context)
    return GoogleAuth(
        key_file=key_file,
        impersonate=given.get("impersonate"),
        delegates=tuple(given.get("delegates", ())),
        lifetime=int(given.get("lifetime_seconds", 3600)),
        iamcredentials=iamcredentials,
        secrets=context.secrets,
    )


def registering(credentials: Credentials, secrets: SecretSink | None) -> Credentials:
    """``credentials`` whose ``refresh`` registers the token it obtains with ``secrets``
    (google-auth calls ``self.refresh`` before a request whenever the token is missing or
    about to expire)."""
    if secrets is None or getattr(credentials, "_clausewatch_registering", False):
        return credentials
    refresh: Callable[[Any], None] = credentials.refresh

    def refresh_and_register(request: Any) -> None:
        refresh(request)
        token = getattr(credentials, "token", None)
        if isinstance(token, str) and token:
            secrets.add(token)

    credentials.refresh = refresh_and_register  # type: ignore[method-assign]
    credentials._clausewatch_registering = True  # type: ignore[attr-defined]
    return credentials


def _register_secrets(path: Path, context: BuildContext) -> None:
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise CredentialError(f"credentials file {path} does not exist") from exc
    except (OSError, ValueError) as exc:
        raise CredentialError(f"credentials file {path} cannot be read as JSON: "
                              f"{type(exc).__name__}") from exc
    if not isinstance(info, dict):
        raise CredentialError(f"credentials file {path} is not a JSON object")
    for name in SECRET_FIELDS:
        value = info.get(name)
        if isinstance(value, str) and value:
            context.secrets.add(value)
