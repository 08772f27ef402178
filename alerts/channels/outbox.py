"""A local outbox: each message appended as one JSON line (the demo, dry runs, audits)."""

from __future__ import annotations

import json
from pathlib import Path

from clausewatch.alerts.channels import webhook
from clausewatch.alerts.channels.base import ChannelSpec, Context
from clausewatch.alerts.message import Digest


def send(digest: Digest, ctx: Context) -> str:
    path = Path(ctx.option("path"))
    if not path.is_absolute():
        path = ctx.base_dir / path
    path.parent.mkdir(parents=True, exist_ok=True)
    line = {"channel": ctx.config.name, "message": webhook.payload(digest)}
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(line, ensure_ascii=False, sort_keys=True) + "\n")
    return f"appended to {path.name}"


CHANNEL = ChannelSpec(
    type="outbox",
    options={
        "properties": {
            "path": {
                "type": "string",
                "minLength": 1,
                "description": "The JSON Lines file messages are appended to.",
            },
        },
        "required": ["path"],
        "examples": [{"path": "outbox.jsonl"}],
    },
    needs_http=False,
    send=send,
)
