"""Local fakes of Slack, SendGrid and an SMTP server, speaking their wire formats.

Each HTTP fake validates requests the way the service does (auth, required fields, Block
Kit limits) and can be scripted to answer the next requests with errors: Slack webhooks
answer with a status and a plain-text reason, ``chat.postMessage`` with HTTP 200 and
``{"ok": false, "error": ...}``, SendGrid with 202 and an empty body or JSON ``errors``.
"""

from __future__ import annotations

import json
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

Reply = tuple[int, dict[str, str], bytes]


@dataclass
class FakeService:
    """Requests seen, messages accepted, and scripted replies for the next requests."""

    url: str = ""
    script: list[Reply] = field(default_factory=list)
    requests: list[dict[str, Any]] = field(default_factory=list)
    accepted: list[dict[str, Any]] = field(default_factory=list)

    def fail_next(self, *replies: Reply) -> None:
        self.script.extend(replies)


def text_reply(status: int, body: str, **headers: str) -> Reply:
    return status, {"Content-Type": "text/plain", **headers}, body.encode()


def json_reply(status: int, body: object, **headers: str) -> Reply:
    return status, {"Content-Type": "application/json", **headers}, json.dumps(body).encode()


def block_kit_error(payload: dict[str, Any]) -> str | None:
    """What Slack would refuse in ``payload`` (``None``: acceptable)."""
    blocks = payload.get("blocks") or []
    if not payload.get("text") and not blocks:
        return "no_text"
    if len(blocks) > 50:
        return "invalid_blocks"
    for block in blocks:
        text = block.get("text") or {}
        limit = 150 if block.get("type") == "header" else 3000
        if len(text.get("text", "")) > limit:
            return "invalid_blocks"
        if block.get("type") not in {"header", "section", "context", "divider"}:
            return "invalid_blocks"
    return None


def _slack_webhook(service: FakeService, path: str, headers: Any, body: bytes) -> Reply:
    if not path.startswith("/services/"):
        return text_reply(404, "no_service")
    if "application/json" not in headers.get("Content-Type", ""):
        return text_reply(400, "invalid_payload")
    payload = json.loads(body)
    error = block_kit_error(payload)
    if error:
        return text_reply(400, error)
    service.accepted.append(payload)
    return text_reply(200, "ok")


def _slack_api(service: FakeService, path: str, headers: Any, body: bytes) -> Reply:
    if path != "/api/chat.postMessage":
        return json_reply(200, {"ok": False, "error": "unknown_method"})
    if headers.get("Authorization") != "Bearer xoxb-test-token":
        return json_reply(200, {"ok": False, "error": "invalid_auth"})
    payload = json.loads(body) if body else {}
    if payload.get("channel") != "C0ALERTS":
        return json_reply(200, {"ok": False, "error": "channel_not_found"})
    error = block_kit_error(payload)
    if error:
        return json_reply(200, {"ok": False, "error": error})
    service.accepted.append(payload)
    ts = f"1764000000.{len(service.accepted):06d}"
    return json_reply(200, {"ok": True, "channel": "C0ALERTS", "ts": ts, "message": payload})


def _sendgrid(service: FakeService, path: str, headers: Any, body: bytes) -> Reply:
    if path != "/v3/mail/send":
        return json_reply(404, {"errors": [{"message": "not found"}]})
    if headers.get("Authorization") != "Bearer SG.test-key":
        return json_reply(401, {"errors": [{"message": "The provided authorization grant is "
                                                       "invalid, expired, or revoked"}]})
    payload = json.loads(body)
    problems = []
    if not payload.get("personalizations"):
        problems.append({"message": "The personalizations field is required",
                         "field": "personalizations"})
    if not payload.get("from", {}).get("email"):
        problems.append({"message": "The from email does not contain a valid address.",
                         "field": "from.email"})
    if not all(c.get("value") for c in payload.get("content", [{}])):
        problems.append({"message": "The content value must be a string at least one "
                                    "character in length.", "field": "content.0.value"})
    if problems:
        return json_reply(400, {"errors": problems})
    service.accepted.append(payload)
    return 202, {"X-Message-Id": uuid.uuid4().hex[:22]}, b""


HANDLERS = {"slack_webhook": _slack_webhook, "slack_api": _slack_api, "sendgrid": _sendgrid}


@contextmanager
def fake_http(kind: str) -> Iterator[FakeService]:
    """A fake ``slack_webhook``, ``slack_api`` or ``sendgrid`` server on a free port."""
    service = FakeService()
    handle = HANDLERS[kind]

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            service.requests.append({"path": self.path, "headers": dict(self.headers),
                                     "body": body})
            if service.script:
                status, headers, reply = service.script.pop(0)
            else:
                status, headers, reply = handle(service, self.path, self.headers, body)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    host, port = server.server_address[:2]
    service.url = f"http://{host!s}:{port}"
    try:
        yield service
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class FakeSmtp:
    """Messages an aiosmtpd server accepted, and SMTP replies scripted for next commands."""

    port: int = 0
    messages: list[Message] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    rcpt_replies: list[str] = field(default_factory=list)
    data_replies: list[str] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if self.rcpt_replies:
            return self.rcpt_replies.pop(0)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        if self.data_replies:
            return self.data_replies.pop(0)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        self.messages.append(message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@contextmanager
def fake_smtp() -> Iterator[FakeSmtp]:
    handler = FakeSmtp()
    with socket.socket() as probe:  # aiosmtpd checks its own port, so it needs a real one
        probe.bind(("127.0.0.1", 0))
        handler.port = int(probe.getsockname()[1])
    controller = Controller(handler, hostname="127.0.0.1", port=handler.port)
    controller.start()
    try:
        yield handler
    finally:
        controller.stop()
