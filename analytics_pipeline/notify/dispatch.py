"""Queue alerts in the outbox (cooldown applied) and deliver what is due (backoff applied).

Delivery is at-least-once per message and retried until a channel accepts it; a message
is marked sent right after the channel accepts it, so only a crash between those two
steps can repeat one (Slack webhooks have no idempotency key to prevent that).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from analytics_pipeline.notify.alerts import Alert
from analytics_pipeline.notify.channels import Channel, DeliveryError
from analytics_pipeline.notify.digest import build_digest
from analytics_pipeline.notify.outbox import Outbox, OutboxMessage

# The cooldown is applied with an eighth of slack (3 h of 24 h): the next morning's digest
# may start a little earlier than yesterday's (refresh times vary, clocks change), and a
# condition that persists should still appear in it.
COOLDOWN_SLACK = 0.125

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff: ``base * 2**(attempts-1)`` capped at ``cap``; a 429's
    ``Retry-After`` is waited out in the run if short, else the next try waits at least that
    long. Permanent errors wait ``cap`` so a fixed setup still delivers."""

    base: timedelta = timedelta(minutes=1)
    cap: timedelta = timedelta(hours=6)
    max_inline_wait: float = 30.0
    max_inline_tries: int = 3
    lease: timedelta = timedelta(minutes=5)

    def delay(self, attempts: int, error: DeliveryError) -> timedelta:
        if error.permanent:
            return self.cap
        backoff = min(self.base * (1 << min(max(attempts - 1, 0), 30)), self.cap)
        if error.retry_after is not None:
            return max(backoff, timedelta(seconds=error.retry_after))
        return backoff


@dataclass
class Delivery:
    """What one call did."""

    queued: list[str] = field(default_factory=list)
    suppressed: dict[str, int] = field(default_factory=dict)
    sent: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)

    def metadata(self) -> dict[str, Any]:
        return {"queued": len(self.queued), "sent": len(self.sent), "failed": len(self.failed),
                "held_back_by_cooldown": sum(self.suppressed.values())}


def configured(*channels: Channel | None) -> dict[str, Channel]:
    """The channels that are set up, by name."""
    return {channel.name: channel for channel in channels if channel is not None}


def queue_alerts(
    outbox: Outbox, channels: Mapping[str, Channel], alerts: Sequence[Alert], *, kind: str,
    title: str, cooldown: timedelta, now: datetime, currency: str = "USD",
) -> Delivery:
    """One message per channel with the alerts not sent on it within ``cooldown``."""
    result = Delivery()
    quiet_since = now - cooldown * (1 - COOLDOWN_SLACK)
    for name, channel in channels.items():
        def render(fresh: Sequence[Alert], held: int, channel: Channel = channel) -> dict[str, Any]:
            note = f"{held} alert(s) sent in the last {_hours(cooldown)} are not repeated."
            return channel.render(build_digest(fresh, title, note if held else "", currency))

        queued = outbox.enqueue(name, kind, alerts, render, now, quiet_since)
        result.suppressed[name] = queued.suppressed
        if queued.message_id:
            result.queued.append(queued.message_id)
    return result


def deliver_due(
    outbox: Outbox, channels: Mapping[str, Channel], log: logging.Logger,
    policy: RetryPolicy | None = None, clock: Clock | None = None,
    sleep: Callable[[float], None] = time.sleep, result: Delivery | None = None,
) -> Delivery:
    """Try every due message once (short 429 waits retried in place); failures stay queued."""
    policy, now_of = policy or RetryPolicy(), clock or (lambda: datetime.now(UTC))
    result = result or Delivery()
    for message in outbox.claim_due(list(channels), now_of(), policy.lease):
        _deliver(outbox, channels[message.channel], message, log, policy, now_of, sleep, result)
    return result


def _deliver(
    outbox: Outbox, channel: Channel, message: OutboxMessage, log: logging.Logger,
    policy: RetryPolicy, now_of: Clock, sleep: Callable[[float], None], result: Delivery,
) -> None:
    attempts = message.attempts
    for inline_try in range(1, policy.max_inline_tries + 1):
        attempts += 1
        try:
            provider_id = channel.send(message.payload)
        except DeliveryError as err:
            wait = err.retry_after
            if (wait is not None and wait <= policy.max_inline_wait
                    and inline_try < policy.max_inline_tries):
                outbox.mark_failed(message.message_id, err.detail, now_of() + policy.lease)
                log.info(f"{message.channel}: {message.message_id} throttled, retrying in "
                         f"{wait:g} s")
                sleep(wait)
                continue
            retry_at = now_of() + policy.delay(attempts, err)
            outbox.mark_failed(message.message_id, err.detail, retry_at)
            result.failed[message.message_id] = err.detail
            log.warning(f"{message.channel}: {message.message_id} not delivered (attempt "
                        f"{attempts}, {'permanent' if err.permanent else 'transient'}): "
                        f"{err.detail}; kept in the outbox, next try {retry_at:%Y-%m-%d %H:%M}Z")
            return
        outbox.mark_sent(message.message_id, now_of(), provider_id)
        result.sent.append(message.message_id)
        log.info(f"{message.channel}: {message.message_id} delivered (attempt {attempts})")
        return


def _hours(span: timedelta) -> str:
    hours = span.total_seconds() / 3600
    return f"{hours:g} h"
