"""The evidence kinds: one module per kind in this package, registered by one line in ``Kind``.

Each module (``identity``, ``asset``, ``patch``, ``backup``, ``restore_test``) declares its
kind once, as ``KIND = EvidenceKind(...)`` (:mod:`clausewatch.core.kinds.spec`). A member of
:class:`Kind` registers it: ``KINDS`` loads the module named by each member's value. The
evidence JSON Schema, the JSON Lines reader's fast path and its tables are derived from
``KINDS`` in ``clausewatch.collectors``; checks name kinds through ``Kind``.
"""

from __future__ import annotations

import importlib
from enum import StrEnum

from clausewatch.core.kinds.registry import KindRegistry
from clausewatch.core.kinds.spec import EvidenceKind, Fact, FactType

__all__ = ["KINDS", "EvidenceKind", "Fact", "FactType", "Kind", "KindRegistry"]


class Kind(StrEnum):
    """The registered evidence kinds: each member's value names its module in this package."""

    IDENTITY = "identity"
    ASSET = "asset"
    PATCH = "patch"
    BACKUP = "backup"
    RESTORE_TEST = "restore_test"


def _declared(kind: Kind) -> EvidenceKind:
    """The declaration of ``kind``: ``KIND`` of the module of the same name."""
    declared = getattr(importlib.import_module(f"{__name__}.{kind.value}"), "KIND", None)
    if not isinstance(declared, EvidenceKind) or declared.name != kind.value:
        raise RuntimeError(f"{__name__}.{kind.value} must declare KIND = EvidenceKind("
                           f"name={kind.value!r}, ...)")
    return declared


#: The kinds in use, in the order of ``Kind``.
KINDS = KindRegistry(_declared(kind) for kind in Kind)
