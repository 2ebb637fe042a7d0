"""What every forecaster adapter provides.

A forecaster fits one regular series (values already in model space: log-transformed when the
asset asks for it) and forecasts `horizon` steps past its end: a point path and the standard
deviation the model itself attaches to each step. The engine turns that scale into intervals
calibrated on backtest errors (`forecasting/intervals.py`), so a model whose own uncertainty is
too narrow (Prophet's often is) still gets intervals that cover what they claim.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SeriesData:
    """One regular series: evenly spaced steps, gaps shown as nan values (see `accepts_missing`)."""

    y: np.ndarray
    """float64 values in model space, shape (n,); nan marks a missing step only for forecasters
    that declare `accepts_missing`."""
    index: pd.DatetimeIndex
    """The timestamps of `y`, evenly spaced at `frequency`."""
    frequency: str
    """pandas offset alias of the spacing ("D", "W-SUN", "MS", "h", …)."""
    season_length: int
    """Steps per seasonal cycle the frequency implies (7 for daily, 12 for monthly); 1 = none."""
    regressors: np.ndarray | None = None
    """Known-in-advance covariates aligned with `y`, shape (n, k), or None."""
    regressor_names: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.y)

    def head(self, n: int) -> SeriesData:
        """The first `n` steps (a backtest's training window)."""
        return SeriesData(
            y=self.y[:n],
            index=self.index[:n],
            frequency=self.frequency,
            season_length=self.season_length,
            regressors=None if self.regressors is None else self.regressors[:n],
            regressor_names=self.regressor_names,
        )

    def future_index(self, horizon: int) -> pd.DatetimeIndex:
        """The `horizon` timestamps after the last one."""
        return pd.date_range(self.index[-1], periods=horizon + 1, freq=self.frequency)[1:]


@dataclass(frozen=True)
class PointForecast:
    mean: np.ndarray
    """Point forecast in model space, shape (horizon,)."""
    scale: np.ndarray
    """The model's own standard deviation of each step's error, shape (horizon,), all > 0."""


@runtime_checkable
class Forecaster(Protocol):
    name: ClassVar[str]
    task: ClassVar[str]
    """"forecasting" (classifiers say "classification"), so a registry entry of the wrong kind
    is refused when an asset names it."""
    supports_regressors: ClassVar[bool]
    accepts_missing: ClassVar[bool]
    """True when `fit` takes a series with nan values (missing dates and values) and handles them
    itself (a state-space likelihood skips them); otherwise the engine interpolates first."""
    hyperparameter_types: ClassVar[dict[str, type | tuple[type, ...]]]

    def fit(self, series: SeriesData) -> Forecaster: ...

    def forecast(self, horizon: int, future_regressors: np.ndarray | None = None) -> PointForecast:
        """`horizon` steps past the end of the fitted series; `future_regressors` has shape
        (horizon, k) when the model was fitted with regressors, else None."""
        ...

    def summary(self) -> dict[str, Any]:
        """What was fitted, JSON-serialisable: chosen orders, coefficients, criteria."""
        ...

    def get_params(self) -> dict[str, Any]: ...

    def frozen_hyperparameters(self) -> dict[str, Any]:
        """Hyperparameters that rebuild this fitted model's structure without searching again
        (ARIMA: the orders it chose). Backtest folds are refitted with these, so a search runs
        once per series rather than once per fold."""
        ...

    def save(self, directory: Path) -> None: ...

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> Forecaster: ...


def positive_scale(scale: np.ndarray, floor: float) -> np.ndarray:
    """A scale path with no zero or non-finite step (a perfectly fitted training window would
    otherwise give intervals of zero width that nothing can calibrate)."""
    cleaned = np.where(np.isfinite(scale), scale, np.nan)
    fallback = np.nanmax(cleaned) if np.isfinite(cleaned).any() else floor
    cleaned = np.where(np.isnan(cleaned), fallback, cleaned)
    return np.asarray(np.maximum(cleaned, floor), dtype=float)
