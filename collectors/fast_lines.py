"""The fast path of the JSON Lines reader: msgspec types that accept a subset of the schema.

``collectors/schema/evidence.schema.json`` stays the interchange contract. These types are a
stricter mirror of it, decoded and checked in one C pass by msgspec: every line they accept is
valid against the schema (``tests/collectors/test_fast_lines.py`` checks that on the fixtures
and on generated records). A line they refuse is not an error by itself: the reader then takes
the schema path (orjson + jsonschema-rs), which accepts what the schema allows (extra facts,
``1.0`` as an integer, collection errors) and words the error of an invalid line.

Timestamps are decoded as text and parsed once per distinct text by the reader (files repeat
the same instants; one shared object each keeps memory flat); :data:`CANONICAL_INSTANT` is the
strict RFC 3339 form the fast path takes.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

#: RFC 3339 with ``T``, seconds, at most microseconds and an explicit offset: a subset of the
#: schema's ``date-time`` (anything else takes the schema path).
CANONICAL_INSTANT = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})"
)

Text = Annotated[str, Meta(min_length=1)]
NonNegativeInt = Annotated[int, Meta(ge=0)]
NonNegativeFloat = Annotated[float, Meta(ge=0)]


class _Facts(Struct, kw_only=True, forbid_unknown_fields=True):
    """Facts of one kind; every optional fact is ``UNSET`` when the line does not carry it."""


class IdentityFacts(_Facts):
    account: Text
    enabled: bool | None
    account_type: Literal["member", "guest", "service", "root", "shared_mailbox", "room"]
    mfa_registered: bool | None
    mfa_enforced: bool | None
    display_name: str | None | UnsetType = UNSET
    privileged: bool | None | UnsetType = UNSET
    privileged_reason: str | None | UnsetType = UNSET
    mfa_enforced_by: str | None | UnsetType = UNSET
    created_at: str | None | UnsetType = UNSET


class AssetFacts(_Facts):
    asset_kind: Text
    name: str | None | UnsetType = UNSET
    tags: dict[str, str | int | float | bool] | UnsetType = UNSET
    os: str | None | UnsetType = UNSET
    os_version: str | None | UnsetType = UNSET
    last_seen: str | None | UnsetType = UNSET
    patch_assessed_at: str | None | UnsetType = UNSET


class PatchFacts(_Facts):
    update_id: Text
    severity: Text
    state: Literal["missing", "installed", "failed", "not_applicable"]
    released_at: str | None | UnsetType = UNSET
    first_seen_at: str | None | UnsetType = UNSET
    installed_at: str | None | UnsetType = UNSET
    classification: str | None | UnsetType = UNSET
    title: str | None | UnsetType = UNSET
    cves: list[str] | UnsetType = UNSET


class BackupFacts(_Facts):
    outcome: Literal["success", "failed", "partial", "expired", "aborted"]
    completed_at: str
    started_at: str | None | UnsetType = UNSET
    job_id: str | None | UnsetType = UNSET
    backup_type: str | None | UnsetType = UNSET
    size_bytes: NonNegativeInt | None | UnsetType = UNSET


class RestoreTestFacts(_Facts):
    outcome: Literal["success", "failed", "partial"]
    completed_at: str
    duration_minutes: NonNegativeInt | NonNegativeFloat | None | UnsetType = UNSET
    method: Literal["automated", "attested"] | UnsetType = UNSET
    attested_by: str | None | UnsetType = UNSET
    note: str | None | UnsetType = UNSET


class _Line(Struct, kw_only=True, forbid_unknown_fields=True, tag_field="kind"):
    source: Text
    subject: Text
    observed_at: str
    id: Text | UnsetType = UNSET
    origin: str = ""
    raw_ref: str | None = None


class IdentityLine(_Line, tag="identity"):
    facts: IdentityFacts


class AssetLine(_Line, tag="asset"):
    facts: AssetFacts


class PatchLine(_Line, tag="patch"):
    facts: PatchFacts


class BackupLine(_Line, tag="backup"):
    facts: BackupFacts


class RestoreTestLine(_Line, tag="restore_test"):
    facts: RestoreTestFacts


FastLine = IdentityLine | AssetLine | PatchLine | BackupLine | RestoreTestLine

def decoder() -> msgspec.json.Decoder[FastLine]:
    """A decoder of one evidence line (not a collection error) of the strict form."""
    return msgspec.json.Decoder(FastLine)  # type: ignore[arg-type]

