"""Local fakes of the Mailchimp Marketing API and Klaviyo's bulk profile import, speaking
their wire formats (``../shared/docs/integrations.md`` sections 4 and 5).

Mailchimp: HTTP Basic auth with the key as password; ``PUT /3.0/lists/{id}/members/{hash}``
checks the subscriber hash (MD5 of the lower-cased address), creates members with
``status_if_new`` and never changes an existing member's status; ``POST .../tags`` answers
204 (404 for an unknown member); errors are ``application/problem+json``. Klaviyo:
``Klaviyo-API-Key`` auth, a required ``revision`` header, JSON:API bodies; an import job
is ``queued`` first, then ``complete``, and its ``import-errors`` are paginated. Both can
be scripted to answer the next requests with 429 + ``Retry-After`` or 5xx, and to reject
given addresses (a partial failure: the other members of the request go through).
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

Reply = tuple[int, dict[str, str], bytes]
PROBLEM = "application/problem+json"
JSON_API = "application/vnd.api+json"


def problem(status: int, title: str, detail: str, **headers: str) -> Reply:
    body = {"type": "https://mailchimp.com/developer/marketing/docs/errors/", "title": title,
            "status": status, "detail": detail, "instance": str(uuid.uuid4())}
    return status, {"Content-Type": PROBLEM, **headers}, json.dumps(body).encode()


def jsonapi(status: int, body: object, **headers: str) -> Reply:
    return status, {"Content-Type": JSON_API, **headers}, json.dumps(body).encode()


@dataclass
class FakeApi:
    """What a fake saw and holds; ``script`` answers the next requests instead."""

    key: str
    url: str = ""
    script: list[Reply] = field(default_factory=list)
    reject: set[str] = field(default_factory=set)
    requests: list[tuple[str, str]] = field(default_factory=list)
    accepted: Counter[str] = field(default_factory=Counter)  # e-mail -> times accepted
    seen: set[str] = field(default_factory=set)  # every address sent, accepted or not
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fail_next(self, *replies: Reply) -> None:
        with self.lock:
            self.script.extend(replies)

    def scripted(self) -> Reply | None:
        with self.lock:
            return self.script.pop(0) if self.script else None


@dataclass
class FakeMailchimp(FakeApi):
    members: dict[str, dict[str, Any]] = field(default_factory=dict)  # hash -> member

    def handle(self, method: str, path: str, headers: Any, body: Any) -> Reply:
        auth = headers.get("Authorization", "")
        password = base64.b64decode(auth[6:]).decode().partition(":")[2] if auth[:6] == "Basic " \
            else ""
        if password != self.key:
            return problem(401, "API Key Invalid", "Your API key may be invalid.")
        parts = path.strip("/").split("/")  # 3.0 lists {id} members {hash} [tags]
        if len(parts) < 5 or parts[:2] != ["3.0", "lists"] or parts[3] != "members":
            return problem(404, "Resource Not Found", "The requested resource was not found.")
        member_hash = parts[4]
        if method == "PUT" and len(parts) == 5:
            return self._upsert(member_hash, body)
        if method == "POST" and parts[5:] == ["tags"]:
            with self.lock:
                member = self.members.get(member_hash)
                if member is None:
                    return problem(404, "Resource Not Found", "The member does not exist.")
                member["tags"] |= {t["name"] for t in body["tags"] if t["status"] == "active"}
            return 204, {}, b""
        return problem(405, "Method Not Allowed", "not supported by the fake")

    def _upsert(self, member_hash: str, body: dict[str, Any]) -> Reply:
        email = str(body.get("email_address", ""))
        with self.lock:
            self.seen.add(email)
        if hashlib.md5(email.strip().lower().encode()).hexdigest() != member_hash:  # noqa: S324
            return problem(400, "Invalid Resource", "The subscriber hash does not match.")
        if email in self.reject:
            return problem(400, "Invalid Resource",
                           f"{email} looks fake or invalid, please enter a real email address.")
        with self.lock:
            member = self.members.setdefault(member_hash, {
                "email_address": email, "status": body["status_if_new"], "tags": set()})
            member["merge_fields"] = body.get("merge_fields", {})
            self.accepted[email] += 1
        return 200, {"Content-Type": "application/json"}, json.dumps(
            {"id": member_hash, "email_address": email, "status": member["status"]}).encode()


@dataclass
class FakeKlaviyo(FakeApi):
    list_id: str = "Y6nRLr"
    jobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    profiles: dict[str, dict[str, Any]] = field(default_factory=dict)  # e-mail -> attributes
    list_members: set[str] = field(default_factory=set)
    errors_page_size: int = 1

    def handle(self, method: str, path: str, headers: Any, body: Any) -> Reply:
        if headers.get("Authorization") != f"Klaviyo-API-Key {self.key}":
            return jsonapi(401, {"errors": [{"status": "401", "code": "not_authenticated",
                                             "title": "Authentication credentials invalid."}]})
        if not headers.get("revision"):
            return jsonapi(400, {"errors": [{"status": "400", "code": "invalid",
                                             "title": "Missing revision header."}]})
        url = urlparse(path)
        parts = url.path.strip("/").split("/")  # api profile-bulk-import-jobs [id [errors]]
        if parts[:2] != ["api", "profile-bulk-import-jobs"]:
            return jsonapi(404, {"errors": [{"status": "404", "code": "not_found"}]})
        if method == "POST" and len(parts) == 2:
            return self._create(body)
        job = self.jobs.get(parts[2]) if len(parts) > 2 else None
        if method != "GET" or job is None:
            return jsonapi(404, {"errors": [{"status": "404", "code": "not_found"}]})
        if len(parts) == 3:
            return self._status(parts[2], job)
        cursor = int(parse_qs(url.query).get("page[cursor]", ["0"])[0])
        return self._errors(parts[2], job, cursor)

    def _create(self, body: dict[str, Any]) -> Reply:
        data = body["data"]
        lists = [item["id"] for item in data["relationships"]["lists"]["data"]]
        if data["type"] != "profile-bulk-import-job" or lists != [self.list_id]:
            return jsonapi(400, {"errors": [{"status": "400", "code": "invalid",
                                             "title": "Invalid input."}]})
        job_id, errors = uuid.uuid4().hex[:12], []
        profiles = data["attributes"]["profiles"]["data"]
        for index, profile in enumerate(profiles):
            attributes = profile["attributes"]
            email = attributes["email"]
            with self.lock:
                self.seen.add(email)
                if email in self.reject:
                    errors.append({"type": "import-error", "id": uuid.uuid4().hex, "attributes": {
                        "code": "invalid", "title": "Invalid input.",
                        "detail": f"Invalid email address {email}",
                        "source": {"pointer": f"/data/attributes/profiles/data/{index}"},
                        "original_payload": attributes}})
                    continue
                self.profiles[email] = attributes
                self.list_members.add(email)
                self.accepted[email] += 1
        self.jobs[job_id] = {"polls": 0, "total": len(profiles), "errors": errors}
        return jsonapi(202, {"data": {"type": "profile-bulk-import-job", "id": job_id,
                                      "attributes": {"status": "queued"}}})

    def _status(self, job_id: str, job: dict[str, Any]) -> Reply:
        job["polls"] += 1
        status = "processing" if job["polls"] == 1 else "complete"
        failed = len(job["errors"]) if status == "complete" else 0
        return jsonapi(200, {"data": {"type": "profile-bulk-import-job", "id": job_id,
                                      "attributes": {
                                          "status": status, "total_count": job["total"],
                                          "completed_count": job["total"] - failed,
                                          "failed_count": failed}}})

    def _errors(self, job_id: str, job: dict[str, Any], cursor: int) -> Reply:
        size = self.errors_page_size
        page = job["errors"][cursor:cursor + size]
        more = cursor + size < len(job["errors"])
        base = f"{self.url}/api/profile-bulk-import-jobs/{job_id}/import-errors/"
        return jsonapi(200, {"data": page, "links": {
            "self": base, "next": f"{base}?page[cursor]={cursor + size}" if more else None}})


class _Handler(BaseHTTPRequestHandler):
    fake: FakeMailchimp | FakeKlaviyo

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        self.fake.requests.append((self.command, self.path))
        reply = self.fake.scripted() or self.fake.handle(self.command, self.path, self.headers,
                                                         body)
        status, headers, payload = reply
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_PUT = do_POST = _serve

    def log_message(self, *_args: Any) -> None:
        pass


@contextmanager
def serve(fake: FakeMailchimp | FakeKlaviyo) -> Iterator[str]:
    """Run ``fake`` on a free loopback port; yields its base URL."""
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake.url
    finally:
        server.shutdown()
        server.server_close()
