"""API keys → companies, and per-key rate limits.

A key's company is cached for a few seconds so that serving does not read the metadata store on
every request; a key revoked through this process is dropped at once, one revoked elsewhere
within `KEY_CACHE_SECONDS`."""

from __future__ import annotations

import math
import threading
import time
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader

from engine.api import Engine
from engine.service import keys

KEY_CACHE_SECONDS = 2.0
api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="The company's API key."
)


class UnauthorizedError(Exception):
    def __init__(self, message: str) -> None:
        self.message = message


class RateLimitedError(Exception):
    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after


class KeyCache:
    def __init__(self) -> None:
        self._entries: dict[str, tuple[tuple[str, str] | None, float]] = {}
        self._lock = threading.Lock()

    def caller(self, engine: Engine, key: str) -> tuple[str, str] | None:
        """(company, key id) of a key, or None when unknown or revoked."""
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[1] > KEY_CACHE_SECONDS:
            entry = (keys.caller_for_key(engine.context, key), time.monotonic())
            with self._lock:
                self._entries[key] = entry
        return entry[0]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


class RateLimiter:
    """A token bucket per key: `per_minute` requests a minute, bursts of up to a tenth of that."""

    def __init__(self, per_minute: int) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(1.0, per_minute / 10.0)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        now = time.monotonic()
        with self._lock:
            tokens, at = self._buckets.get(key, (self.capacity, now))
            tokens = min(self.capacity, tokens + (now - at) * self.rate)
            if tokens >= 1.0:
                self._buckets[key] = (tokens - 1.0, now)
                return 0.0
            self._buckets[key] = (tokens, now)
            return (1.0 - tokens) / self.rate


async def company_of(
    request: Request, api_key: Annotated[str | None, Depends(api_key_header)]
) -> str:
    """Async so that it runs on the event loop: a thread hop costs more than the cached look-up
    (the store is read at most every KEY_CACHE_SECONDS per key)."""
    state = request.app.state
    if not api_key:
        raise UnauthorizedError("Send your API key in the X-API-Key header.")
    found = state.key_cache.caller(state.engine, api_key)
    if found is None:
        raise UnauthorizedError("The API key is unknown or revoked.")
    wait = state.rate_limiter.take(api_key)
    if wait > 0:
        raise RateLimitedError(math.ceil(wait))
    company: str = found[0]
    request.state.caller = found[1]
    return company


def caller_of(request: Request) -> str:
    """The key id of the request's caller (set by `company_of`), as the usage ledger names it."""
    return str(getattr(request.state, "caller", "local"))


Company = Annotated[str, Depends(company_of)]
