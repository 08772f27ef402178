"""One message per channel per run: the run's events grouped, with plain-text renderings."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from clausewatch.alerts.events import ORDER, Event, EventKind

HEADINGS = {
    EventKind.BREACHED: "Newly breached",
    EventKind.REMINDER: "Still breached (reminder)",
    EventKind.AT_RISK: "Newly at risk",
    EventKind.EVIDENCE_MISSING: "Evidence gone missing",
    EventKind.WAIVER_EXPIRING: "Waivers expiring soon",
    EventKind.CURED: "Cured",
    EventKind.TEST: "Test",
}
SHOWN_PER_KIND = 15  # chat messages list this many per kind, then "and N more"


@dataclass(frozen=True, slots=True, kw_only=True)
class Digest:
    """What one channel is told about one run."""

    contract_id: str
    contract_title: str
    provider: str
    customer: str
    timezone: ZoneInfo
    run_id: str
    as_of: datetime
    events: tuple[Event, ...]
    open_breaches: int  # breaches still open once this run is recorded

    @property
    def group_key(self) -> str:
        """Stable per contract: PagerDuty's dedup key, the webhook's ``group_key``."""
        return "clausewatch-" + hashlib.sha256(self.contract_id.encode()).hexdigest()[:32]

    def by_kind(self) -> list[tuple[EventKind, list[Event]]]:
        groups: dict[EventKind, list[Event]] = {}
        for e in self.events:
            groups.setdefault(e.kind, []).append(e)
        return [(k, groups[k]) for k in ORDER if k in groups]

    def counts(self) -> dict[str, int]:
        return {str(k): len(v) for k, v in self.by_kind()}

    def title(self) -> str:
        parts = [f"{len(v)} {HEADINGS[k].lower()}" for k, v in self.by_kind()]
        return f"ClauseWatch: {self.contract_title}: " + (", ".join(parts) or "no change")

    def day(self, value: datetime | None) -> str:
        return value.astimezone(self.timezone).strftime("%Y-%m-%d") if value else ""

    def line(self, e: Event) -> str:
        """One event in one line of plain text."""
        text = f"{e.clause} {e.label}: {e.reason}"
        if e.kind is EventKind.AT_RISK and e.due:
            text += f" Due {self.day(e.due)}."
        if e.kind in (EventKind.REMINDER, EventKind.CURED) and e.since:
            text += f" Breached since {self.day(e.since)}."
        if e.kind is EventKind.CURED and e.how != "compliant":
            text += f" ({e.how})"
        return text

    def text(self, limit: int | None = None) -> str:
        """The whole message as plain text (email body); ``limit`` lines per kind."""
        out = [self.title(), "", f"Contract {self.contract_id} ({self.provider} for "
               f"{self.customer}), run {self.run_id} as of {iso(self.as_of)}.",
               f"Breaches still open: {self.open_breaches}."]
        for kind, events in self.by_kind():
            out += ["", f"{HEADINGS[kind]} ({len(events)}):"]
            shown = events if limit is None else events[:limit]
            out += [f"- {self.line(e)}" for e in shown]
            if len(shown) < len(events):
                out.append(f"- ... and {len(events) - len(shown)} more")
        return "\n".join(out) + "\n"


def iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def event_to_dict(e: Event) -> dict[str, Any]:
    return {
        "kind": str(e.kind),
        "key": e.key,
        "commitment": e.commitment_id,
        "clause": e.clause,
        "title": e.title,
        "subject": e.subject,
        "label": e.label,
        "status": e.status,
        "reason": e.reason,
        "due": iso(e.due),
        "since": iso(e.since),
        "how": e.how or None,
        "expires": e.expires or None,
    }


def for_channel(digest: Digest, wanted: Sequence[Event]) -> Digest:
    """The digest restricted to the events a channel wants."""
    from dataclasses import replace

    return replace(digest, events=tuple(wanted))
