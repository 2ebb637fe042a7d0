"""A series' frequency: inferred from its dates, checked, and what it implies (season length,
default horizon)."""

from __future__ import annotations

import pandas as pd
from pandas.tseries.frequencies import to_offset

# Keyed by the offset's base name (to_offset("W-SUN").name → "W-SUN", rule_code → "W").
_SEASON = {
    "min": 60, "h": 24, "D": 7, "B": 5, "W": 52,
    "MS": 12, "ME": 12, "QS": 4, "QE": 4, "YS": 1, "YE": 1,
}  # fmt: skip
_HORIZON = {
    "min": 60, "h": 48, "D": 30, "B": 20, "W": 13,
    "MS": 12, "ME": 12, "QS": 8, "QE": 8, "YS": 3, "YE": 3,
}  # fmt: skip


def _base(frequency: str) -> str:
    offset = to_offset(frequency)
    code = offset.rule_code.split("-")[0]
    return "QS" if code.startswith("QS") else "QE" if code.startswith("QE") else code


def season_length(frequency: str) -> int:
    """Steps per seasonal cycle: a week of days, a year of months; 1 when none is implied
    (nor for multiples such as every second day, whose cycle is not a whole number of steps)."""
    if to_offset(frequency).n != 1:
        return 1
    return _SEASON.get(_base(frequency), 1)


def default_horizon(frequency: str) -> int:
    return _HORIZON.get(_base(frequency), 10)


def normalise(frequency: str) -> str:
    """The canonical alias ("M" → "ME", "D" → "D"); ValueError for nonsense."""
    return str(to_offset(frequency).freqstr)


def infer(dates: pd.DatetimeIndex) -> str | None:
    """The frequency of sorted, unique dates, tolerating gaps: the most common spacing,
    recognised as a calendar frequency (month starts, month ends, …) when every date sits on
    one."""
    if len(dates) < 3:
        return None
    step = pd.Series(dates[1:] - dates[:-1]).mode().iloc[0]
    days = step / pd.Timedelta(days=1)
    if 28 <= days <= 31:
        return _calendar(dates, "MS", "ME")
    if 89 <= days <= 92:
        return _calendar(dates, "QS", "QE")
    if 365 <= days <= 366:
        return _calendar(dates, "YS", "YE")
    if days == 7:
        return normalise(f"W-{dates[0].day_name()[:3].upper()}")
    if days == int(days):
        return normalise(f"{int(days)}D")
    return normalise(to_offset(step).freqstr)


def _calendar(dates: pd.DatetimeIndex, start: str, end: str) -> str | None:
    if bool(dates.is_month_start.all()):
        return normalise(start)
    if bool(dates.is_month_end.all()):
        return normalise(end)
    return None
