"""E-mail: SendGrid's v3 Mail Send through the ``sendgrid`` library, or plain SMTP.

(Named ``mail`` so it never shadows the standard library's ``email``, which smtplib uses.)
Errors name status codes only: SMTP replies often quote the refused address, and
addresses are personal data that stay out of logs and the outbox.
"""

from __future__ import annotations

import json
import logging
import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import make_msgid
from typing import Any
from urllib.parse import unquote, urlsplit

from python_http_client.exceptions import HTTPError
from sendgrid import SendGridAPIClient
from sendgrid.helpers.mail import Category, Mail

from analytics_pipeline.notify.channels import DeliveryError, Payload, retry_after_seconds
from analytics_pipeline.notify.digest import Digest

SENDGRID_HOST = "https://api.sendgrid.com"
SMTP_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}

# python_http_client logs the Authorization header at DEBUG.
logging.getLogger("python_http_client.client").setLevel(logging.INFO)


def _render(digest: Digest) -> dict[str, Any]:
    return {"subject": digest.email.subject, "text": digest.email.text,
            "html": digest.email.html}


def recipients(addresses: str) -> list[str]:
    """Comma-separated addresses, each once, in the given order."""
    seen: dict[str, None] = {}
    for address in addresses.split(","):
        if address.strip():
            seen.setdefault(address.strip(), None)
    return list(seen)


class SendGridChannel:
    """``POST /v3/mail/send``: 202 with an ``X-Message-Id``, or JSON ``errors``."""

    name = "email"

    def __init__(
        self, api_key: str, sender: str, to: Sequence[str], host: str = SENDGRID_HOST,
        timeout: float = 10.0,
    ) -> None:
        self._sender, self._to = sender, list(to)
        self._client = SendGridAPIClient(api_key=api_key, host=host.rstrip("/"))
        self._client.client.timeout = timeout

    def render(self, digest: Digest) -> dict[str, Any]:
        return _render(digest)

    def send(self, payload: Payload) -> str | None:
        message = Mail(from_email=self._sender, to_emails=self._to, subject=payload["subject"],
                       plain_text_content=payload["text"], html_content=payload["html"])
        message.category = Category("inventory-alerts")
        try:
            response = self._client.send(message)
        except HTTPError as err:
            status = int(err.status_code)
            detail = f"sendgrid HTTP {status}: {_sendgrid_errors(err.body)}"
            if status == 429:
                headers = dict(err.headers.items()) if err.headers else {}
                raise DeliveryError(detail, retry_after=retry_after_seconds(headers)) from None
            raise DeliveryError(detail, permanent=400 <= status < 500) from None
        except OSError as err:
            raise DeliveryError(f"sendgrid unreachable: {type(err).__name__}") from None
        if response.status_code not in (200, 202):
            raise DeliveryError(f"sendgrid HTTP {response.status_code}")
        message_id = response.headers.get("X-Message-Id")
        return str(message_id) if message_id else None


def _sendgrid_errors(body: object) -> str:
    """The ``errors[].message`` texts, which describe the request, not the recipients."""
    try:
        data = json.loads(body.decode() if isinstance(body, bytes) else str(body))
        messages = [str(e.get("message", "")) for e in data.get("errors", [])]
        return "; ".join(m for m in messages if m)[:300] or "no error message"
    except (ValueError, AttributeError, TypeError):
        return "unreadable error body"


class SmtpChannel:
    """An SMTP server: ``smtp://`` (plain), ``smtp+starttls://`` or ``smtps://`` (TLS)."""

    name = "email"

    def __init__(self, url: str, sender: str, to: Sequence[str], timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        self._scheme = parts.scheme
        self._host = parts.hostname or "localhost"
        self._port = parts.port or SMTP_PORTS[parts.scheme]
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._sender, self._to, self._timeout = sender, list(to), timeout

    def render(self, digest: Digest) -> dict[str, Any]:
        return _render(digest)

    def send(self, payload: Payload) -> str | None:
        message = EmailMessage()
        message["Subject"], message["From"] = payload["subject"], self._sender
        message["To"] = ", ".join(self._to)
        message["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or None)
        message.set_content(payload["text"])
        message.add_alternative(payload["html"], subtype="html")
        try:
            with self._connect() as smtp:
                if self._user:
                    smtp.login(self._user, self._password or "")
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as err:
            codes = sorted({code for code, _ in err.recipients.values()})
            raise DeliveryError(f"SMTP recipients refused {codes}",
                                permanent=all(c >= 500 for c in codes)) from None
        except smtplib.SMTPResponseException as err:
            raise DeliveryError(f"SMTP {err.smtp_code} ({type(err).__name__})",
                                permanent=err.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as err:
            raise DeliveryError(f"SMTP server unreachable: {type(err).__name__}") from None
        return str(message["Message-ID"])

    def _connect(self) -> smtplib.SMTP:
        if self._scheme == "smtps":
            return smtplib.SMTP_SSL(self._host, self._port, timeout=self._timeout,
                                    context=ssl.create_default_context())
        smtp = smtplib.SMTP(self._host, self._port, timeout=self._timeout)
        if self._scheme == "smtp+starttls":
            try:
                smtp.starttls(context=ssl.create_default_context())
            except BaseException:
                smtp.close()
                raise
        return smtp


def email_channel(
    sendgrid_api_key: str | None, smtp_url: str | None, sender: str | None, to: str,
    sendgrid_host: str = SENDGRID_HOST, timeout: float = 10.0,
) -> SendGridChannel | SmtpChannel | None:
    """SendGrid if it has a key, else SMTP if it has a URL; ``None`` without a channel or
    without sender and recipients."""
    addresses = recipients(to)
    if not (sender and addresses):
        return None
    if sendgrid_api_key:
        return SendGridChannel(sendgrid_api_key, sender, addresses, sendgrid_host, timeout)
    if smtp_url:
        return SmtpChannel(smtp_url, sender, addresses, timeout)
    return None
