"""Send a run's digest to every configured channel: bounded retries, redacted logs, never raises.

Each channel gets one message per run holding the events it wants, sent by the ``send`` of its
type's spec in the channel registry; a type whose spec needs HTTP always gets a client (the
caller's, or one opened here for the call). A failed delivery is retried
(tenacity: exponential back-off, a bounded number of attempts, only for errors that may pass:
timeouts, refused connections, HTTP 429/5xx, SMTP 4xx), then logged and reported as a failed
``Delivery``; it never fails the run nor changes its exit code. Secrets read from the environment
(webhook URLs, routing keys, passwords) are scrubbed from every detail and log line, including
httpx's own request logs.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from clausewatch.alerts.channels.base import Context, DeliveryError
from clausewatch.alerts.channels.registry import channel as channel_spec
from clausewatch.alerts.config import AlertConfig, ChannelConfig
from clausewatch.alerts.message import Digest, for_channel
from clausewatch.core.redact import Redactor, ScrubFilter
from clausewatch.history.store import Delivery

log = logging.getLogger("clausewatch.alerts")


def redact(text: str, secrets: list[str]) -> str:
    """``text`` with every channel secret (webhook URLs, keys, passwords) masked."""
    return Redactor(secrets).text(text)


class _Scrub(ScrubFilter):
    """Scrubs secrets from records of the HTTP libraries (httpx logs every request URL)."""

    def __init__(self, secrets: list[str]) -> None:
        super().__init__(Redactor())
        self.secrets = secrets  # the channel's list: it grows as the sender reads secrets

    def filter(self, record: logging.LogRecord) -> bool:
        for secret in self.secrets:
            self.redactor.add(secret)
        return super().filter(record)


#: Loggers a delivery's records come from. A logger's filter sees only its own records, not
#: its children's, so httpcore's are named one by one (its traces hold response headers).
SCRUBBED_LOGGERS = ("httpx", "httpcore", "httpcore.connection", "httpcore.http11",
                    "httpcore.http2", "httpcore.proxy", "httpcore.socks", "clausewatch.alerts")


@contextmanager
def _scrubbed(secrets: list[str]) -> Iterator[None]:
    scrub = _Scrub(secrets)
    loggers = [logging.getLogger(n) for n in SCRUBBED_LOGGERS]
    for logger in loggers:
        logger.addFilter(scrub)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(scrub)


def _needs_http(channel: ChannelConfig) -> bool:
    spec = channel_spec(channel.type)
    return spec is not None and spec.needs_http


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, DeliveryError) and exc.retryable


def deliver(
    digest: Digest,
    config: AlertConfig,
    *,
    env: Mapping[str, str] | None = None,
    http: httpx.Client | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[Delivery]:
    """Deliver ``digest`` to each channel; return one ``Delivery`` per channel."""
    env = os.environ if env is None else env
    own = http is None and any(_needs_http(c) for c in config.channels)
    client = httpx.Client(follow_redirects=False) if own else http
    try:
        return [
            _one(digest, channel, config, env, client, sleep) for channel in config.channels
        ]
    finally:
        if own and client is not None:
            client.close()


def _one(
    digest: Digest,
    channel: ChannelConfig,
    config: AlertConfig,
    env: Mapping[str, str],
    client: httpx.Client | None,
    sleep: Callable[[float], None],
) -> Delivery:
    events = [e for e in digest.events if channel.wants(e.kind)]
    if not events:
        return Delivery(channel=channel.name, type=channel.type, ok=True, attempts=0, events=0,
                        detail="nothing to send")
    spec = channel_spec(channel.type)
    if spec is None:  # only a configuration built in code can get here: the schema refuses it
        detail = f"unknown channel type {channel.type!r}"
        log.error("alert channel %s: delivery failed: %s", channel.name, detail)
        return Delivery(channel=channel.name, type=channel.type, ok=False, attempts=0,
                        events=len(events), detail=detail)
    ctx = Context(
        config=channel,
        env=env,
        http=client if spec.needs_http else None,
        timeout=config.timeout_seconds,
        base_dir=config.base_dir,
    )
    retry = config.retry
    retrying = Retrying(
        stop=stop_after_attempt(retry.attempts),
        wait=wait_exponential(multiplier=retry.initial_wait_seconds, max=retry.max_wait_seconds),
        retry=retry_if_exception(_retryable),
        reraise=True,
        sleep=sleep,
        before_sleep=lambda state: log.warning(
            "alert channel %s: attempt %d failed (%s); retrying",
            channel.name,
            state.attempt_number,
            redact(str(state.outcome.exception()) if state.outcome else "?", ctx.secrets),
        ),
    )
    with _scrubbed(ctx.secrets):
        try:
            detail = retrying(spec.send, for_channel(digest, events), ctx)
            ok = True
        except DeliveryError as exc:
            detail, ok = str(exc), False
        except Exception as exc:  # a channel bug must not fail the run either
            detail, ok = f"{type(exc).__name__}: {exc}", False
        attempts = int(retrying.statistics.get("attempt_number", 1))
        detail = redact(detail, ctx.secrets)
        if ok:
            log.info("alert channel %s: %d event(s) delivered (%s)", channel.name, len(events),
                     detail)
        else:
            log.error("alert channel %s: delivery failed after %d attempt(s): %s", channel.name,
                      attempts, detail)
    return Delivery(channel=channel.name, type=channel.type, ok=ok, attempts=attempts,
                    events=len(events), detail=detail)


def outbox_config(path: Path) -> AlertConfig:
    """A configuration with only a local outbox (the demo)."""
    return AlertConfig(
        channels=(ChannelConfig(name="outbox", type="outbox", options={"path": path.name}),),
        base_dir=path.parent,
    )
