"""A trained forecasting asset, as stored in a version and served: per series, the chosen
model, its forecast path from the end of the training data, and its interval calibration.

Without regressors a forecast depends only on the fitted model, so the path is computed once at
training time up to the asset's horizon and served by slicing it (no model call on the hot path).
With regressors the request's future values change the forecast: the series' model is loaded
(once, on first use) and asked.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from engine.algorithms import ALGORITHMS
from engine.forecasting import intervals

FORECAST_FILE = "forecast.json"
SERIES_DIR = "series"


def key_text(values: Sequence[Any]) -> tuple[str, ...]:
    """A series key as text, so 7 in a request finds the series stored from an integer column."""
    return tuple("" if v is None else str(v) for v in values)


@dataclass
class SeriesModel:
    key: dict[str, Any]
    algorithm: str
    params: dict[str, Any]
    summary: dict[str, Any]
    directory: str
    last_date: pd.Timestamp
    points: int
    mean: np.ndarray | None
    scale: np.ndarray | None
    scores: np.ndarray
    """(folds, horizon) backtest |error| / σ of the chosen model, nan where unscored."""
    metrics: dict[str, dict[str, float]]
    _quantiles: dict[float, np.ndarray] = field(default_factory=dict, repr=False)

    def quantiles(self, level: float) -> np.ndarray:
        """q_L(h) for each step, computed once per level (the asset's levels at load)."""
        found = self._quantiles.get(level)
        if found is None:
            found = intervals.step_quantiles(self.scores, level)
            self._quantiles[level] = found
        return found

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.key.items()) or "all"


@dataclass
class Forecast:
    series: SeriesModel
    dates: pd.DatetimeIndex
    mean: np.ndarray
    """In data units."""
    bands: dict[float, tuple[np.ndarray, np.ndarray]]


class TrainedForecast:
    def __init__(
        self,
        meta: dict[str, Any],
        series: list[SeriesModel],
        directory: Path | None = None,
    ) -> None:
        self.meta = meta
        self.frequency: str = meta["frequency"]
        self.horizon: int = int(meta["horizon"])
        self.transform: str = meta["value_transform"]
        self.series_keys: list[str] = list(meta["series_keys"])
        self.regressors: list[str] = list(meta["regressors"])
        self.levels: list[float] = [float(x) for x in meta["confidence_levels"]]
        self.series = series
        self._by_key = {key_text([s.key[k] for k in self.series_keys]): s for s in series}
        self._directory = directory
        for entry in series:  # the first request should not pay for the calibration
            for level in self.levels:
                entry.quantiles(level)
        self._models: dict[str, Any] = {}
        self._lock = threading.Lock()
        self._dates = {
            s.directory: pd.date_range(s.last_date, periods=self.horizon + 1, freq=self.frequency)[
                1:
            ]
            for s in series
        }

    # -- lookup -----------------------------------------------------------------------------

    def find(self, key: Mapping[str, Any]) -> SeriesModel | None:
        return self._by_key.get(key_text([key.get(k) for k in self.series_keys]))

    def known_keys(self, limit: int = 5) -> list[dict[str, Any]]:
        return [s.key for s in self.series[:limit]]

    # -- forecasting ------------------------------------------------------------------------

    def forecast(
        self,
        series: SeriesModel,
        horizon: int,
        levels: Sequence[float],
        future_regressors: np.ndarray | None = None,
    ) -> Forecast:
        if future_regressors is None and series.mean is not None and series.scale is not None:
            mean, scale = series.mean[:horizon], series.scale[:horizon]
        else:
            path = self.model(series).forecast(horizon, future_regressors)
            mean, scale = path.mean, path.scale
        bands = {}
        for level in levels:
            lower, upper = intervals.bounds(mean, scale, series.quantiles(level))
            bands[level] = (self._data(lower), self._data(upper))
        return Forecast(series, self._dates[series.directory][:horizon], self._data(mean), bands)

    def _data(self, values: np.ndarray) -> np.ndarray:
        return np.exp(values) if self.transform == "log" else values

    def model(self, series: SeriesModel) -> Any:
        """The series' fitted model, loaded from the version on first use."""
        found = self._models.get(series.directory)
        if found is not None:
            return found
        if self._directory is None:
            raise RuntimeError("this forecast was not loaded from a version directory")
        with self._lock:
            found = self._models.get(series.directory)
            if found is None:
                cls: Any = ALGORITHMS.load(series.algorithm)
                found = cls.load(self._directory / series.directory, series.params)
                self._models[series.directory] = found
        return found

    # -- storage ----------------------------------------------------------------------------

    @staticmethod
    def write_payload(
        directory: Path,
        meta: dict[str, Any],
        series: list[SeriesModel],
        model_files: list[dict[str, bytes]],
    ) -> None:
        for entry, files in zip(series, model_files, strict=True):
            target = directory / entry.directory
            target.mkdir(parents=True)
            for name, content in files.items():
                path = target / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(content)
        document = {
            **meta,
            "series": [
                {
                    "key": s.key,
                    "algorithm": s.algorithm,
                    "params": s.params,
                    "summary": s.summary,
                    "directory": s.directory,
                    "last_date": s.last_date.isoformat(),
                    "points": s.points,
                    "mean": None if s.mean is None else s.mean.tolist(),
                    "scale": None if s.scale is None else s.scale.tolist(),
                    "scores": [
                        [None if not np.isfinite(v) else round(float(v), 8) for v in row]
                        for row in s.scores
                    ],
                    "metrics": s.metrics,
                }
                for s in series
            ],
        }
        (directory / FORECAST_FILE).write_text(json.dumps(document, default=_json_default))

    @classmethod
    def load(cls, directory: Path, manifest: Mapping[str, Any]) -> TrainedForecast:
        """Load a payload whose checksums the artifact store has already verified."""
        document = json.loads((directory / FORECAST_FILE).read_text())
        series = [
            SeriesModel(
                key=s["key"],
                algorithm=s["algorithm"],
                params=s["params"],
                summary=s["summary"],
                directory=s["directory"],
                last_date=pd.Timestamp(s["last_date"]),
                points=int(s["points"]),
                mean=None if s["mean"] is None else np.asarray(s["mean"], dtype=float),
                scale=None if s["scale"] is None else np.asarray(s["scale"], dtype=float),
                scores=np.asarray(s["scores"], dtype=float).reshape(-1, int(document["horizon"])),
                metrics=s["metrics"],
            )
            for s in document.pop("series")
        ]
        return cls(document, series, directory)


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    return str(value)
