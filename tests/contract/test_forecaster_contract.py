"""One contract suite run against every forecaster in `engine.algorithms.ALGORITHMS`.

The registry is iterated, so a forecaster added to it (built-in or through the entry-point group)
is covered without touching this file; one whose optional dependency is not installed is skipped
with the reason. Only the `Forecaster` protocol is used. The series are short and synthetic so
that the whole suite runs in seconds.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine.algorithms import ALGORITHMS, FORECASTING, make_forecaster, task_of
from engine.errors import EngineError, MissingDependencyError, ValidationError
from engine.forecasting.base import Forecaster, SeriesData

HORIZON = 14
SEED = 7
# Box–Jenkins series G, monthly airline passengers (thousands), January 1949 to December 1960.
AIR_PASSENGERS = (
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118,
    115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114, 140,
    145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,
    171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194,
    196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201,
    204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,
    242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278,
    284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271, 306,
    315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336,
    340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337,
    360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405,
    417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432,
)  # fmt: skip


def _is_forecaster(name: str) -> bool:
    try:
        return task_of(name) == FORECASTING
    except MissingDependencyError:
        return False  # a plug-in that cannot be imported cannot say what it is


NAMES = [name for name in ALGORITHMS if _is_forecaster(name)]
PROTOCOL_MEMBERS = sorted(
    {*Forecaster.__annotations__}
    | {
        member
        for member, value in vars(Forecaster).items()
        if not member.startswith("_") and (callable(value) or isinstance(value, classmethod))
    }
)


def forecaster_class(name: str) -> Any:
    try:
        return ALGORITHMS.load(name)
    except MissingDependencyError as exc:
        pytest.skip(f"{name} is not installed here: {exc.message}")


def small_params(name: str) -> dict[str, Any]:
    """Small, fast hyperparameters, chosen from what the adapter says it accepts."""
    types = forecaster_class(name).hyperparameter_types
    return {"epochs": 5} if "epochs" in types else {}


def make(name: str) -> Any:
    return make_forecaster(name, small_params(name), random_state=SEED)


def daily_series(
    n: int = 150, *, noise: float = 1.0, trend: float = 0.05, regressor: bool = False
) -> SeriesData:
    """Weekly seasonality, a trend and noise; with `regressor`, a known promotion effect."""
    rng = np.random.default_rng(0)
    t = np.arange(n, dtype=float)
    weekly = 4.0 * np.sin(2 * np.pi * t / 7) + 1.5 * np.cos(4 * np.pi * t / 7)
    y = 50.0 + trend * t + weekly + noise * rng.normal(size=n)
    promo = None
    if regressor:
        promo = (rng.random(n) < 0.2).astype(float)[:, None]
        y = y + 6.0 * promo[:, 0]
    return SeriesData(
        y=y,
        index=pd.date_range("2024-01-01", periods=n, freq="D"),
        frequency="D",
        season_length=7,
        regressors=promo,
        regressor_names=("promo",) if regressor else (),
    )


SERIES = daily_series()


@dataclass(frozen=True)
class Fitted:
    name: str
    model: Any
    returned: Any


@pytest.fixture(scope="module", params=NAMES)
def fitted(request: pytest.FixtureRequest) -> Fitted:
    name: str = request.param
    model = make(name)
    return Fitted(name, model, model.fit(SERIES))


def test_registry_lists_the_builtin_forecasters() -> None:
    assert {"arima", "prophet", "lstm", "seasonal_naive"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_class_says_what_it_is(name: str) -> None:
    cls = forecaster_class(name)
    assert cls.name == name
    assert cls.task == FORECASTING
    assert isinstance(cls.supports_regressors, bool)
    model = make(name)
    missing = [member for member in PROTOCOL_MEMBERS if not hasattr(model, member)]
    assert not missing, f"{name} lacks {missing} of the Forecaster protocol"
    assert isinstance(model, Forecaster)


def test_fit_returns_self(fitted: Fitted) -> None:
    assert fitted.returned is fitted.model


def test_forecast_shape_and_values(fitted: Fitted) -> None:
    forecast = fitted.model.forecast(HORIZON)
    assert forecast.mean.shape == (HORIZON,)
    assert forecast.scale.shape == (HORIZON,)
    assert np.all(np.isfinite(forecast.mean))
    assert np.all(np.isfinite(forecast.scale))
    assert np.all(forecast.scale > 0)


def test_forecast_is_deterministic_for_a_random_state(fitted: Fitted) -> None:
    again = make(fitted.name).fit(SERIES).forecast(HORIZON)
    first = fitted.model.forecast(HORIZON)
    np.testing.assert_allclose(again.mean, first.mean, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(again.scale, first.scale, rtol=1e-9, atol=1e-9)


def test_save_load_round_trip(fitted: Fitted, tmp_path: Path) -> None:
    cls = forecaster_class(fitted.name)
    fitted.model.save(tmp_path)
    written = sorted(tmp_path.iterdir())
    assert written, "save wrote nothing"
    assert all(path.is_file() and path.stat().st_size > 0 for path in written)
    declared = getattr(cls, "payload_files", None)
    if declared is not None:
        assert [path.name for path in written] == sorted(declared)
    loaded = cls.load(tmp_path, fitted.model.get_params())
    assert isinstance(loaded, cls)
    before, after = fitted.model.forecast(HORIZON), loaded.forecast(HORIZON)
    assert np.allclose(after.mean, before.mean)
    assert np.allclose(after.scale, before.scale)


def test_descriptions_are_strict_json(fitted: Fitted) -> None:
    for described in (
        fitted.model.summary(),
        fitted.model.get_params(),
        fitted.model.frozen_hyperparameters(),
    ):
        assert isinstance(described, dict)
        json.dumps(described, allow_nan=False)


def test_frozen_hyperparameters_rebuild_the_model(fitted: Fitted) -> None:
    frozen = fitted.model.frozen_hyperparameters()
    rebuilt = make_forecaster(fitted.name, frozen, random_state=SEED).fit(SERIES)
    before, after = fitted.model.forecast(HORIZON), rebuilt.forecast(HORIZON)
    spread = float(np.std(SERIES.y))
    assert np.max(np.abs(after.mean - before.mean)) < 0.05 * spread
    assert np.allclose(after.scale, before.scale, rtol=0.1)


@pytest.mark.parametrize("name", NAMES)
def test_unknown_hyperparameter_is_a_field_error(name: str) -> None:
    forecaster_class(name)
    with pytest.raises(ValidationError) as info:
        make_forecaster(name, {"no_such_knob": 1})
    assert [d.field for d in info.value.details] == [f"hyperparameters.{name}.no_such_knob"]


@pytest.mark.parametrize("name", NAMES)
def test_unfitted_model_refuses_to_forecast(name: str) -> None:
    model = make(name)
    with pytest.raises(EngineError):
        model.forecast(HORIZON)


@pytest.mark.parametrize("name", NAMES)
def test_regressors_are_required_once_fitted_with_them(name: str) -> None:
    if not forecaster_class(name).supports_regressors:
        pytest.skip(f"{name} does not take regressors")
    series = daily_series(regressor=True)
    model = make(name).fit(series)
    with pytest.raises(ValidationError):
        model.forecast(HORIZON)
    future = np.zeros((HORIZON, 1))
    future[::3] = 1.0
    with_promo = model.forecast(HORIZON, future)
    assert with_promo.mean.shape == (HORIZON,)
    assert np.all(np.isfinite(with_promo.mean))
    # The promotion adds 6 to the series; the model should have noticed it.
    without_promo = model.forecast(HORIZON, np.zeros((HORIZON, 1)))
    assert np.mean((with_promo.mean - without_promo.mean)[::3]) > 3.0


@pytest.mark.parametrize("name", NAMES)
def test_a_clean_seasonal_series_beats_the_flat_mean(name: str) -> None:
    series = daily_series(noise=0.0, trend=0.0)
    train = series.head(len(series) - HORIZON)
    actual = series.y[-HORIZON:]
    forecast = make(name).fit(train).forecast(HORIZON).mean
    flat = np.full(HORIZON, train.y.mean())
    assert np.mean(np.abs(forecast - actual)) < np.mean(np.abs(flat - actual))


@pytest.mark.parametrize("name", NAMES)
def test_missing_values_are_skipped_by_models_that_accept_them(name: str, tmp_path: Path) -> None:
    cls = forecaster_class(name)
    if not getattr(cls, "accepts_missing", False):
        pytest.skip(f"{name} needs every value (the engine interpolates for it)")
    y = SERIES.y.copy()
    y[[3, 40, 41, 42, 97]] = np.nan
    gappy = SeriesData(y=y, index=SERIES.index, frequency="D", season_length=7)
    model = make(name).fit(gappy)
    forecast = model.forecast(HORIZON)
    assert np.all(np.isfinite(forecast.mean))
    assert np.all(np.isfinite(forecast.scale) & (forecast.scale > 0))
    model.save(tmp_path)
    loaded = cls.load(tmp_path, model.get_params())
    assert np.allclose(loaded.forecast(HORIZON).mean, forecast.mean)


def test_arima_reproduces_the_airline_model() -> None:
    """Box–Jenkins series G, ARIMA(0,1,1)(0,1,1)₁₂ on log passengers: the published
    coefficients are ma1 −0.4018 and sma1 −0.5569 (and log-likelihood 244.7)."""
    series = SeriesData(
        y=np.log(np.array(AIR_PASSENGERS, dtype=float)),
        index=pd.date_range("1949-01-01", periods=len(AIR_PASSENGERS), freq="MS"),
        frequency="MS",
        season_length=12,
    )
    model = make_forecaster("arima", {"order": [0, 1, 1], "seasonal_order": [0, 1, 1]})
    summary = model.fit(series).summary()
    assert summary["order"] == [0, 1, 1]
    assert summary["seasonal_order"] == [0, 1, 1, 12]
    assert summary["coefficients"]["ma.L1"] == pytest.approx(-0.4018, abs=0.005)
    assert summary["coefficients"]["ma.S.L12"] == pytest.approx(-0.5569, abs=0.005)
    assert summary["coefficients"]["sigma2"] == pytest.approx(0.001348, rel=0.02)
    assert summary["log_likelihood"] == pytest.approx(244.7, abs=0.1)


@pytest.mark.parametrize(
    ("hyperparameters", "field"),
    [
        ({"order": [1, 1]}, "order"),
        ({"order": [1, 3, 1]}, "order"),
        ({"seasonal_order": [0, 1, 1, 12, 1]}, "seasonal_order"),
        ({"seasonal_order": [0, 1, True]}, "seasonal_order"),
        ({"information_criterion": "hqic"}, "information_criterion"),
        ({"trend": "linear"}, "trend"),
    ],
)
def test_arima_refuses_bad_values_at_construction(
    hyperparameters: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as info:
        make_forecaster("arima", hyperparameters)
    assert [d.field for d in info.value.details] == [f"hyperparameters.arima.{field}"]


def test_seasonal_naive_repeats_the_last_season_with_fpp3_scale() -> None:
    model = make_forecaster("seasonal_naive").fit(SERIES)
    forecast = model.forecast(17)
    m, y = 7, SERIES.y
    np.testing.assert_array_equal(forecast.mean, np.tile(y[-m:], 3)[:17])
    sigma = np.sqrt(np.mean((y[m:] - y[:-m]) ** 2))
    seasons_back = np.arange(17) // m + 1
    np.testing.assert_allclose(forecast.scale, sigma * np.sqrt(seasons_back))


def test_seasonal_naive_takes_a_season_length_and_needs_one_more_point() -> None:
    model = make_forecaster("seasonal_naive", {"season_length": 1}).fit(SERIES)
    np.testing.assert_array_equal(model.forecast(3).mean, np.full(3, SERIES.y[-1]))
    with pytest.raises(ValidationError, match="at least 8 points"):
        make_forecaster("seasonal_naive").fit(SERIES.head(7))
