"""The contoso Graph fixtures as routes to edit, for the m365 tests that change one answer."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

CONTOSO = "11111111-1111-1111-1111-111111111111"
FOLDER = Path(__file__).resolve().parent / "fixtures" / "m365" / "contoso"
DENIED = {"status": 403, "body": {"error": {"code": "Forbidden", "message": "denied"}}}


def routes(**changes: Any) -> dict[str, Any]:
    out = json.loads((FOLDER / "routes.json").read_text())
    for key, value in changes.items():
        out[key.replace("_", " ", 1)] = value
    return out


def start(emulator: Any, table: dict[str, Any]) -> Any:
    emu = emulator(routes=table)
    emu.folder = FOLDER
    return emu


def page(name: str, **edit: Any) -> dict[str, Any]:
    return json.loads((FOLDER / name).read_text()) | edit


def entry(root: Path, raw_ref: str) -> Any:
    """The raw page entry a batch item's ``raw_ref`` names, its file's digest checked."""
    rel, _, fragment = raw_ref.partition("#sha256=")
    digest, _, item = fragment.partition("&item=")
    data = (root / rel).read_bytes()
    assert hashlib.sha256(data).hexdigest() == digest
    return json.loads(data)["items"][int(item)]
