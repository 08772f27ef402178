"""Mask secrets in raw API pages before they are written anywhere."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

MASK = "***REDACTED***"
SECRET_KEY = re.compile(
    r"(secret|password|passwd|token|authorization|api[_-]?key|access[_-]?key|private[_-]?key|"
    r"credential|session[_-]?token|sig(nature)?$|cookie)",
    re.IGNORECASE,
)
#: Keys that look secret by name but carry only ids or metadata.
NOT_SECRET = frozenset({"AccessKeyId", "access_key_1_active", "access_key_2_active",
                        "passwordLastUsed", "password_enabled", "password_last_used",
                        "password_last_changed", "password_next_rotation", "PasswordLastUsed",
                        "tokenIssuerType"})


class Redactor:
    """Callable that masks values under secret-looking keys and any known secret value."""

    def __init__(self, known_secrets: Iterable[str] = ()) -> None:
        self.known: list[str] = []
        for secret in known_secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        """Mask this exact value wherever it appears from now on."""
        if secret and len(secret) >= 4 and secret not in self.known:
            self.known = sorted([*self.known, secret], key=len, reverse=True)

    def __call__(self, value: Any) -> Any:
        if isinstance(value, dict):
            return {
                k: MASK if self._secret_key(k, v) else self(v) for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self(v) for v in value]
        if isinstance(value, str):
            for secret in self.known:
                value = value.replace(secret, MASK)
            return value
        return value

    @staticmethod
    def _secret_key(key: Any, value: Any) -> bool:
        if not isinstance(key, str) or key in NOT_SECRET:
            return False
        return bool(SECRET_KEY.search(key)) and isinstance(value, str | bytes) and bool(value)
