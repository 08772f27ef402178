"""One message per channel per run: the run's events grouped, with plain-text renderings."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from clausewatch.alerts.events import ORDER, Event, EventKind
from clausewatch.core.i18n import Catalogue

#: English headings (machine-facing copies; messages use ``Digest.heading``, localised).
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
    lang: str = "en"  # the contract's language
    costs: tuple[tuple[str, str], ...] = ()  # (clause, exposure so far this period), localised

    @property
    def t(self) -> Catalogue:
        return Catalogue(self.lang)

    def heading(self, kind: EventKind) -> str:
        return self.t.t(f"alert_{kind}")

    def group(self, kind: EventKind, n: int) -> str:
        """``Newly breached (3)``."""
        return self.t.t("alert_group", heading=self.heading(kind), n=n)

    def more(self, n: int) -> str:
        return self.t.count("alert_more", n)

    def context(self) -> str:
        """One line: contract, parties, as of, breaches open."""
        return self.t.t("alert_context", id=self.contract_id, provider=self.provider,
                        customer=self.customer, day=self.day(self.as_of), n=self.open_breaches)

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
        t = self.t
        parts = [t.count(f"alert_count_{k}", len(v)) for k, v in self.by_kind()]
        return t.t("alert_title", title=self.contract_title,
                   parts=", ".join(parts) or t.t("alert_no_change"))

    def day(self, value: datetime | None) -> str:
        """A day in the contract's zone: ISO in English (as before), in words otherwise."""
        if value is None:
            return ""
        if self.lang == "en":
            return value.astimezone(self.timezone).strftime("%Y-%m-%d")
        return self.t.day(value, self.timezone)

    def line(self, e: Event) -> str:
        """One event in one line of plain text, with since when a breach lasts."""
        t = self.t
        text = f"{e.clause} {e.label}{t.t('colon')} {t.reason(e, self.timezone)}"
        if e.kind is EventKind.AT_RISK and e.due:
            text += " " + t.t("alert_due", day=self.day(e.due))
        if e.kind in (EventKind.BREACHED, EventKind.REMINDER, EventKind.CURED) and e.since:
            days = int(max(0.0, (self.as_of - e.since).total_seconds()) // 86400)
            text += " " + t.t("alert_since", day=self.day(e.since), duration=t.days(days))
        if e.kind is EventKind.CURED and e.how != "compliant":
            key = f"alert_how_{e.how}"
            text += " " + (t.t(key) if t.has(key) else f"({e.how})")
        return text

    def text(self, limit: int | None = None) -> str:
        """The whole message as plain text (email body); ``limit`` lines per kind."""
        t = self.t
        out = [self.title(), "", t.t("alert_intro", id=self.contract_id, provider=self.provider,
                                     customer=self.customer, run=self.run_id,
                                     as_of=iso(self.as_of)),
               t.t("alert_open", n=self.open_breaches)]
        if self.costs:
            out += ["", t.t("alert_costs") + t.t("colon")]
            out += [f"- {t.t('alert_cost_line', clause=c, cost=v)}" for c, v in self.costs]
        for kind, events in self.by_kind():
            out += ["", self.group(kind, len(events)) + t.t("colon")]
            shown = events if limit is None else events[:limit]
            out += [f"- {self.line(e)}" for e in shown]
            if len(shown) < len(events):
                out.append(f"- {self.more(len(events) - len(shown))}")
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
