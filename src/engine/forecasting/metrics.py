"""Forecast accuracy measures over backtest points, in the data's own units.

MASE divides by the in-sample MAE of the seasonal-naive forecast on each fold's training window
(Hyndman & Koehler 2006), so 1.0 means "as good as repeating last season". MAPE skips actual
values of zero, where it is undefined; sMAPE follows Makridakis (M3/M4): 2|e| / (|y| + |ŷ|).
"""

from __future__ import annotations

import numpy as np

METRICS = ("mase", "smape", "mape", "rmse")


def naive_scale(y: np.ndarray, season_length: int) -> float:
    """Mean absolute seasonal difference of a training window (the MASE denominator)."""
    m = season_length if len(y) > season_length else 1
    diffs = np.abs(y[m:] - y[:-m])
    scale = float(diffs.mean()) if len(diffs) else float("nan")
    return scale if scale > 0 else float("nan")


def accuracy(actual: np.ndarray, predicted: np.ndarray, scales: np.ndarray) -> dict[str, float]:
    """Metrics over flattened backtest points; `scales` is each point's MASE denominator."""
    error = actual - predicted
    nonzero = actual != 0
    denominator = np.abs(actual) + np.abs(predicted)
    smape_terms = np.divide(
        2 * np.abs(error), denominator, out=np.zeros_like(error), where=denominator > 0
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        scaled = np.abs(error) / scales
    return {
        "mase": _mean(scaled),
        "smape": float(np.mean(smape_terms)) if len(error) else float("nan"),
        "mape": _mean(np.abs(error[nonzero] / actual[nonzero])),
        "rmse": float(np.sqrt(np.mean(error**2))) if len(error) else float("nan"),
    }


def _mean(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else float("nan")
