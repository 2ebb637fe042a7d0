"""Timestamps as the REST contract writes them: UTC, ISO 8601 with `Z`; milliseconds are kept
so that things created within one second still sort in the order they happened."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def now() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def now_iso() -> str:
    return iso(now())


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(6)}"
