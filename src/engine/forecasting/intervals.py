"""Forecast intervals calibrated on backtest errors, step by step ahead.

Each model states its own standard deviation σ_h for every step ahead. Over the backtest, the
score of a point is |actual − forecast| / σ_h (in model space); the interval at level L and step
h is the forecast ± q_L(h)·σ_h, where q_L(h) is the split-conformal quantile (the
⌈(n+1)·L⌉-th smallest of n) of the scores of the steps near h. A model whose own σ is too narrow
(or too wide) gets a q larger (smaller) than the Gaussian z_L; and because q is read near each
step, a model whose σ does not grow with the horizon as its errors do (Prophet's barely grows)
is corrected at each horizon, not only on average.

"Near h" is the smallest window of steps centred on h holding at least `MIN_SCORES` scores, and
at least a tenth of the horizon wide: short horizons with few folds pool every step, long ones
with many folds read their own neighbourhood.

Coverage is reported cross-fitted: each fold's points are judged by the quantiles of the other
folds' scores, so the figure is not measured on the errors it was calibrated on.
"""

from __future__ import annotations

import math

import numpy as np

MIN_SCORES = 60
WINDOW_SHARE = 0.1


def conformal_quantile(sorted_scores: np.ndarray, level: float) -> float:
    """The ⌈(n+1)·level⌉-th smallest score; the largest when n is too small to reach it."""
    n = len(sorted_scores)
    if n == 0:
        return float("nan")
    rank = min(math.ceil((n + 1) * level), n)
    return float(sorted_scores[rank - 1])


def scores_of(errors: np.ndarray, scales: np.ndarray) -> np.ndarray:
    return np.asarray(np.sort(np.abs(errors) / scales), dtype=float)


def step_quantiles(score_matrix: np.ndarray, level: float) -> np.ndarray:
    """q_L(h) for every step h of a (folds, horizon) matrix of scores (nan where unscored)."""
    horizon = score_matrix.shape[1]
    counts = np.isfinite(score_matrix).sum(axis=0)
    least = max(1, math.ceil(WINDOW_SHARE * horizon / 2))
    quantiles = np.full(horizon, np.nan)
    for h in range(horizon):
        width = least
        while True:
            low, high = max(0, h - width), min(horizon, h + width + 1)
            if counts[low:high].sum() >= MIN_SCORES or (low == 0 and high == horizon):
                break
            width += 1
        window = score_matrix[:, low:high]
        quantiles[h] = conformal_quantile(np.sort(window[np.isfinite(window)]), level)
    return quantiles


def cross_fitted_coverage(score_matrix: np.ndarray, level: float) -> float:
    """Share of backtest points inside the interval calibrated on the other folds' scores
    (with one fold there is nothing else to calibrate on: its own scores are used)."""
    inside = total = 0
    folds = score_matrix.shape[0]
    for k in range(folds):
        others = np.delete(score_matrix, k, axis=0) if folds > 1 else score_matrix
        q = step_quantiles(others, level)
        row = score_matrix[k]
        seen = np.isfinite(row)
        inside += int(np.sum(row[seen] <= q[seen]))
        total += int(seen.sum())
    return inside / total if total else float("nan")


def bounds(
    mean: np.ndarray, scale: np.ndarray, quantiles: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The interval of each step, from that step's quantile (`step_quantiles`, sliced to the
    horizon asked for)."""
    q = quantiles[: len(mean)]
    return mean - q * scale, mean + q * scale
