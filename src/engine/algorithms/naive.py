"""The seasonal naive forecast: each step repeats the value one season earlier (a random walk
when the series has no season). It is the reference every other model is measured against.

Its scale is fpp3's (§5.5): σ̂ of the in-sample one-season-back errors, times √(k + 1) where
k = ⌊(h − 1)/m⌋ counts the whole seasons between the step and the value it repeats.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engine.algorithms.base import require_fitted, validate_hyperparameters
from engine.errors import ValidationError
from engine.forecasting.base import PointForecast, SeriesData, positive_scale

PAYLOAD_FILE = "seasonal_naive.json"


class SeasonalNaiveForecaster:
    name: ClassVar[str] = "seasonal_naive"
    task: ClassVar[str] = "forecasting"
    supports_regressors: ClassVar[bool] = False
    accepts_missing: ClassVar[bool] = False
    payload_files: ClassVar[tuple[str, ...]] = (PAYLOAD_FILE,)
    hyperparameter_types: ClassVar[dict[str, type | tuple[type, ...]]] = {"season_length": int}

    def __init__(self, random_state: int = 0, **hyperparameters: Any) -> None:
        validate_hyperparameters(type(self), self.name, hyperparameters)
        if hyperparameters.get("season_length", 1) < 1:
            raise ValidationError.for_field(
                "hyperparameters.seasonal_naive.season_length", "must be at least 1"
            )
        self.random_state = random_state
        self.hyperparameters = dict(hyperparameters)
        self.last_season_: np.ndarray | None = None
        self.sigma_ = 0.0

    def get_params(self) -> dict[str, Any]:
        return dict(self.hyperparameters)

    def fit(self, series: SeriesData) -> SeasonalNaiveForecaster:
        m = int(self.hyperparameters.get("season_length", max(series.season_length, 1)))
        y = np.asarray(series.y, dtype=float)
        if len(y) < m + 1:
            raise ValidationError(
                f"The seasonal naive forecast needs at least {m + 1} points (a season of {m} "
                f"and one more to measure its error), got {len(y)}."
            )
        errors = y[m:] - y[:-m]
        self.last_season_ = y[-m:].copy()
        # Root mean square, not a standard deviation: the method has no drift, so a mean
        # error (a trend) belongs in its error (fpp3's σ̂ with K = 0 parameters).
        self.sigma_ = float(np.sqrt(np.mean(errors * errors)))
        return self

    def forecast(self, horizon: int, future_regressors: np.ndarray | None = None) -> PointForecast:
        require_fitted(self, "last_season_")
        assert self.last_season_ is not None
        m = len(self.last_season_)
        steps = np.arange(horizon)
        seasons_beyond = steps // m
        floor = 1e-9 * max(1.0, float(np.abs(self.last_season_).max()))
        return PointForecast(
            mean=self.last_season_[steps % m],
            scale=positive_scale(self.sigma_ * np.sqrt(seasons_beyond + 1.0), floor),
        )

    def summary(self) -> dict[str, Any]:
        require_fitted(self, "last_season_")
        assert self.last_season_ is not None
        return {"season_length": len(self.last_season_), "sigma": self.sigma_}

    def frozen_hyperparameters(self) -> dict[str, Any]:
        require_fitted(self, "last_season_")
        assert self.last_season_ is not None
        return {**self.hyperparameters, "season_length": len(self.last_season_)}

    def save(self, directory: Path) -> None:
        require_fitted(self, "last_season_")
        assert self.last_season_ is not None
        payload = {"last_season": self.last_season_.tolist(), "sigma": self.sigma_}
        (directory / PAYLOAD_FILE).write_text(json.dumps(payload))

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> SeasonalNaiveForecaster:
        params = dict(params)
        forecaster = cls(random_state=int(params.pop("random_state", 0)), **params)
        payload = json.loads((directory / PAYLOAD_FILE).read_text())
        forecaster.last_season_ = np.asarray(payload["last_season"], dtype=float)
        forecaster.sigma_ = float(payload["sigma"])
        return forecaster
