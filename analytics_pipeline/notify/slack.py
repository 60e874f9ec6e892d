"""Slack through slack-sdk: an incoming webhook, or a bot token with ``chat.postMessage``.

slack-sdk's own retry handlers are switched off: retrying is the outbox's job, with one
backoff policy for every channel and every attempt recorded. Its logger is held at
WARNING because at DEBUG it writes the request URL (a webhook URL is a secret) and headers.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.webhook import WebhookClient

from analytics_pipeline.notify.channels import DeliveryError, Payload, retry_after_seconds, scrub
from analytics_pipeline.notify.digest import Digest

SLACK_API_URL = "https://slack.com/api/"
# chat.postMessage errors that the same request will always get again.
PERMANENT_ERRORS = frozenset({
    "channel_not_found", "not_in_channel", "is_archived", "msg_too_long", "no_text",
    "invalid_blocks", "msg_blocks_too_long", "too_many_attachments", "invalid_auth",
    "not_authed", "token_revoked", "account_inactive", "missing_scope", "restricted_action",
    "invalid_arguments",
})

_QUIET = logging.getLogger("analytics_pipeline.notify.slack_sdk")
_QUIET.setLevel(logging.WARNING)


def _render(digest: Digest) -> dict[str, Any]:
    return {"text": digest.slack.text, "blocks": digest.slack.blocks}


class SlackWebhookChannel:
    """An incoming webhook: 200 ``ok``, or an HTTP status with a plain-text reason."""

    name = "slack"

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self._url = url
        self._client = WebhookClient(url, timeout=int(timeout), retry_handlers=[], logger=_QUIET)

    def render(self, digest: Digest) -> dict[str, Any]:
        return _render(digest)

    def send(self, payload: Payload) -> str | None:
        try:
            response = self._client.send_dict(dict(payload))
        except (OSError, SlackClientError) as err:
            raise DeliveryError(self._clean(f"slack webhook unreachable: {err!r}")) from None
        status = response.status_code
        if status == 200:
            return None
        detail = self._clean(f"slack webhook HTTP {status}: {response.body}")
        if status == 429:
            raise DeliveryError(detail, retry_after=retry_after_seconds(response.headers))
        # 403 action_prohibited, 404 channel_not_found, 410 channel_is_archived and 400
        # invalid_payload/no_text repeat on every retry; 5xx and others are transient.
        raise DeliveryError(detail, permanent=400 <= status < 500)

    def _clean(self, text: str) -> str:
        return scrub(text, [self._url])


class SlackBotChannel:
    """A bot token posting with ``chat.postMessage`` (HTTP 200 ``{"ok": false}`` on errors)."""

    name = "slack"

    def __init__(
        self, token: str, channel: str, base_url: str = SLACK_API_URL, timeout: float = 10.0
    ) -> None:
        self._token = token
        self._channel = channel
        self._client = WebClient(
            token=token, base_url=base_url if base_url.endswith("/") else base_url + "/",
            timeout=int(timeout), retry_handlers=[], logger=_QUIET,
        )

    def render(self, digest: Digest) -> dict[str, Any]:
        return _render(digest)

    def send(self, payload: Payload) -> str | None:
        try:
            response = self._client.chat_postMessage(
                channel=self._channel, text=payload["text"], blocks=payload.get("blocks"),
                unfurl_links=False, unfurl_media=False,
            )
        except SlackApiError as err:
            raise self._error(err) from None
        except (OSError, SlackClientError) as err:
            raise DeliveryError(scrub(f"slack unreachable: {err!r}", [self._token])) from None
        return str(response.get("ts") or "") or None

    def _error(self, err: SlackApiError) -> DeliveryError:
        status = err.response.status_code
        data = err.response.data
        code = str(data.get("error", "")) if isinstance(data, dict) else ""
        detail = scrub(f"chat.postMessage HTTP {status}: {code or 'no error code'}",
                       [self._token])
        if status == 429 or code == "ratelimited":
            return DeliveryError(detail, retry_after=retry_after_seconds(err.response.headers))
        return DeliveryError(detail, permanent=status == 200 and code in PERMANENT_ERRORS)


def slack_channel(
    webhook_url: str | None, bot_token: str | None, channel: str | None,
    api_base_url: str = SLACK_API_URL, timeout: float = 10.0,
) -> SlackWebhookChannel | SlackBotChannel | None:
    """The configured Slack channel: the webhook if given, else the bot; ``None`` if neither."""
    if webhook_url:
        return SlackWebhookChannel(webhook_url, timeout)
    if bot_token and channel:
        return SlackBotChannel(bot_token, channel, api_base_url, timeout)
    return None
