"""Where notifications and exports go: Slack, email, Mailchimp and Klaviyo settings.

Part of :mod:`analytics_pipeline.settings` (read from the same environment by
``Settings.from_env``); kept apart because each channel brings its own secrets and checks.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from analytics_pipeline.settings.parsing import SettingsError, env_number, optional_path

# Secrets that ``NotifySettings`` holds, with the variable each comes from.
NOTIFY_SECRETS = {
    "slack_webhook_url": "ANALYTICS_SLACK_WEBHOOK_URL",
    "slack_bot_token": "ANALYTICS_SLACK_BOT_TOKEN",
    "sendgrid_api_key": "ANALYTICS_SENDGRID_API_KEY",
    "smtp_url": "ANALYTICS_SMTP_URL",
}
SMTP_SCHEMES = ("smtp://", "smtps://", "smtp+starttls://")


@dataclass(frozen=True)
class NotifySettings:
    """Where inventory alerts are sent (``Settings.notify``); no channel set: none sent.

    Secrets and e-mail addresses stay out of ``repr``. ``from_process_env`` records that
    the secrets came from ``os.environ``: the Dagster resources then name the variables
    (``dg.EnvVar``) instead of holding the values, so the UI never shows a token.

    Attributes
    ----------
    slack_webhook_url, slack_bot_token, slack_channel
        An incoming-webhook URL, or a bot token (``xoxb-``) plus the channel to post in.
    sendgrid_api_key, smtp_url
        SendGrid, or an SMTP server ``smtp://``, ``smtp+starttls://`` or
        ``smtps://[user:password@]host[:port]``.
    email_to, email_from
        Comma-separated recipients and the sender address of the e-mails.
    cooldown_hours
        The same alert (type and product) is not sent again on a channel within this time.
    outbox_db
        SQLite outbox of messages until delivered; default ``notify.sqlite`` beside the
        DuckDB file (``data/`` for BigQuery).
    """

    slack_webhook_url: str | None = dataclasses.field(default=None, repr=False)
    slack_bot_token: str | None = dataclasses.field(default=None, repr=False)
    slack_channel: str | None = None
    sendgrid_api_key: str | None = dataclasses.field(default=None, repr=False)
    smtp_url: str | None = dataclasses.field(default=None, repr=False)
    email_to: str = dataclasses.field(default="", repr=False)
    email_from: str | None = dataclasses.field(default=None, repr=False)
    cooldown_hours: float = 24.0
    outbox_db: Path | None = None
    from_process_env: bool = False

    def __post_init__(self) -> None:
        if self.slack_bot_token and not self.slack_channel:
            raise SettingsError("ANALYTICS_SLACK_BOT_TOKEN needs ANALYTICS_SLACK_CHANNEL")
        if self.smtp_url and not self.smtp_url.startswith(SMTP_SCHEMES):
            raise SettingsError("ANALYTICS_SMTP_URL must start with " + ", ".join(SMTP_SCHEMES))
        if (self.sendgrid_api_key or self.smtp_url) and not (self.email_to and self.email_from):
            raise SettingsError(
                "e-mail alerts need ANALYTICS_ALERT_EMAIL_TO and ANALYTICS_ALERT_EMAIL_FROM"
            )
        if self.cooldown_hours < 0:
            raise SettingsError("ANALYTICS_ALERT_COOLDOWN_HOURS must be >= 0")

    @classmethod
    def from_env(cls, env: Mapping[str, str], from_process_env: bool = False) -> NotifySettings:
        def secret(name: str) -> str | None:
            return env.get(NOTIFY_SECRETS[name]) or None

        return cls(
            slack_webhook_url=secret("slack_webhook_url"),
            slack_bot_token=secret("slack_bot_token"),
            sendgrid_api_key=secret("sendgrid_api_key"),
            smtp_url=secret("smtp_url"),
            slack_channel=env.get("ANALYTICS_SLACK_CHANNEL") or None,
            email_to=env.get("ANALYTICS_ALERT_EMAIL_TO", ""),
            email_from=env.get("ANALYTICS_ALERT_EMAIL_FROM") or None,
            cooldown_hours=env_number(env, "ANALYTICS_ALERT_COOLDOWN_HOURS", 24.0),
            outbox_db=optional_path(env.get("ANALYTICS_OUTBOX_DB")),
            from_process_env=from_process_env,
        )

    def secret(self, name: str) -> tuple[str | None, str | None]:
        """A secret's value and, if it came from the process environment, its variable."""
        value: str | None = getattr(self, name)
        return value, (NOTIFY_SECRETS[name] if value and self.from_process_env else None)


# Secrets that ``ExportSettings`` holds, with the variable each comes from.
EXPORT_SECRETS = {
    "mailchimp_api_key": "ANALYTICS_MAILCHIMP_API_KEY",
    "klaviyo_api_key": "ANALYTICS_KLAVIYO_API_KEY",
}


@dataclass(frozen=True)
class ExportSettings:
    """Where segment exports go (``Settings.exports``); API keys stay out of ``repr``.

    Attributes
    ----------
    mailchimp_api_key, mailchimp_server, mailchimp_audience_id
        Marketing API key, its data centre (``us6``; default: the key's suffix after
        ``-``) and the audience (list) members are upserted into.
    klaviyo_api_key, klaviyo_list_id
        Private API key (``pk_...``) and the list imported profiles join.
    mailchimp_base_url, klaviyo_base_url
        API roots, overridable for local fakes (``ANALYTICS_MAILCHIMP_BASE_URL``, ...).
    ledger_db
        SQLite ledger of members sent per export; default ``exports.sqlite`` beside the
        DuckDB file (``ANALYTICS_EXPORT_LEDGER_DB``).
    """

    mailchimp_api_key: str | None = dataclasses.field(default=None, repr=False)
    mailchimp_server: str | None = None
    mailchimp_audience_id: str | None = None
    mailchimp_base_url: str | None = None
    klaviyo_api_key: str | None = dataclasses.field(default=None, repr=False)
    klaviyo_list_id: str | None = None
    klaviyo_base_url: str | None = None
    ledger_db: Path | None = None
    from_process_env: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str], from_process_env: bool = False) -> ExportSettings:
        return cls(
            mailchimp_api_key=env.get(EXPORT_SECRETS["mailchimp_api_key"]) or None,
            mailchimp_server=env.get("ANALYTICS_MAILCHIMP_SERVER") or None,
            mailchimp_audience_id=env.get("ANALYTICS_MAILCHIMP_AUDIENCE_ID") or None,
            mailchimp_base_url=env.get("ANALYTICS_MAILCHIMP_BASE_URL") or None,
            klaviyo_api_key=env.get(EXPORT_SECRETS["klaviyo_api_key"]) or None,
            klaviyo_list_id=env.get("ANALYTICS_KLAVIYO_LIST_ID") or None,
            klaviyo_base_url=env.get("ANALYTICS_KLAVIYO_BASE_URL") or None,
            ledger_db=optional_path(env.get("ANALYTICS_EXPORT_LEDGER_DB")),
            from_process_env=from_process_env,
        )

    def secret(self, name: str) -> tuple[str | None, str | None]:
        """A secret's value and, if it came from the process environment, its variable."""
        value: str | None = getattr(self, name)
        return value, (EXPORT_SECRETS[name] if value and self.from_process_env else None)
