"""Pricing arithmetic: exact amounts, calendar periods, and the free tier's invariants."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from engine.domain.pricing import charge, free_share, from_micros, period_key, to_micros


def test_prices_become_exact_micros() -> None:
    assert to_micros(5.0) == 5_000_000
    assert to_micros(3.5) == 3_500_000
    assert to_micros(0.1) * 3 == to_micros(0.3)
    assert to_micros(0.0000015) == 2  # half a micro rounds to even
    assert from_micros(charge(3, to_micros(0.1))) == 0.3


def test_periods_are_utc_calendar_prefixes() -> None:
    stamp = "2026-11-27T23:59:59.999Z"
    assert period_key(stamp, "daily") == "2026-11-27"
    assert period_key(stamp, "monthly") == "2026-11"
    assert period_key(stamp, "yearly") == "2026"


@given(
    limit=st.integers(0, 50),
    parts=st.lists(st.integers(0, 20), max_size=30),
)
def test_free_tier_grants_exactly_its_size_however_requests_are_split(
    limit: int, parts: list[int]
) -> None:
    used = 0
    free_total = 0
    for requests in parts:
        free = free_share(used, requests, limit)
        assert 0 <= free <= requests
        free_total += free
        used += requests
    assert free_total == min(limit, sum(parts))
