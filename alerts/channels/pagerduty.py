"""PagerDuty Events API v2: one incident per contract, triggered and resolved on one dedup key.

A run that opens a breach or reminds of one sends ``trigger`` (the incident's log gains the
run's news); a run after which no breach is open sends ``resolve``. Other runs page nobody.
A collection failure keeps breaches open, so it never resolves the incident.
"""

from __future__ import annotations

from typing import Any

from clausewatch.alerts.channels.base import ENV, ChannelSpec, Context, post_json
from clausewatch.alerts.events import EventKind
from clausewatch.alerts.message import Digest, event_to_dict, iso

ENDPOINT = "https://events.pagerduty.com/v2/enqueue"
SUMMARY_MAX = 1024


def action(digest: Digest) -> str | None:
    kinds = {e.kind for e in digest.events}
    if kinds & {EventKind.BREACHED, EventKind.REMINDER, EventKind.TEST} and (
        digest.open_breaches or EventKind.TEST in kinds
    ):
        return "trigger"
    if digest.open_breaches == 0 and EventKind.CURED in kinds:
        return "resolve"
    return None


def payload(digest: Digest, event_action: str, routing_key: str, severity: str) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "routing_key": routing_key,
        "event_action": event_action,
        "dedup_key": digest.group_key,
    }
    if event_action == "trigger":
        doc["payload"] = {
            "summary": digest.title()[:SUMMARY_MAX],
            "source": "clausewatch",
            "severity": severity,
            "timestamp": iso(digest.as_of),
            "component": digest.contract_id,
            "group": digest.provider,
            "class": "contract-commitment",
            "custom_details": {
                "open_breaches": digest.open_breaches,
                "run_id": digest.run_id,
                "events": [event_to_dict(e) for e in digest.events[:50]],
            },
        }
    return doc


def send(digest: Digest, ctx: Context) -> str:
    what = action(digest)
    if what is None:
        return "nothing to page"
    key = ctx.secret("routing_key_env")
    url = ctx.option("url", ENDPOINT)
    response = post_json(ctx, url, payload(digest, what, key, ctx.option("severity", "error")))
    return f"{what}: HTTP {response.status_code}"


CHANNEL = ChannelSpec(
    type="pagerduty",
    options={
        "properties": {
            "routing_key_env": ENV,
            "url": {
                "type": "string",
                "pattern": "^https?://",
                "description": f"The Events API v2 endpoint (default {ENDPOINT}).",
            },
            "severity": {"enum": ["critical", "error", "warning", "info"]},
        },
        "required": ["routing_key_env"],
        "examples": [{"routing_key_env": "PD_ROUTING_KEY", "url": ENDPOINT, "severity": "error"}],
    },
    needs_http=True,
    send=send,
)
