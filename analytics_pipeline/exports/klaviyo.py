"""Klaviyo: profiles upserted by a bulk import job that also adds them to the list.

``POST /api/profile-bulk-import-jobs/`` (JSON:API, ``revision`` header) takes up to 10,000
profiles and answers 202 with a job id; the job is polled until ``complete`` and its
``import-errors`` name the profiles it rejected (matched back by e-mail). The import
changes no consent: only customers who opted in are sent, and none is subscribed here.
A 429 is retried after its ``Retry-After``; 5xx and network errors with back-off.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from typing import Any

import httpx

from analytics_pipeline.exports.members import Member
from analytics_pipeline.exports.run import DestinationError

BASE_URL = "https://a.klaviyo.com/api"
REVISION = "2025-10-15"
JSON_API = "application/vnd.api+json"
DONE = ("complete", "cancelled")
MAX_RETRY_AFTER = 60.0


class KlaviyoDestination:
    name = "klaviyo"
    batch_size = 1000  # well under the 10,000-profile / 5 MB job limit

    def __init__(
        self, api_key: str, list_id: str, base_url: str | None = None, timeout: float = 30.0,
        max_attempts: int = 5, backoff_seconds: float = 1.0, poll_seconds: float = 1.0,
        job_timeout_seconds: float = 600.0,
    ) -> None:
        self.target = list_id
        self._http = httpx.Client(
            base_url=(base_url or BASE_URL).rstrip("/") + "/", timeout=timeout,
            headers={"Authorization": f"Klaviyo-API-Key {api_key}", "revision": REVISION,
                     "accept": JSON_API, "content-type": JSON_API},
        )
        self._attempts = max_attempts
        self._backoff = backoff_seconds
        self._poll = poll_seconds
        self._job_timeout = job_timeout_seconds

    def close(self) -> None:
        self._http.close()

    def send(self, members: Sequence[Member], tag: str) -> dict[str, str | None]:
        reply = self._request("POST", "profile-bulk-import-jobs/", self._job(members, tag))
        if reply.status_code >= 400:  # the whole job was refused (validation): every member
            error = _describe(reply)
            return {m.customer_id: error for m in members}
        job_id = str(reply.json()["data"]["id"])
        status = self._wait(job_id)
        if status != "complete":
            return {m.customer_id: f"import job {job_id} {status}" for m in members}
        rejected = dict(self._import_errors(job_id))
        return {m.customer_id: rejected.get((m.email or "").strip().lower()) for m in members}

    def _job(self, members: Sequence[Member], tag: str) -> dict[str, Any]:
        profiles = [{"type": "profile", "attributes": {
            "email": m.email, "external_id": m.customer_id,
            **{k: v for k, v in (("first_name", m.first_name), ("last_name", m.last_name)) if v},
            "properties": {"segment": tag},
        }} for m in members]
        return {"data": {
            "type": "profile-bulk-import-job",
            "attributes": {"profiles": {"data": profiles}},
            "relationships": {"lists": {"data": [{"type": "list", "id": self.target}]}},
        }}

    def _wait(self, job_id: str) -> str:
        deadline = time.monotonic() + self._job_timeout
        while True:
            reply = self._request("GET", f"profile-bulk-import-jobs/{job_id}/")
            if reply.status_code >= 400:
                raise DestinationError(f"Klaviyo import job {job_id}: {_describe(reply)}")
            status = str(reply.json()["data"]["attributes"]["status"])
            if status in DONE:
                return status
            if time.monotonic() > deadline:
                return f"still {status} after {self._job_timeout:.0f} s"
            time.sleep(self._poll)

    def _import_errors(self, job_id: str) -> Iterator[tuple[str, str]]:
        """(lower-cased e-mail, error) per rejected profile, following pagination."""
        url: str | None = f"profile-bulk-import-jobs/{job_id}/import-errors/"
        while url:
            reply = self._request("GET", url)
            if reply.status_code >= 400:
                raise DestinationError(f"Klaviyo import errors of {job_id}: {_describe(reply)}")
            body = reply.json()
            for item in body.get("data", []):
                attributes = item.get("attributes", {})
                email = str((attributes.get("original_payload") or {}).get("email", ""))
                detail = f"{attributes.get('code', 'error')}: {attributes.get('detail', '')}"
                yield email.strip().lower(), detail.replace(email, "<email>") if email else detail
            url = (body.get("links") or {}).get("next")

    def _request(self, method: str, url: str, body: dict[str, Any] | None = None
                 ) -> httpx.Response:
        for attempt in range(self._attempts):
            wait = self._backoff * 2**attempt
            try:
                reply = self._http.request(method, url, json=body)
            except httpx.HTTPError as err:
                failure = type(err).__name__  # no URL or payload: they may hold addresses
            else:
                if reply.status_code in (401, 403):
                    raise DestinationError(f"Klaviyo refused the API key ({reply.status_code})")
                if reply.status_code != 429 and reply.status_code < 500:
                    return reply
                failure = _describe(reply)
                if reply.status_code == 429:
                    wait = _retry_after(reply)
            if attempt + 1 == self._attempts:
                raise DestinationError(f"Klaviyo unavailable after {self._attempts} attempts:"
                                       f" {failure}")
            time.sleep(wait)
        raise DestinationError("Klaviyo: no attempt made")


def _retry_after(reply: httpx.Response) -> float:
    try:
        # Capped: an export runs inside an API request.
        return min(MAX_RETRY_AFTER, max(0.0, float(reply.headers.get("retry-after", "1"))))
    except ValueError:
        return 1.0


def _describe(reply: httpx.Response) -> str:
    """Status plus the JSON:API errors' codes and titles (details may quote addresses)."""
    try:
        errors = reply.json().get("errors", [])
    except ValueError:
        errors = []
    titles = "; ".join(f"{e.get('code', '')} {e.get('title', '')}".strip() for e in errors)
    return f"{reply.status_code} {titles or reply.reason_phrase}"
