"""Slack incoming webhook: Block Kit sections (mrkdwn) with a plain-text fallback."""

from __future__ import annotations

from typing import Any

from clausewatch.alerts.channels.base import ENV, ChannelSpec, Context, post_json
from clausewatch.alerts.message import SHOWN_PER_KIND, Digest

SECTION_MAX = 2900  # Slack caps a section's text at 3000 characters


def escape(text: str) -> str:
    """Slack's three control characters."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def payload(digest: Digest) -> dict[str, Any]:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": digest.title()[:150]}},
        {
            "type": "context",
            "elements": [
                {
                    "type": "mrkdwn",
                    "text": escape(digest.context()),
                }
            ],
        },
    ]
    for kind, events in digest.by_kind():
        lines = [f"• {escape(digest.line(e))}" for e in events[:SHOWN_PER_KIND]]
        if len(events) > SHOWN_PER_KIND:
            lines.append(escape(digest.more(len(events) - SHOWN_PER_KIND)))
        text = f"*{escape(digest.group(kind, len(events)))}*\n" + "\n".join(lines)
        if len(text) > SECTION_MAX:
            text = text[: SECTION_MAX - 1] + "…"
        blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": text}})
    return {"text": digest.title(), "blocks": blocks[:50]}


def send(digest: Digest, ctx: Context) -> str:
    response = post_json(ctx, ctx.secret("url_env"), payload(digest))
    return f"HTTP {response.status_code}"


CHANNEL = ChannelSpec(
    type="slack",
    options={
        "properties": {"url_env": ENV},
        "required": ["url_env"],
        "examples": [{"url_env": "SLACK_WEBHOOK_URL"}],
    },
    needs_http=True,
    send=send,
)
