"""Per-request pricing with a free tier per consumer and period, in exact integer arithmetic.

Amounts are kept in millionths of the currency unit (micros) so that sums over millions of
requests never drift the way floats do; they become decimals only when shown.
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

Period = Literal["daily", "monthly", "yearly"]
MICROS = 1_000_000
_PERIOD_LENGTH = {"daily": 10, "monthly": 7, "yearly": 4}  # prefix of an ISO timestamp


def to_micros(amount: float) -> int:
    """A price as given (5.0, 3.5, 0.0025) in micros, from its decimal text (no float error)."""
    return int((Decimal(str(amount)) * MICROS).to_integral_value(ROUND_HALF_EVEN))


def from_micros(micros: int) -> float:
    return float(Decimal(micros) / MICROS)


def period_key(timestamp: str, period: Period) -> str:
    """The calendar period (UTC) an ISO timestamp falls in: '2026', '2026-11' or '2026-11-27'."""
    return timestamp[: _PERIOD_LENGTH[period]]


def free_share(used_before: int, requests: int, free_limit: int) -> int:
    """How many of `requests` are free, when `used_before` successful requests of the same
    consumer already counted against a free tier of `free_limit` in this period."""
    return max(0, min(requests, free_limit - used_before))


def charge(billable: int, unit_price_micros: int) -> int:
    return billable * unit_price_micros
