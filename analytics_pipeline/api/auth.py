"""API keys with scopes (read, write, pii), from ``ANALYTICS_API_KEYS``.

Keys are compared in constant time against every configured key, so neither timing nor
the position of a key in the list tells an attacker anything.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from fastapi import HTTPException, Request, status

from analytics_pipeline.settings import SettingsError

Scope = Literal["read", "write", "pii"]
SCOPES: tuple[Scope, ...] = ("read", "write", "pii")


@dataclass(frozen=True)
class ApiKeys:
    entries: tuple[tuple[bytes, frozenset[str]], ...] = ()

    @classmethod
    def parse(cls, text: str) -> ApiKeys:
        """``k1=read,k2=read+write+pii`` -> keys with scopes; malformed entries are refused."""
        entries: list[tuple[bytes, frozenset[str]]] = []
        for raw in filter(None, (part.strip() for part in text.split(","))):
            key, sep, scopes = raw.partition("=")
            wanted = frozenset(s.strip() for s in scopes.split("+") if s.strip())
            if not sep or not key.strip() or not wanted or not wanted <= set(SCOPES):
                # Never echo the entry: it contains the secret.
                raise SettingsError(
                    "ANALYTICS_API_KEYS must be comma-separated KEY=SCOPES entries with scopes "
                    f"from {'+'.join(SCOPES)} (entry {len(entries) + 1} is not)"
                )
            entries.append((key.strip().encode(), wanted))
        return cls(tuple(entries))

    @property
    def configured(self) -> bool:
        return bool(self.entries)

    def scopes_for(self, token: str) -> frozenset[str] | None:
        supplied = token.encode()
        found: frozenset[str] | None = None
        for key, scopes in self.entries:
            if hmac.compare_digest(key, supplied):
                found = scopes
        return found


def require(scope: Scope) -> Callable[[Request], Awaitable[None]]:
    """A dependency: the request must carry a key with ``scope``.

    Read endpoints are open until the first key is configured; write and PII endpoints
    always need a key.
    """

    async def check(request: Request) -> None:
        keys: ApiKeys = request.app.state.api_keys
        if scope == "read" and not keys.configured:
            return
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise HTTPException(
                status.HTTP_401_UNAUTHORIZED,
                detail=f"this endpoint needs an API key with the '{scope}' scope, sent as "
                "'Authorization: Bearer KEY'",
                headers={"WWW-Authenticate": "Bearer"},
            )
        scopes = keys.scopes_for(token.strip())
        if scopes is None:
            raise HTTPException(status.HTTP_401_UNAUTHORIZED, detail="unknown API key",
                                headers={"WWW-Authenticate": "Bearer"})
        if scope not in scopes:
            raise HTTPException(status.HTTP_403_FORBIDDEN,
                                detail=f"this API key lacks the '{scope}' scope")

    return check
