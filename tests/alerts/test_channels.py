"""Delivery to local HTTP servers: payloads, retries after failures, redaction, never raising."""

from __future__ import annotations

import json
import logging
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from nights import B, C, contract, evaluation, info, night

from clausewatch.alerts.config import AlertConfig, ChannelConfig, Retry
from clausewatch.alerts.deliver import deliver
from clausewatch.alerts.events import EventKind, Rules, detect
from clausewatch.alerts.notify import make_digest, send_test
from clausewatch.history.store import Prior, open_history

SECRET_PATH = "/hooks/T000/B000/s3cr3t-t0k3n"


class Server:
    """A loopback HTTP server answering with the scripted status codes, then 200."""

    def __init__(self, codes: list[int] | None = None) -> None:
        self.codes = list(codes or [])
        self.requests: list[tuple[str, dict, dict]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                outer.requests.append((self.path, dict(self.headers), json.loads(body)))
                code = outer.codes.pop(0) if outer.codes else 200
                payload = b'{"status":"success"}' if code < 300 else b'{"error":"no"}'
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}{SECRET_PATH}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    yield s
    s.close()


def config(*channels: ChannelConfig, attempts: int = 3) -> AlertConfig:
    return AlertConfig(channels=channels, retry=Retry(attempts=attempts, initial_wait_seconds=0,
                                                      max_wait_seconds=0), timeout_seconds=5)


def digest(statuses=None, prior=None):
    k = contract()
    ev = evaluation(k, night(0), statuses or {"srv-1": B, "srv-2": B, "srv-3": C})
    return make_digest(ev, info(night(0), "r1"), detect(prior or Prior(), ev, Rules()))


def channel(kind: str, **options) -> ChannelConfig:
    return ChannelConfig(name=kind, type=kind, options={"url_env": "HOOK_URL", **options})


ENV = {"HOOK_URL": "", "PD_KEY": "R0UT1NGKEY"}


def env(url: str) -> dict[str, str]:
    return {**ENV, "HOOK_URL": url}


def test_generic_webhook_sends_one_grouped_json(server):
    (d,) = deliver(digest(), config(channel("webhook")), env=env(server.url))
    assert (d.ok, d.attempts, d.events, d.detail) == (True, 1, 2, "HTTP 200")
    ((path, headers, body),) = server.requests
    assert path == SECRET_PATH and headers["Content-Type"] == "application/json"
    assert body["status"] == "firing" and body["open_breaches"] == 2
    assert body["counts"] == {"breached": 2}
    assert [e["subject"] for e in body["events"]] == ["srv-1", "srv-2"]
    assert body["events"][0]["key"] and body["contract"]["id"] == "ctr-1"


def test_slack_and_teams_payloads(server):
    cfg = config(channel("slack"), channel("teams"))
    deliveries = deliver(digest(), cfg, env=env(server.url))
    assert [d.ok for d in deliveries] == [True, True]
    slack, teams = (r[2] for r in server.requests)
    assert slack["text"].startswith("ClauseWatch: Test contract: 2 newly breached")
    assert slack["blocks"][0]["type"] == "header"
    assert "*Newly breached (2)*" in slack["blocks"][2]["text"]["text"]
    (attachment,) = teams["attachments"]
    assert teams["type"] == "message"
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    assert card["body"][0]["color"] == "Attention"
    assert any("SRV-1" in b.get("text", "") for b in card["body"])


def test_pagerduty_triggers_then_resolves_on_one_dedup_key(server):
    pd = ChannelConfig(name="pd", type="pagerduty",
                       options={"routing_key_env": "PD_KEY", "url": server.url})
    first = digest()
    (d,) = deliver(first, config(pd), env=ENV)
    assert d.ok and d.detail == "trigger: HTTP 200"
    k = contract()
    # the next night the breaches are cured: the same dedup key is resolved
    with tempfile.TemporaryDirectory() as tmp, open_history(Path(tmp) / "h.sqlite") as store:
        ev0 = evaluation(k, night(0), {"srv-1": B, "srv-2": B})
        store.record(ev0, info(night(0), 0), contract_text="")
        ev1 = evaluation(k, night(1), {"srv-1": C, "srv-2": C})
        cured = make_digest(ev1, info(night(1), 1), detect(store.prior(k.id), ev1, Rules()))
    (d,) = deliver(cured, config(pd), env=ENV)
    assert d.ok and d.detail == "resolve: HTTP 200"
    trigger, resolve = (r[2] for r in server.requests)
    assert trigger["event_action"] == "trigger" and resolve["event_action"] == "resolve"
    assert trigger["dedup_key"] == resolve["dedup_key"] == first.group_key
    assert trigger["routing_key"] == "R0UT1NGKEY"
    assert trigger["payload"]["severity"] == "error" and trigger["payload"]["source"]
    assert len(trigger["payload"]["summary"]) <= 1024


def test_a_server_that_fails_then_recovers():
    flaky = Server([503, 500])
    try:
        slept: list[float] = []
        cfg = AlertConfig(channels=(channel("webhook"),),
                          retry=Retry(attempts=4, initial_wait_seconds=1, max_wait_seconds=30))
        (d,) = deliver(digest(), cfg, env=env(flaky.url), sleep=slept.append)
        assert (d.ok, d.attempts, d.detail) == (True, 3, "HTTP 200")
        assert len(flaky.requests) == 3
        assert slept == [1, 2]  # exponential back-off, bounded
    finally:
        flaky.close()


def test_a_failed_delivery_is_reported_not_raised_and_secrets_are_redacted(caplog):
    down = Server([500] * 10)
    try:
        caplog.set_level(logging.DEBUG)
        cfg = config(channel("webhook"), channel("slack"), attempts=3)
        deliveries = deliver(digest(), cfg, env=env(down.url))
        assert [(d.ok, d.attempts, d.detail) for d in deliveries] == [
            (False, 3, "HTTP 500"), (False, 3, "HTTP 500")]
        assert len(down.requests) == 6
        assert "delivery failed after 3 attempt(s)" in caplog.text
        assert "s3cr3t-t0k3n" not in caplog.text  # httpx logs the URL: scrubbed
        assert "[REDACTED]" in caplog.text
    finally:
        down.close()


def test_client_errors_are_not_retried_and_plain_http_is_refused():
    bad = Server([400])
    try:
        (d,) = deliver(digest(), config(channel("webhook")), env=env(bad.url))
        assert (d.ok, d.attempts) == (False, 1) and d.detail.startswith("HTTP 400")
    finally:
        bad.close()
    (d,) = deliver(digest(), config(channel("slack")),
                   env=env("http://hooks.example.com/services/s3cr3t"))
    assert not d.ok and d.attempts == 1 and "use https" in d.detail
    assert "s3cr3t" not in d.detail
    (d,) = deliver(digest(), config(channel("webhook")), env={})
    assert not d.ok and d.detail == "environment variable HOOK_URL is not set"


def test_channels_get_only_the_events_they_want(server):
    quiet = ChannelConfig(name="quiet", type="webhook", events=frozenset({EventKind.CURED}),
                          options={"url_env": "HOOK_URL"})
    (d,) = deliver(digest(), config(quiet), env=env(server.url))
    assert (d.ok, d.attempts, d.events, d.detail) == (True, 0, 0, "nothing to send")
    assert server.requests == []


def test_alert_test_reaches_every_channel(server):
    pd = ChannelConfig(name="pd", type="pagerduty",
                       options={"routing_key_env": "PD_KEY", "url": server.url})
    cfg = config(channel("webhook"), channel("slack"), channel("teams"), pd)
    deliveries = send_test(cfg, datetime(2026, 11, 22, tzinfo=UTC), env=env(server.url))
    assert all(d.ok for d in deliveries), deliveries
    actions = [r[2].get("event_action") for r in server.requests]
    assert actions == [None, None, None, "trigger", "resolve"]
    assert server.requests[0][2]["counts"] == {"test": 1}
