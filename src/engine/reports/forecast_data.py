"""What a forecasting training report shows, gathered by the trainer (values in data units)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class SeriesReport:
    label: str
    """The series' key values, e.g. "product_category=books" ("all" for a single series)."""
    algorithm: str
    """The algorithm chosen for this series."""
    history_index: pd.DatetimeIndex
    history: np.ndarray
    forecast_index: pd.DatetimeIndex
    forecast: np.ndarray
    bands: dict[float, tuple[np.ndarray, np.ndarray]]
    """Interval level (0.8, 0.95) → (lower, upper) arrays aligned with `forecast`."""
    scores: dict[str, dict[str, float]]
    """Algorithm → backtest metrics (mape, smape, rmse, mase, coverage_80, coverage_95, …)."""


@dataclass(frozen=True)
class ForecastReportData:
    asset_id: str
    version: str
    created_at: str
    frequency: str
    horizon: int
    selection_metric: str
    series: list[SeriesReport]
    """Possibly only the first few series of a large asset (the page says how many in all)."""
    total_series: int
    errors_by_horizon: dict[str, np.ndarray]
    """Algorithm → RMSE of scaled backtest errors (|error| / the series' MASE scale, so series of
    different sizes weigh alike) at each step 1..horizon, pooled over series and folds (nan where
    an algorithm has no error at that step)."""
    coverage: dict[str, dict[float, float]]
    """Algorithm → level → backtest coverage of the calibrated intervals."""
    metrics: dict[str, float]
    """Asset-level metrics of the chosen models (means over series)."""
    changes: list[str] = field(default_factory=list)
