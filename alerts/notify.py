"""A run's alerts end to end: detect events against the history, deliver, report."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from clausewatch.alerts.config import AlertConfig
from clausewatch.alerts.deliver import deliver
from clausewatch.alerts.events import Detection, Event, EventKind, Rules, detect
from clausewatch.alerts.message import Digest, event_to_dict, iso
from clausewatch.core.evaluation import Evaluation
from clausewatch.core.i18n import Catalogue, pick_language
from clausewatch.core.run import RunInfo
from clausewatch.history.standing import Standing, describe
from clausewatch.history.store import Delivery, Prior


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertOutcome:
    digest: Digest
    deliveries: tuple[Delivery, ...]

    def to_document(self) -> dict[str, Any]:
        """``alerts.json``: the events of the run and how each channel's delivery went."""
        return {
            "schema_version": "1",
            "run_id": self.digest.run_id,
            "as_of": iso(self.digest.as_of),
            "contract": self.digest.contract_id,
            "group_key": self.digest.group_key,
            "open_breaches": self.digest.open_breaches,
            "counts": self.digest.counts(),
            "events": [event_to_dict(e) for e in self.digest.events],
            "deliveries": [
                {"channel": d.channel, "type": d.type, "ok": d.ok, "attempts": d.attempts,
                 "events": d.events, "detail": d.detail}
                for d in self.deliveries
            ],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_document(), indent=2, ensure_ascii=False) + "\n"


def make_digest(
    ev: Evaluation, info: RunInfo, detection: Detection, standing: Standing | None = None
) -> Digest:
    """The message of a run, in the contract's language, with each penalty clause's exposure
    so far this period when the history is known (``standing``)."""
    k = ev.contract
    lang = pick_language(None, k.language)
    costs: tuple[tuple[str, str], ...] = ()
    if standing is not None and standing.known:
        t = Catalogue(lang)
        costs = tuple((c.clause, describe(t, standing.costs[c.id])) for c in k.commitments
                      if c.id in standing.costs)
    return Digest(
        lang=lang,
        costs=costs,
        contract_id=k.id,
        contract_title=k.title,
        provider=k.provider,
        customer=k.customer,
        timezone=k.timezone,
        run_id=info.run_id,
        as_of=ev.as_of,
        events=detection.events,
        open_breaches=len(detection.open_breaches),
    )


def notify(
    prior: Prior,
    ev: Evaluation,
    info: RunInfo,
    config: AlertConfig | None,
    *,
    env: Mapping[str, str] | None = None,
    http: httpx.Client | None = None,
    sleep: Callable[[float], None] | None = None,
    standing: Standing | None = None,
) -> AlertOutcome:
    """Detect this run's events and deliver them (no channels: detect only)."""
    detection = detect(prior, ev, config.rules if config is not None else Rules())
    digest = make_digest(ev, info, detection, standing)
    deliveries: Sequence[Delivery] = ()
    if config is not None:
        kwargs: dict[str, Any] = {"env": env, "http": http}
        if sleep is not None:
            kwargs["sleep"] = sleep
        deliveries = deliver(digest, config, **kwargs)
    return AlertOutcome(digest=digest, deliveries=tuple(deliveries))


def test_digest(now: datetime) -> Digest:
    """The message ``clausewatch alert test`` sends."""
    event = Event(
        kind=EventKind.TEST,
        key="clausewatch-test",
        commitment_id="test",
        clause="Test",
        title="ClauseWatch test message",
        subject=socket.gethostname(),
        label=socket.gethostname(),
        status="test",
        reason="If you read this, this channel is configured correctly. No action needed.",
    )
    return Digest(
        contract_id="clausewatch-test",
        contract_title="channel test",
        provider="ClauseWatch",
        customer="you",
        timezone=ZoneInfo("UTC"),
        run_id="test",
        as_of=now,
        events=(event,),
        open_breaches=0,
    )


def send_test(
    config: AlertConfig,
    now: datetime,
    *,
    env: Mapping[str, str] | None = None,
    http: httpx.Client | None = None,
) -> list[Delivery]:
    """Send the test message everywhere; PagerDuty gets a trigger then a resolve of a test key."""
    deliveries = deliver(test_digest(now), config, env=env, http=http)
    pd = [c for c in config.channels if c.type == "pagerduty"]
    if pd:
        resolve = replace(
            test_digest(now),
            events=(replace(test_digest(now).events[0], kind=EventKind.CURED, how="test"),),
        )
        follow = deliver(resolve, replace(config, channels=tuple(pd)), env=env, http=http)
        by_name = {d.channel: d for d in follow}
        deliveries = [
            replace(d, detail=f"{d.detail}; {by_name[d.channel].detail}", ok=d.ok and
                    by_name[d.channel].ok) if d.channel in by_name else d
            for d in deliveries
        ]
    return deliveries
