"""URLs the engine puts in responses, built from the configured public base URL or, when none is
configured, from the address the current request came in on."""

from __future__ import annotations

from contextvars import ContextVar

from engine.service.context import Context

request_base_url: ContextVar[str | None] = ContextVar("request_base_url", default=None)


def public_url(ctx: Context, path: str) -> str:
    base = ctx.settings.public_base_url or request_base_url.get() or "http://127.0.0.1:8000"
    return base.rstrip("/") + path
