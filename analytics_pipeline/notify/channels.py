"""What every delivery channel offers, and how a failed send is described."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol

from analytics_pipeline.notify.digest import Digest

Payload = Mapping[str, Any]


class DeliveryError(Exception):
    """A send that did not go through.

    Parameters
    ----------
    detail
        What the service answered, without secrets or addresses (it is logged and stored).
    permanent
        Retrying unchanged cannot help (bad channel, revoked key, invalid message); the
        message is still kept and retried rarely, so fixing the setup delivers it.
    retry_after
        Seconds the service asked to wait (HTTP 429 ``Retry-After``).
    """

    def __init__(
        self, detail: str, *, permanent: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.permanent = permanent
        self.retry_after = retry_after


class Channel(Protocol):
    """A configured destination: ``slack`` or ``email``."""

    name: str

    def render(self, digest: Digest) -> dict[str, Any]:
        """The JSON-able payload this channel sends for ``digest`` (kept in the outbox)."""
        ...

    def send(self, payload: Payload) -> str | None:
        """Deliver ``payload``; return the service's message id if it gives one.

        Raises :class:`DeliveryError` when the message was not accepted.
        """
        ...


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float | None:
    """Seconds to wait from ``Retry-After`` (seconds or an HTTP date) or, failing that,
    SendGrid's ``X-RateLimit-Reset`` (epoch seconds); ``None`` if neither is usable."""
    lower = {k.lower(): v for k, v in headers.items()}
    moment = now or datetime.now(UTC)
    value = lower.get("retry-after")
    if value:
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                return max(0.0, (parsedate_to_datetime(value) - moment).total_seconds())
            except (TypeError, ValueError):
                pass
    reset = lower.get("x-ratelimit-reset")
    if reset:
        try:
            return max(0.0, float(reset) - moment.timestamp())
        except ValueError:
            return None
    return None


def scrub(text: str, secrets: Iterable[str | None], limit: int = 300) -> str:
    """``text`` with every secret replaced by ``***``, cut to ``limit`` characters."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text if len(text) <= limit else text[: limit - 1] + "…"
