"""Forecast intervals calibrated on backtest errors.

Each model states its own standard deviation σ_h for every step ahead. Over the backtest, the
score of a point is |actual − forecast| / σ_h (in model space); the interval at level L is the
forecast ± q_L·σ_h, where q_L is the split-conformal quantile of the scores: the
⌈(n+1)·L⌉-th smallest of n. A model whose own σ is too narrow (or too wide) is corrected by a
q_L larger (smaller) than the Gaussian z_L, while the model keeps the shape of σ over the
horizon. Coverage is reported cross-fitted: each fold's points are judged by the quantile of the
other folds' scores, so the figure is not measured on the errors it was calibrated on.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np


def conformal_quantile(sorted_scores: np.ndarray, level: float) -> float:
    """The ⌈(n+1)·level⌉-th smallest score; the largest when n is too small to reach it."""
    n = len(sorted_scores)
    if n == 0:
        return float("nan")
    rank = min(math.ceil((n + 1) * level), n)
    return float(sorted_scores[rank - 1])


def scores_of(errors: np.ndarray, scales: np.ndarray) -> np.ndarray:
    return np.asarray(np.sort(np.abs(errors) / scales), dtype=float)


def cross_fitted_coverage(
    fold_errors: Sequence[np.ndarray], fold_scales: Sequence[np.ndarray], level: float
) -> float:
    """Share of backtest points inside the interval calibrated on the other folds' scores
    (with one fold there is nothing else to calibrate on: its own scores are used)."""
    inside = total = 0
    for k, (errors, scales) in enumerate(zip(fold_errors, fold_scales, strict=True)):
        others = [
            scores_of(e, s)
            for j, (e, s) in enumerate(zip(fold_errors, fold_scales, strict=True))
            if j != k
        ] or [scores_of(errors, scales)]
        q = conformal_quantile(np.sort(np.concatenate(others)), level)
        inside += int(np.sum(np.abs(errors) <= q * scales))
        total += len(errors)
    return inside / total if total else float("nan")


def bounds(
    mean: np.ndarray, scale: np.ndarray, sorted_scores: np.ndarray, level: float
) -> tuple[np.ndarray, np.ndarray]:
    q = conformal_quantile(sorted_scores, level)
    return mean - q * scale, mean + q * scale
