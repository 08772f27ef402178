"""Generic webhook: the run's events as one JSON document (shape after Alertmanager's)."""

from __future__ import annotations

from typing import Any

from clausewatch.alerts.channels.base import ENV, ChannelSpec, Context, post_json
from clausewatch.alerts.message import Digest, event_to_dict, iso

VERSION = "1"


def payload(digest: Digest) -> dict[str, Any]:
    return {
        "version": VERSION,
        "source": "clausewatch",
        "group_key": digest.group_key,
        "status": "firing" if digest.open_breaches else "resolved",
        "title": digest.title(),
        "contract": {
            "id": digest.contract_id,
            "title": digest.contract_title,
            "provider": digest.provider,
            "customer": digest.customer,
        },
        "run": {"run_id": digest.run_id, "as_of": iso(digest.as_of)},
        "open_breaches": digest.open_breaches,
        "counts": digest.counts(),
        "events": [event_to_dict(e) for e in digest.events],
    }


def send(digest: Digest, ctx: Context) -> str:
    url = ctx.secret("url_env")
    headers = {name: ctx.secret_env(var) for name, var in ctx.option("headers_env", {}).items()}
    response = post_json(ctx, url, payload(digest), headers)
    return f"HTTP {response.status_code}"


CHANNEL = ChannelSpec(
    type="webhook",
    options={
        "properties": {
            "url_env": ENV,
            "headers_env": {
                "type": "object",
                "additionalProperties": ENV,
                "description": "Header name -> variable holding its value (e.g. Authorization).",
            },
        },
        "required": ["url_env"],
        "examples": [{"url_env": "OPS_WEBHOOK_URL", "headers_env": {"Authorization": "OPS_AUTH"}}],
    },
    needs_http=True,
    send=send,
)
