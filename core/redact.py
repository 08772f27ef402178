"""Mask secrets before anything is written: raw API pages, results, evidence packs, logs.

Two nets: values under keys that name a secret (``client_secret``, ``Authorization``,
``SessionToken``...) are masked whatever they hold, and known secret values (the ones the run was
configured with) are masked wherever they appear, inside any string. ``leaks`` is the final
check the pack runs over every file it is about to publish.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "[REDACTED]"
#: Key names (compared lower-case, without ``-``/``_``) whose values are always masked.
SECRET_KEYS = frozenset(
    {
        "secret",
        "password",
        "passwd",
        "token",
        "accesstoken",
        "refreshtoken",
        "idtoken",
        "authorization",
        "proxyauthorization",
        "clientsecret",
        "accesskey",
        "secretaccesskey",
        "sessiontoken",
        "securitytoken",
        "privatekey",
        "privatekeyid",
        "apikey",
        "xapikey",
        "cookie",
        "setcookie",
        "sastoken",
        "connectionstring",
    }
)
#: Substrings that make any key secret (``db_password``, ``webhook_secret``...).
SECRET_PARTS = ("secret", "password", "passwd", "privatekey", "sessiontoken", "credential")
#: Endings that make a secret-looking key plain metadata (``passwordLastUsed``, ``AccessKeyId``).
METADATA_ENDINGS = (
    "id",
    "lastused",
    "lastchanged",
    "lastrotated",
    "nextrotation",
    "enabled",
    "active",
    "expires",
    "expiry",
    "expiration",
    "expiresat",
    "createdat",
    "type",
    "issuertype",
    "required",
    "policy",
    "set",
    "count",
)
MIN_SECRET_LEN = 4  # shorter "secrets" would mask half the pack and protect nothing


def _norm(key: str) -> str:
    return re.sub(r"[-_\s]", "", key).lower()


def is_secret_key(key: str) -> bool:
    """True for keys such as ``client_secret``, ``Authorization``, ``SessionToken``."""
    k = _norm(key)
    if k in SECRET_KEYS:
        return True
    return any(p in k for p in SECRET_PARTS) and not k.endswith(METADATA_ENDINGS)


class Redactor:
    """Masks secret keys and known secret values in JSON-like data and text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.known: list[str] = []  # the secret values as configured
        self.values: list[str] = []  # those and their JSON-escaped forms, longest first
        self._pattern: re.Pattern[str] | None = None
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Mask this exact value from now on (collectors register every credential they read)."""
        if not isinstance(secret, str) or len(secret) < MIN_SECRET_LEN or secret in self.known:
            return
        self.known.append(secret)
        # Longest first, so a secret containing another is masked whole; JSON-escaped forms too.
        forms = set(self.values) | {secret, json.dumps(secret)[1:-1]}
        self.values = sorted(forms, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in self.values))

    def __call__(self, value: Any) -> Any:
        """Same as ``data``: the ``RawRecorder`` calls its redactor on every page."""
        return self.data(value)

    def text(self, text: str) -> str:
        """``text`` with every known secret value masked."""
        return self._pattern.sub(MASK, text) if self._pattern else text

    def data(self, value: Any) -> Any:
        """A copy of JSON-like ``value`` with secret keys and known secret values masked."""
        if isinstance(value, Mapping):
            return {
                k: (MASK if is_secret_key(str(k)) and _has_value(v) else self.data(v))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        if isinstance(value, str):
            return self.text(value)
        return value

    def json_text(self, text: str) -> str:
        """A JSON document's text, redacted (keys and values); non-JSON text: values only.

        A document with nothing to mask comes back byte for byte, so digests taken of it
        earlier (an evidence record's ``raw_ref``) still hold.
        """
        try:
            doc = json.loads(text)
        except ValueError:
            return self.text(text)
        clean = self.data(doc)
        if clean == doc:
            return text
        return json.dumps(clean, indent=1, ensure_ascii=False, sort_keys=True) + "\n"

    def leaks(self, blob: bytes) -> list[str]:
        """The known secret values found in ``blob`` (masked for display)."""
        return [_hint(v) for v in self.values if v.encode("utf-8") in blob]


def _has_value(value: Any) -> bool:
    """Booleans and numbers under a secret-looking key are flags, not secrets."""
    return bool(value) and not isinstance(value, bool | int | float)


def redact(value: Any, secrets: Iterable[str] = ()) -> Any:
    """Shorthand: ``Redactor(secrets).data(value)``."""
    return Redactor(secrets).data(value)


def _hint(secret: str) -> str:
    return f"{secret[:2]}…({len(secret)} chars)"
