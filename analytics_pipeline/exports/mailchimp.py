"""Mailchimp: each member upserted into the audience by subscriber hash, then tagged.

``PUT /lists/{list}/members/{md5(lower(email))}`` with ``status_if_new: subscribed``
creates a member as subscribed but never changes an existing member's status, so someone
who unsubscribed in Mailchimp stays unsubscribed (the batch endpoint would need ``status``
and, with ``update_existing``, re-subscribe them). The tag is added with
``POST .../tags`` (PUT takes no tags). Only consenting customers reach this module.

Mailchimp allows 10 concurrent connections per user; a few threads stay below that. It
sends no rate headers, and the ``mailchimp-marketing`` client hides ``Retry-After``, so a
429 (or 5xx) is retried with exponential back-off.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import mailchimp_marketing
from mailchimp_marketing.api_client import ApiClientError

from analytics_pipeline.exports.members import Member
from analytics_pipeline.exports.run import DestinationError

BASE_URL = "https://{server}.api.mailchimp.com/3.0"
RETRIED = (429, 500, 502, 503, 504)


def subscriber_hash(email: str) -> str:
    """Mailchimp's member id: MD5 hex of the trimmed, lower-cased address."""
    return hashlib.md5(email.strip().lower().encode(), usedforsecurity=False).hexdigest()


class MailchimpDestination:
    name = "mailchimp"
    batch_size = 100

    def __init__(
        self, api_key: str, audience_id: str, server: str | None = None,
        base_url: str | None = None, timeout: float = 30.0, concurrency: int = 4,
        max_attempts: int = 5, backoff_seconds: float = 1.0,
    ) -> None:
        server = server or api_key.rpartition("-")[2]
        self.target = audience_id
        self._client = mailchimp_marketing.Client()
        self._client.set_config({"api_key": api_key, "server": server, "timeout": timeout})
        # Resolve the host here; the client's own substitution replaces the word "server"
        # anywhere in the URL, which a local fake's address might contain.
        self._client.api_client.host = (base_url or BASE_URL).format(server=server).rstrip("/")
        self._client.api_client.server = ""
        self._concurrency = concurrency
        self._attempts = max_attempts
        self._backoff = backoff_seconds

    def send(self, members: Sequence[Member], tag: str) -> dict[str, str | None]:
        with ThreadPoolExecutor(self._concurrency) as pool:
            results = list(pool.map(lambda m: self._send_one(m, tag), members))
        return {m.customer_id: error for m, error in zip(members, results, strict=True)}

    def _send_one(self, member: Member, tag: str) -> str | None:
        assert member.email is not None  # noqa: S101 - screened by run_export
        member_id = subscriber_hash(member.email)
        merge = {k: v for k, v in (("FNAME", member.first_name), ("LNAME", member.last_name)) if v}
        body: dict[str, Any] = {"email_address": member.email.strip(),
                                "status_if_new": "subscribed", "merge_fields": merge}
        lists = self._client.lists
        error = self._call(lambda: lists.set_list_member(self.target, member_id, body), member)
        if error is None:
            tags = {"tags": [{"name": tag, "status": "active"}]}
            error = self._call(
                lambda: lists.update_list_member_tags(self.target, member_id, tags), member)
        return error

    def _call(self, request: Callable[[], object], member: Member) -> str | None:
        for attempt in range(self._attempts):
            try:
                _raise_for_bare_error(request())
                return None
            except ApiClientError as err:
                status = err.status_code
                if status in (401, 403):
                    raise DestinationError(f"Mailchimp refused the API key ({status})") from None
                if status not in RETRIED and status is not None:
                    return _describe(err, member)
                if attempt + 1 == self._attempts:
                    return f"gave up after {self._attempts} attempts: {_describe(err, member)}"
                time.sleep(self._backoff * 2**attempt)
        return "not sent"  # unreachable with max_attempts >= 1


def _raise_for_bare_error(result: object) -> None:
    # The client returns the raw response instead of raising when an error has no body
    # (Mailchimp's bare 429/403 under heavy load); 204 from the tags call lands here too.
    if getattr(result, "ok", True) is False:
        raise ApiClientError(text="", status_code=getattr(result, "status_code", None))


def _describe(err: ApiClientError, member: Member) -> str:
    """The problem document's status, title and detail, the member's address removed."""
    body = err.text if isinstance(err.text, dict) else {}
    if body:
        text = f"{err.status_code} {body.get('title', '')}: {body.get('detail', '')}".strip()
    elif err.status_code is None:
        text = f"connection failed: {type(err.text).__name__}"
    else:
        text = f"{err.status_code} {str(err.text)[:200]}"
    return text.replace(member.email or "\x00", "<email>") if member.email else text
