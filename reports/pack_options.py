"""How to build an evidence pack (``PackOptions``), apart from the pack's code: a command
builds its options at start-up, and one that writes no pack (``evaluate`` without ``--out``)
does not load the pack's writer, its zip code or the Ed25519 library."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


@dataclass(frozen=True, slots=True, kw_only=True)
class PackOptions:
    """How to build a pack. Paths are the caller's; nothing here is copied into the pack
    except redacted raw pages."""

    lang: str | None = None
    signing_key: Ed25519PrivateKey | None = None
    previous: Path | None = None  # the previous pack (folder or zip) to chain to
    previous_optional: bool = False  # found, not asked for: if unreadable, start a new chain
    history: Path | None = None  # a folder of earlier packs: newest is previous; new one added
    secrets: tuple[str, ...] = ()  # known secret values: masked, then must appear nowhere
    raw_dir: Path | None = None  # raw API pages to include, redacted
    attachments_dir: Path | None = None  # files evidence rests on, copied verbatim
    host: Mapping[str, Any] | None = None  # host facts (default: this machine)
    formats: tuple[str, ...] | None = None  # output formats to write (None: every registered)
    format_options: Mapping[str, str] = field(default_factory=dict)  # e.g. csv_dialect
