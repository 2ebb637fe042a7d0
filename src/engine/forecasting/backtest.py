"""Rolling-origin backtests of one algorithm on one series.

The model is fitted once on the whole series (where it searches, e.g. ARIMA's orders), then
refitted on each fold's training window with the structure it chose, and scored on the
`horizon` steps after each cutoff. The order search thus saw the whole series once; the fitted
coefficients of every fold saw only that fold's past.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from engine.algorithms import make_forecaster
from engine.forecasting.base import PointForecast, SeriesData
from engine.forecasting.intervals import cross_fitted_coverage
from engine.forecasting.metrics import accuracy, naive_scale


def cutoffs(n: int, horizon: int, period: int, folds: int, initial: int) -> list[int]:
    """Training lengths of the folds, oldest first: the last fold ends `horizon` steps before
    the end, earlier ones `period` apart, none shorter than `initial`."""
    found = []
    for k in range(folds):
        cut = n - horizon - k * period
        if cut < initial:
            break
        found.append(cut)
    return sorted(found)


@dataclass
class FoldResult:
    cutoff: int
    actual: np.ndarray
    """Model-space actual values of the `horizon` steps after the cutoff (nan where missing)."""
    forecast: PointForecast
    naive_scale: float
    """MASE denominator of the fold's training window, in data units."""


@dataclass
class Backtest:
    algorithm: str
    folds: list[FoldResult]
    metrics: dict[str, float]
    scores: np.ndarray
    """(folds, horizon) |error| / σ in model space, nan where unscored: the interval
    calibration (`intervals.step_quantiles`)."""
    scaled_errors: np.ndarray
    """(folds, horizon) |error| / MASE scale in data units, nan where unscored."""
    step_squared_errors: np.ndarray
    """(horizon,) sum over folds of the squared error in data units at each step ahead."""
    step_points: np.ndarray
    """(horizon,) how many folds scored each step (a missing actual is not scored)."""

    def rmse_by_step(self) -> list[float | None]:
        return [
            float(np.sqrt(total / n)) if n else None
            for total, n in zip(self.step_squared_errors, self.step_points, strict=True)
        ]


def inverse(values: np.ndarray, transform: str) -> np.ndarray:
    return np.exp(values) if transform == "log" else values


def run(
    algorithm: str,
    frozen: dict[str, Any],
    series: SeriesData,
    actual: np.ndarray,
    fold_cutoffs: list[int],
    horizon: int,
    seed: int,
    transform: str,
    levels: list[float],
) -> Backtest:
    folds = []
    for cut in fold_cutoffs:
        train = series.head(cut)
        model = make_forecaster(algorithm, frozen, random_state=seed).fit(train)
        future = None if series.regressors is None else series.regressors[cut : cut + horizon]
        forecast = model.forecast(horizon, future)
        data_train = inverse(train.y, transform)
        folds.append(
            FoldResult(
                cut,
                actual[cut : cut + horizon],
                forecast,
                naive_scale(data_train[np.isfinite(data_train)], series.season_length),
            )
        )
    return score(algorithm, folds, horizon, transform, levels)


def score(
    algorithm: str, folds: list[FoldResult], horizon: int, transform: str, levels: list[float]
) -> Backtest:
    actual, predicted, scales = [], [], []
    fold_errors, fold_sigmas = [], []
    scaled = np.full((len(folds), horizon), np.nan)
    scores = np.full((len(folds), horizon), np.nan)
    step_sse, step_points = np.zeros(horizon), np.zeros(horizon, dtype=int)
    for i, fold in enumerate(folds):
        seen = np.isfinite(fold.actual)
        truth = inverse(fold.actual[seen], transform)
        guess = inverse(fold.forecast.mean[seen], transform)
        actual.append(truth)
        predicted.append(guess)
        scales.append(np.full(len(truth), fold.naive_scale))
        fold_errors.append(fold.actual[seen] - fold.forecast.mean[seen])
        fold_sigmas.append(fold.forecast.scale[seen])
        scaled[i, seen] = np.abs(truth - guess) / fold.naive_scale
        scores[i, seen] = np.abs(fold_errors[-1]) / fold_sigmas[-1]
        steps = np.flatnonzero(seen)
        step_sse[steps] += (truth - guess) ** 2
        step_points[steps] += 1
    metrics = accuracy(np.concatenate(actual), np.concatenate(predicted), np.concatenate(scales))
    for level in levels:
        name = f"coverage_{percent_label(level)}"
        metrics[name] = cross_fitted_coverage(scores, level)
        # The model's own Gaussian interval, uncalibrated: what calibration corrects.
        z = float(norm.ppf((1 + level) / 2))
        errors, sigmas = np.concatenate(fold_errors), np.concatenate(fold_sigmas)
        metrics[f"model_{name}"] = float(np.mean(np.abs(errors) <= z * sigmas))
    metrics["folds"] = float(len(folds))
    return Backtest(
        algorithm=algorithm,
        folds=folds,
        metrics=metrics,
        scores=scores,
        scaled_errors=scaled,
        step_squared_errors=step_sse,
        step_points=step_points,
    )


def percent_label(level: float) -> str:
    """0.8 → "80", 0.975 → "97.5"."""
    value = level * 100
    return str(round(value)) if math.isclose(value, round(value)) else f"{value:g}"
