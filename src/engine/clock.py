"""Timestamps as the REST contract writes them: UTC, ISO 8601, second precision, `Z`."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_iso() -> str:
    return iso(now())


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(6)}"
