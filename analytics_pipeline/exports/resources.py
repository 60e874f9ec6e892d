"""Dagster resources for the export destinations, configured from :class:`Settings`.

Both are "not configured" (``destination()`` returns ``None``) until their key and
audience/list are set; base URLs are overridable so tests talk to local fakes. Keys read
from the process environment are passed to Dagster by variable name (``dg.EnvVar``), so
the UI never shows them.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

from analytics_pipeline.exports.klaviyo import BASE_URL as KLAVIYO_URL
from analytics_pipeline.exports.klaviyo import KlaviyoDestination
from analytics_pipeline.exports.mailchimp import BASE_URL as MAILCHIMP_URL
from analytics_pipeline.exports.mailchimp import MailchimpDestination
from analytics_pipeline.settings import Settings


class MailchimpResource(dg.ConfigurableResource["MailchimpResource"]):
    """A Mailchimp audience: API key, data centre (default: the key's suffix), audience."""

    api_key: str | None = None
    server: str | None = None
    audience_id: str | None = None
    base_url: str = MAILCHIMP_URL
    timeout_seconds: float = 30.0
    backoff_seconds: float = 1.0

    def destination(self) -> MailchimpDestination | None:
        if not (self.api_key and self.audience_id):
            return None
        return MailchimpDestination(
            self.api_key, self.audience_id, server=self.server, base_url=self.base_url,
            timeout=self.timeout_seconds, backoff_seconds=self.backoff_seconds,
        )


class KlaviyoResource(dg.ConfigurableResource["KlaviyoResource"]):
    """A Klaviyo account (private API key) and the list exported profiles join."""

    api_key: str | None = None
    list_id: str | None = None
    base_url: str = KLAVIYO_URL
    timeout_seconds: float = 30.0
    backoff_seconds: float = 1.0
    poll_seconds: float = 1.0

    def destination(self) -> KlaviyoDestination | None:
        if not (self.api_key and self.list_id):
            return None
        return KlaviyoDestination(
            self.api_key, self.list_id, base_url=self.base_url, timeout=self.timeout_seconds,
            backoff_seconds=self.backoff_seconds, poll_seconds=self.poll_seconds,
        )


def export_resources(settings: Settings, by_variable: bool = True) -> dict[str, Any]:
    """``mailchimp`` and ``klaviyo`` for ``settings``; ``by_variable=False`` gives plain
    values (the API process uses the resources outside Dagster)."""
    exports = settings.exports

    def secret(name: str) -> Any:
        value, variable = exports.secret(name)
        return dg.EnvVar(variable) if variable and by_variable else value

    return {
        "mailchimp": MailchimpResource(
            api_key=secret("mailchimp_api_key"), server=exports.mailchimp_server,
            audience_id=exports.mailchimp_audience_id,
            base_url=exports.mailchimp_base_url or MAILCHIMP_URL,
        ),
        "klaviyo": KlaviyoResource(
            api_key=secret("klaviyo_api_key"), list_id=exports.klaviyo_list_id,
            base_url=exports.klaviyo_base_url or KLAVIYO_URL,
        ),
    }
