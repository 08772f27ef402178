"""Microsoft Teams through a Workflows (Power Automate) webhook, as an Adaptive Card.

The Office 365 connectors (incoming webhooks of the ``outlook.office.com`` kind) are retired;
a Workflows "post to a channel when a webhook request is received" flow takes this payload.
"""

from __future__ import annotations

from typing import Any

from clausewatch.alerts.channels.base import ENV, ChannelSpec, Context, post_json
from clausewatch.alerts.events import EventKind
from clausewatch.alerts.message import SHOWN_PER_KIND, Digest

CARD_VERSION = "1.4"
MAX_BYTES = 24_000  # Teams refuses messages over about 28 KB


def card(digest: Digest, shown: int = SHOWN_PER_KIND) -> dict[str, Any]:
    bad = any(k in (EventKind.BREACHED, EventKind.REMINDER) for k, _ in digest.by_kind())
    body: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": digest.title(),
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "style": "heading",
            "color": "Attention" if bad else "Good",
        },
        {
            "type": "FactSet",
            "facts": [
                {"title": digest.t.t("contract"), "value": digest.contract_id},
                {"title": digest.t.t("provider"), "value": digest.provider},
                {"title": digest.t.t("alert_as_of"), "value": digest.day(digest.as_of)},
                {"title": digest.t.t("alert_open_label"), "value": str(digest.open_breaches)},
                *({"title": clause, "value": cost} for clause, cost in digest.costs),
            ],
        },
    ]
    for kind, events in digest.by_kind():
        body.append(
            {"type": "TextBlock", "text": digest.group(kind, len(events)),
             "weight": "Bolder", "wrap": True, "separator": True}
        )
        lines = [f"- {digest.line(e)}" for e in events[:shown]]
        if len(events) > shown:
            lines.append(f"- {digest.more(len(events) - shown)}")
        body.append({"type": "TextBlock", "text": "\n".join(lines), "wrap": True})
    return {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": CARD_VERSION,
        "body": body,
        "msteams": {"width": "full"},
    }


def payload(digest: Digest) -> dict[str, Any]:
    import json

    shown = SHOWN_PER_KIND
    while True:
        doc = {
            "type": "message",
            "attachments": [
                {
                    "contentType": "application/vnd.microsoft.card.adaptive",
                    "contentUrl": None,
                    "content": card(digest, shown),
                }
            ],
        }
        if shown <= 1 or len(json.dumps(doc).encode()) <= MAX_BYTES:
            return doc
        shown //= 2


def send(digest: Digest, ctx: Context) -> str:
    response = post_json(ctx, ctx.secret("url_env"), payload(digest))
    return f"HTTP {response.status_code}"


CHANNEL = ChannelSpec(
    type="teams",
    options={
        "properties": {"url_env": ENV},
        "required": ["url_env"],
        "examples": [{"url_env": "TEAMS_WORKFLOW_URL"}],
    },
    needs_http=True,
    send=send,
)
