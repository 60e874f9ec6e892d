"""HTTP client for the Lightspeed Retail R-Series API V3: OAuth refresh, pacing, retries.

Wire facts (``docs`` integrations §1): list replies carry ``@attributes.next``, a full
URL to follow verbatim; every reply reports the leaky bucket in ``X-LS-Api-Bucket-Level``
(``level/size``) and ``X-LS-Api-Drip-Rate``; an over-full bucket answers 429 with
``Retry-After``; an expired access token answers 401, after which the client refreshes
once and retries once. Refresh tokens rotate: the new pair is saved before it is used.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

import httpx

JSON = dict[str, Any]
RETRYABLE = frozenset({500, 502, 503, 504})
# Refresh this long before the token's own expiry, so a request never races it.
EXPIRY_MARGIN_SECONDS = 30.0


class LightspeedError(RuntimeError):
    """The API refused a request in a way retrying cannot fix; the message says why."""


@dataclass(frozen=True)
class Tokens:
    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_at: float  # time.time() seconds


class TokenStore(Protocol):
    """Where the rotating token pair lives between runs."""

    def load_tokens(self) -> Tokens | None: ...

    def save_tokens(self, tokens: Tokens) -> None: ...


@dataclass(frozen=True)
class ClientConfig:
    """Account, OAuth client and retry policy (secrets stay out of ``repr``)."""

    api_base_url: str
    auth_base_url: str
    account_id: str
    client_id: str
    client_secret: str = field(repr=False)
    refresh_token: str = field(repr=False)
    max_attempts: int = 8
    backoff_base_seconds: float = 0.5
    backoff_cap_seconds: float = 30.0
    timeout_seconds: float = 30.0


@dataclass
class ClientStats:
    """What the client went through, for the sync summary."""

    requests: int = 0
    throttled: int = 0  # 429 replies
    retried_errors: int = 0  # 5xx replies and transport errors retried
    refreshes: int = 0
    paced_seconds: float = 0.0  # sleeping to keep the bucket from overflowing


@dataclass
class Bucket:
    """The leaky bucket as last reported by the server."""

    level: float = 0.0
    size: float = 90.0
    drip: float = 1.0
    cost: float = 1.0
    seen_at: float = 0.0  # time.monotonic()

    def wait_before_next(self, now: float) -> float:
        """Seconds to wait so the next request does not overflow: ``(level+cost-size)/drip``."""
        level = max(0.0, self.level - self.drip * (now - self.seen_at))
        return max(0.0, (level + self.cost - self.size) / self.drip)

    def update(self, headers: httpx.Headers, now: float) -> None:
        # httpx headers are case-insensitive, which covers the two spellings in the docs.
        level = headers.get("x-ls-api-bucket-level")
        if level and "/" in level:
            used, _, size = level.partition("/")
            self.level, self.size, self.seen_at = float(used), float(size), now
        if drip := headers.get("x-ls-api-drip-rate"):
            self.drip = max(float(drip), 1e-3)
        if cost := headers.get("x-ls-api-request-cost"):
            self.cost = float(cost)


class LightspeedClient:
    """Reads one account's resources page by page.

    ``sleep`` and ``rng`` are injectable so tests run the retry policy without waiting.
    """

    def __init__(
        self,
        config: ClientConfig,
        tokens: TokenStore,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.config = config
        self.stats = ClientStats()
        self.bucket = Bucket()
        self._tokens = tokens
        self._current = tokens.load_tokens()  # kept in memory; the store is for next runs
        self._http = http or httpx.Client(timeout=config.timeout_seconds)
        self._sleep = sleep
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography

    def close(self) -> None:
        self._http.close()

    def pages(self, resource: str, params: dict[str, str]) -> Iterator[list[JSON]]:
        """Every page of ``resource`` matching ``params``, following ``next`` links."""
        root = self.config.api_base_url.rstrip("/")
        url = f"{root}/API/V3/Account/{self.config.account_id}/{resource}.json"
        query: dict[str, str] | None = params
        while url:
            body = self.get(url, query)
            yield as_list(body.get(resource))
            url, query = str(body.get("@attributes", {}).get("next") or ""), None

    def get(self, url: str, params: dict[str, str] | None = None) -> JSON:
        """GET with pacing, one token refresh on 401, and retries on 429, 5xx and timeouts."""
        refreshed = False
        for attempt in range(self.config.max_attempts):
            self._pace()
            try:
                reply = self._http.get(url, params=params, headers=self._auth_headers())
            except httpx.TransportError:
                self._backoff(attempt)
                continue
            self.stats.requests += 1
            self.bucket.update(reply.headers, time.monotonic())
            if reply.status_code == 401 and not refreshed:
                self._refresh()
                refreshed = True
            elif reply.status_code == 429:
                self.stats.throttled += 1
                self._sleep(retry_after(reply))
            elif reply.status_code in RETRYABLE:
                self._backoff(attempt)
            elif reply.is_success:
                return dict(reply.json())
            else:
                raise LightspeedError(f"GET {_path(url)}: {_describe(reply)}")
        raise LightspeedError(
            f"GET {_path(url)}: gave up after {self.config.max_attempts} attempts"
        )

    def _pace(self) -> None:
        wait = self.bucket.wait_before_next(time.monotonic())
        if wait > 0:
            self.stats.paced_seconds += wait
            self._sleep(wait)

    def _backoff(self, attempt: int) -> None:
        """Exponential backoff with full jitter, so retries from many clients spread out."""
        self.stats.retried_errors += 1
        cap = min(self.config.backoff_cap_seconds, self.config.backoff_base_seconds * 2**attempt)
        self._sleep(self._rng.uniform(0, cap))

    def _auth_headers(self) -> dict[str, str]:
        tokens = self._current
        if tokens is None or tokens.expires_at - EXPIRY_MARGIN_SECONDS <= time.time():
            tokens = self._refresh()
        return {"Authorization": f"Bearer {tokens.access_token}", "Accept": "application/json"}

    def _refresh(self) -> Tokens:
        current = self._current
        refresh_token = current.refresh_token if current else self.config.refresh_token
        url = f"{self.config.auth_base_url.rstrip('/')}/auth/oauth/token"
        form = {"client_id": self.config.client_id, "client_secret": self.config.client_secret,
                "grant_type": "refresh_token", "refresh_token": refresh_token}
        for attempt in range(self.config.max_attempts):
            try:
                reply = self._http.post(url, data=form)
            except httpx.TransportError:
                self._backoff(attempt)
                continue
            if reply.status_code in RETRYABLE or reply.status_code == 429:
                self._backoff(attempt)
                continue
            if not reply.is_success:
                raise LightspeedError(f"token refresh refused: {_describe(reply)}; "
                                      "re-authorize the app and set a new "
                                      "ANALYTICS_LIGHTSPEED_REFRESH_TOKEN")
            body = reply.json()
            tokens = Tokens(str(body["access_token"]), str(body["refresh_token"]),
                            time.time() + float(body.get("expires_in", 1800)))
            # The old refresh token dies once the new access token is used: save first.
            self._tokens.save_tokens(tokens)
            self._current = tokens
            self.stats.refreshes += 1
            return tokens
        raise LightspeedError("token refresh: the OAuth server kept failing; try again later")


def as_list(value: Any) -> list[JSON]:
    """A relation or list as a list: absent is empty, a single record is a one-item list."""
    if value is None or value == "":
        return []
    return [dict(v) for v in value] if isinstance(value, list) else [dict(value)]


def retry_after(reply: httpx.Response) -> float:
    """Seconds the server asks to wait (at least a little, so a bad header cannot spin)."""
    try:
        return max(float(reply.headers.get("retry-after", "1")), 0.05)
    except ValueError:
        return 1.0


def _describe(reply: httpx.Response) -> str:
    """Status and the server's own words, never the request's headers (they hold tokens)."""
    try:
        body = reply.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return f"HTTP {reply.status_code}"
    if not isinstance(body, dict):
        return f"HTTP {reply.status_code}"
    # API errors carry "message"; OAuth errors an "error" code and a "hint".
    words = [str(body[k]) for k in ("error", "message", "hint") if body.get(k)]
    return f"HTTP {reply.status_code} {': '.join(words)}".strip()


def _path(url: str) -> str:
    return httpx.URL(url).path
