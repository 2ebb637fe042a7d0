"""Prophet: a piecewise-linear trend plus Fourier seasonalities, country holidays and extra
regressors, fitted by Stan's optimiser (a MAP estimate, no MCMC).

Prophet's own defaults are kept, so a model given no hyperparameters is the one its
documentation describes. Its 80% interval, from simulated trend changes and noise, becomes the
per-step scale; the engine calibrates that on backtest errors, since Prophet's intervals are
often too narrow.
"""

from __future__ import annotations

import json
import logging
import threading
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from scipy.stats import norm

from engine.algorithms.base import require_fitted
from engine.errors import FieldProblem, ValidationError
from engine.forecasting.base import PointForecast, SeriesData, positive_scale

# prophet.plot logs an error at import when plotly is missing; the engine never plots with
# Prophet, so the message would only alarm. cmdstanpy installs its own INFO handler on first
# use unless its logger already has one.
logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)
logging.getLogger("cmdstanpy").addHandler(logging.NullHandler())
logging.getLogger("cmdstanpy").setLevel(logging.WARNING)

from prophet import Prophet  # noqa: E402
from prophet.make_holidays import get_holiday_names  # noqa: E402
from prophet.serialize import model_from_json, model_to_json  # noqa: E402
from prophet.utilities import regressor_coefficients  # noqa: E402

# Set after the import: prophet.forecaster sets its logger to INFO when it loads.
logging.getLogger("prophet").setLevel(logging.WARNING)

PAYLOAD_FILE = "prophet.json"
_INTERVAL_WIDTH = 0.8  # Prophet's default
_Z = float(norm.ppf(0.5 + _INTERVAL_WIDTH / 2))
_UNCERTAINTY_SAMPLES = 300
"""Prophet draws 1000 by default. With 300 a step's scale moves about 5% from one seed to the
next (2.5% with 1000), well inside what backtest calibration adjusts anyway, and prediction
takes half the time."""

_CHOICES = {
    "growth": ("linear", "flat"),  # "logistic" needs a capacity per row, which no asset gives
    "seasonality_mode": ("additive", "multiplicative"),
}
_POSITIVE = ("changepoint_prior_scale", "seasonality_prior_scale", "holidays_prior_scale")
_SEASONALITIES = ("yearly_seasonality", "weekly_seasonality", "daily_seasonality")

# Prophet's numpy sampling uses the global RNG; seeding it is only reproducible if no other
# thread's forecast reseeds it in between.
_GLOBAL_RNG = threading.Lock()


class ProphetForecaster:
    name: ClassVar[str] = "prophet"
    task: ClassVar[str] = "forecasting"
    supports_regressors: ClassVar[bool] = True
    # Prophet drops rows without a value; its documentation advises that over filling them in.
    accepts_missing: ClassVar[bool] = True
    payload_files: ClassVar[tuple[str, ...]] = (PAYLOAD_FILE,)
    hyperparameter_types: ClassVar[dict[str, type | tuple[type, ...]]] = {
        "growth": str,
        "changepoint_prior_scale": float,
        "seasonality_prior_scale": float,
        "holidays_prior_scale": float,
        "seasonality_mode": str,
        "yearly_seasonality": (bool, str, int),
        "weekly_seasonality": (bool, str, int),
        "daily_seasonality": (bool, str, int),
        "n_changepoints": int,
        "changepoint_range": float,
        "country_holidays": str,
        "uncertainty_samples": int,
    }

    def __init__(self, random_state: int = 0, **hyperparameters: Any) -> None:
        problems = _problems(hyperparameters)
        if problems:
            raise ValidationError(
                "Invalid hyperparameters for prophet: "
                + "; ".join(f"{p.field}: {p.problem}" for p in problems),
                problems,
            )
        self.random_state = random_state
        self.hyperparameters = hyperparameters
        self.model_: Prophet | None = None
        self.state_: dict[str, Any] = {}

    def get_params(self) -> dict[str, Any]:
        return {**self.hyperparameters, "random_state": self.random_state}

    def frozen_hyperparameters(self) -> dict[str, Any]:
        return dict(self.hyperparameters)

    def _new_model(self) -> Prophet:
        given = dict(self.hyperparameters)
        country = given.pop("country_holidays", None)
        given.setdefault("uncertainty_samples", _UNCERTAINTY_SAMPLES)
        model = Prophet(interval_width=_INTERVAL_WIDTH, **given)
        if country is not None:
            model.add_country_holidays(country)
        return model

    def fit(self, series: SeriesData) -> ProphetForecaster:
        model = self._new_model()
        index = series.index.tz_localize(None) if series.index.tz is not None else series.index
        frame = pd.DataFrame({"ds": index, "y": np.asarray(series.y, dtype=float)})
        for column, name in enumerate(series.regressor_names):
            assert series.regressors is not None
            try:
                model.add_regressor(name)
            except ValueError as exc:
                raise ValidationError.for_field(f"regressors.{name}", str(exc)) from exc
            frame[name] = series.regressors[:, column]
        model.fit(frame, seed=self.random_state % 2**32)
        self.model_ = model
        self.state_ = {
            "frequency": series.frequency,
            "last": index[-1].isoformat(),
            "series_std": float(np.nanstd(series.y)),
        }
        return self

    def _fitted(self) -> Prophet:
        require_fitted(self, "model_")
        assert self.model_ is not None
        return self.model_

    def forecast(self, horizon: int, future_regressors: np.ndarray | None = None) -> PointForecast:
        model = self._fitted()
        if horizon == 0:
            return PointForecast(mean=np.empty(0), scale=np.empty(0))
        last = pd.Timestamp(self.state_["last"])
        frame = pd.DataFrame(
            {"ds": pd.date_range(last, periods=horizon + 1, freq=self.state_["frequency"])[1:]}
        )
        names = list(model.extra_regressors)
        if names:
            frame[names] = _future_regressors(future_regressors, horizon, names)
        with _GLOBAL_RNG:
            outside = np.random.get_state()
            np.random.seed(self.random_state % 2**32)
            try:
                predicted = model.predict(frame)
            finally:
                np.random.set_state(outside)
        mean = predicted["yhat"].to_numpy(dtype=float)
        width = predicted["yhat_upper"].to_numpy(dtype=float) - predicted["yhat_lower"].to_numpy(
            dtype=float
        )
        floor = 1e-6 * (self.state_["series_std"] or 1.0)
        return PointForecast(mean=mean, scale=positive_scale(width / (2 * _Z), floor))

    def summary(self) -> dict[str, Any]:
        model = self._fitted()
        params = {name: float(np.ravel(model.params[name])[0]) for name in ("k", "m", "sigma_obs")}
        regressors = []
        if model.extra_regressors:
            table = regressor_coefficients(model)
            regressors = [
                {"name": str(name), "mode": str(mode), "coefficient": float(coefficient)}
                for name, mode, coefficient in zip(
                    table["regressor"],
                    table["regressor_mode"],
                    table["coef"].to_numpy(dtype=float),
                    strict=True,
                )
            ]
        return {
            "growth": model.growth,
            "changepoints": 0 if model.changepoints is None else len(model.changepoints),
            "seasonalities": [
                {
                    "name": name,
                    "period": float(props["period"]),
                    "fourier_order": int(props["fourier_order"]),
                    "mode": props["mode"],
                }
                for name, props in model.seasonalities.items()
            ],
            "regressors": regressors,
            "country_holidays": model.country_holidays,
            "y_scale": model.y_scale,
            **params,
        }

    def save(self, directory: Path) -> None:
        payload = {**self.state_, "model": json.loads(model_to_json(self._fitted()))}
        (directory / PAYLOAD_FILE).write_text(json.dumps(payload), encoding="utf-8")

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> ProphetForecaster:
        params = dict(params)
        forecaster = cls(random_state=int(params.pop("random_state", 0)), **params)
        payload = json.loads((directory / PAYLOAD_FILE).read_text(encoding="utf-8"))
        forecaster.model_ = model_from_json(json.dumps(payload.pop("model")))
        forecaster.state_ = payload
        return forecaster


def _problems(given: dict[str, Any]) -> list[FieldProblem]:
    problems = []

    def refuse(key: str, problem: str) -> None:
        problems.append(FieldProblem(f"hyperparameters.prophet.{key}", problem))

    for key, allowed in _CHOICES.items():
        if key in given and given[key] not in allowed:
            refuse(key, f"must be one of {', '.join(allowed)}; got {given[key]!r}")
    for key in _POSITIVE:
        if key in given and not given[key] > 0:
            refuse(key, f"must be greater than 0, got {given[key]!r}")
    for key in _SEASONALITIES:
        value = given.get(key, "auto")
        if not (
            value == "auto" or isinstance(value, bool) or (isinstance(value, int) and value >= 0)
        ):
            refuse(key, f"must be 'auto', true, false or a Fourier order; got {value!r}")
    if "changepoint_range" in given and not 0 < given["changepoint_range"] <= 1:
        refuse("changepoint_range", f"must be in (0, 1], got {given['changepoint_range']!r}")
    if given.get("n_changepoints", 0) < 0:
        refuse("n_changepoints", f"must be at least 0, got {given['n_changepoints']!r}")
    country = given.get("country_holidays")
    if country is not None:
        # Broad on purpose: the holidays package signals an unknown code as AttributeError,
        # but a name it has that is no country fails however calling that thing fails.
        try:
            get_holiday_names(country)
        except Exception:
            refuse(
                "country_holidays",
                f"no built-in holidays for {country!r}; use an ISO country code such as "
                "'US', 'GB' or 'DE'",
            )
    if given.get("uncertainty_samples", 1) < 1:
        refuse(
            "uncertainty_samples",
            "must be at least 1: the forecast's scale comes from these draws",
        )
    return problems


def _future_regressors(values: np.ndarray | None, horizon: int, names: list[str]) -> np.ndarray:
    expected = (horizon, len(names))
    if values is None or np.shape(values) != expected:
        got = "none" if values is None else f"shape {np.shape(values)}"
        raise ValidationError.for_field(
            "future_regressors",
            f"prophet was fitted with regressors {', '.join(names)}: give their values for each "
            f"of the {horizon} forecast steps, shape {expected}; got {got}",
        )
    array = np.asarray(values, dtype=float)
    if not np.isfinite(array).all():
        raise ValidationError.for_field(
            "future_regressors", "future regressor values must all be finite numbers"
        )
    return array
