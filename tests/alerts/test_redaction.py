"""Receivers that echo what they got: no secret, whole or in part, reaches a delivery's detail
or a log line; a redirect is a failed delivery, not a delivered one."""

from __future__ import annotations

import logging

import pytest
from echo_receivers import EchoReceiver
from nights import B, C, contract, evaluation, info, night

from clausewatch.alerts.config import AlertConfig, ChannelConfig, Retry
from clausewatch.alerts.deliver import deliver
from clausewatch.alerts.events import Rules, detect
from clausewatch.alerts.notify import make_digest
from clausewatch.history.store import Prior

HOOK_TOKEN, HOOK_QUERY = "hookPathCanary0a1b2c3d", "hookQueryCanary4e5f6a7b"
SLACK_T, SLACK_B, SLACK_SECRET = "T0CANARY7", "B0CANARY8X", "slackCanary9c8d7e6f5a4b3c2d"
TEAMS_ID, TEAMS_SIG = "teamsWorkflowCanary1f2e3d4c", "teamsSigCanary5b6a7f8e9d0c1b2a"
BEARER, ROUTING = "bearerCanary3a4b5c6d7e8f", "routingKeyCanary0f9e8d7c6b5a4"
CANARIES = (HOOK_TOKEN, HOOK_QUERY, SLACK_T, SLACK_B, SLACK_SECRET, TEAMS_ID, TEAMS_SIG, BEARER,
            ROUTING)


def config(*channels: ChannelConfig) -> AlertConfig:
    return AlertConfig(channels=channels, retry=Retry(attempts=3, initial_wait_seconds=0,
                                                      max_wait_seconds=0), timeout_seconds=5)


def digest():
    ev = evaluation(contract(), night(0), {"srv-1": B, "srv-2": B, "srv-3": C})
    return make_digest(ev, info(night(0), "r1"), detect(Prior(), ev, Rules()))


@pytest.fixture
def echo():
    receiver = EchoReceiver()
    yield receiver
    receiver.close()


def _env(base: str) -> dict[str, str]:
    return {
        "HOOK_URL": f"{base}/hooks/{HOOK_TOKEN}?token={HOOK_QUERY}",
        "HOOK_AUTH": f"Bearer {BEARER}",
        "SLACK_URL": f"{base}/services/{SLACK_T}/{SLACK_B}/{SLACK_SECRET}",
        "TEAMS_URL": f"{base}/workflows/{TEAMS_ID}/triggers/manual/paths/invoke?"
                     f"api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={TEAMS_SIG}",
        "PD_KEY": ROUTING,
    }


def _channels(base: str) -> list[ChannelConfig]:
    return [
        ChannelConfig(name="hook", type="webhook", options={
            "url_env": "HOOK_URL", "headers_env": {"Authorization": "HOOK_AUTH"}}),
        ChannelConfig(name="slack", type="slack", options={"url_env": "SLACK_URL"}),
        ChannelConfig(name="teams", type="teams", options={"url_env": "TEAMS_URL"}),
        ChannelConfig(name="pd", type="pagerduty", options={
            "routing_key_env": "PD_KEY", "url": f"{base}/v2/enqueue"}),
    ]


def test_echoed_secrets_never_reach_details_or_logs(echo, caplog):
    caplog.set_level(logging.DEBUG)
    deliveries = deliver(digest(), config(*_channels(echo.base)), env=_env(echo.base))
    assert [(d.channel, d.ok, d.attempts) for d in deliveries] == [
        ("hook", False, 1), ("slack", False, 1), ("teams", False, 1), ("pd", False, 1)]
    # the receivers did echo them (else this test proves nothing)
    echoed = "".join(str(r) for r in echo.requests)
    assert all(c in echoed for c in CANARIES)
    text = "\n".join(d.detail for d in deliveries) + caplog.text
    for canary in CANARIES:
        for piece in (canary, canary[:10], canary[-10:]):
            assert piece not in text, (piece, text)
    hook, slack, teams, pd = deliveries
    assert hook.detail.startswith("HTTP 400: ") and "[REDACTED]" in hook.detail
    assert slack.detail.startswith("HTTP 404: no_service")
    assert teams.detail.startswith("HTTP 302: redirected to https://moved.example[REDACTED]")
    assert "not delivered" in teams.detail
    assert pd.detail.startswith("trigger: HTTP 400") or pd.detail.startswith("HTTP 400")


@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_failed_delivery_never_retried(code, echo):
    hook = ChannelConfig(name="hook", type="webhook", options={"url_env": "HOOK_URL"})
    url = f"{echo.base}/status/{code}/{HOOK_TOKEN}"
    (d,) = deliver(digest(), config(hook), env={"HOOK_URL": url})
    assert (d.ok, d.attempts) == (False, 1)
    assert d.detail.startswith(f"HTTP {code}: redirected") and "not delivered" in d.detail
    assert HOOK_TOKEN not in d.detail and len(echo.requests) == 1
