"""What the Prophet and LSTM adapters do beyond the forecaster contract: regressors and holidays,
learning a plain signal, reproducibility, save → load, and the LSTM's optional dependency."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine.algorithms import ALGORITHMS, make_forecaster
from engine.errors import MissingDependencyError, ValidationError
from engine.forecasting.base import PointForecast, SeriesData

needs_torch = pytest.mark.skipif(
    importlib.util.find_spec("torch") is None, reason="the lstm extra is not installed"
)

FAST_LSTM = {"epochs": 25, "hidden_size": 16}


def daily(
    y: np.ndarray, regressors: np.ndarray | None = None, names: tuple[str, ...] = ()
) -> SeriesData:
    return SeriesData(
        y=np.asarray(y, dtype=float),
        index=pd.date_range("2022-01-03", periods=len(y), freq="D"),
        frequency="D",
        season_length=7,
        regressors=regressors,
        regressor_names=names,
    )


def weekly_pattern(n: int, seed: int = 0) -> np.ndarray:
    steps = np.arange(n)
    noise = np.random.default_rng(seed).normal(0, 0.1, n)
    return 5 + 0.01 * steps + np.sin(2 * np.pi * steps / 7) + noise


def assert_same(a: PointForecast, b: PointForecast) -> None:
    np.testing.assert_array_equal(a.mean, b.mean)
    np.testing.assert_array_equal(a.scale, b.scale)


@pytest.fixture(scope="module")
def promotion_series() -> SeriesData:
    """Sales lifted 3 units on promotion days, which come irregularly."""
    rng = np.random.default_rng(1)
    promotion = (rng.random(240) < 0.3).astype(float)
    return daily(weekly_pattern(240) + 3 * promotion, promotion[:, None], ("promotion",))


@pytest.fixture(scope="module")
def prophet_with_regressor(promotion_series: SeriesData) -> Any:
    return make_forecaster("prophet", random_state=5).fit(promotion_series)


def test_prophet_forecast_follows_the_future_regressor(prophet_with_regressor: Any) -> None:
    plan = np.array([0, 1, 1, 0, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0], dtype=float)
    forecast = prophet_with_regressor.forecast(len(plan), plan[:, None])
    without = prophet_with_regressor.forecast(len(plan), np.zeros((len(plan), 1)))
    np.testing.assert_allclose(forecast.mean - without.mean, 3 * plan, atol=0.3)
    assert (forecast.scale > 0).all()
    [regressor] = prophet_with_regressor.summary()["regressors"]
    assert regressor["name"] == "promotion"
    assert regressor["coefficient"] == pytest.approx(3, abs=0.3)


@pytest.mark.parametrize("future", [None, np.zeros((13, 1)), np.full((14, 1), np.nan)])
def test_prophet_refuses_missing_or_wrong_future_regressors(
    prophet_with_regressor: Any, future: np.ndarray | None
) -> None:
    with pytest.raises(ValidationError) as refused:
        prophet_with_regressor.forecast(14, future)
    assert refused.value.details[0].field == "future_regressors"


def test_prophet_save_load_forecasts_the_same(prophet_with_regressor: Any, tmp_path: Path) -> None:
    model = prophet_with_regressor
    plan = np.tile([[0.0], [1.0]], (5, 1))
    model.save(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == ["prophet.json"]
    loaded = ALGORITHMS.load("prophet").load(tmp_path, model.get_params())
    assert_same(loaded.forecast(10, plan), model.forecast(10, plan))
    assert loaded.summary() == model.summary()


def test_prophet_is_reproducible_and_leaves_numpy_global_rng_alone() -> None:
    series = daily(weekly_pattern(200))
    before = np.random.get_state(legacy=False)
    first = make_forecaster("prophet", random_state=7).fit(series).forecast(21)
    np.testing.assert_equal(np.random.get_state(legacy=False), before)
    np.random.random(3)  # wherever the global RNG stands, the forecast is the same
    second = make_forecaster("prophet", random_state=7).fit(series).forecast(21)
    assert_same(first, second)


def test_prophet_takes_country_holidays() -> None:
    model = make_forecaster("prophet", {"country_holidays": "US"}).fit(daily(weekly_pattern(200)))
    assert model.summary()["country_holidays"] == "US"
    assert np.isfinite(model.forecast(7).mean).all()


def test_prophet_refuses_an_unknown_country_when_made() -> None:
    with pytest.raises(ValidationError) as refused:
        make_forecaster("prophet", {"country_holidays": "Atlantis"})
    assert [d.field for d in refused.value.details] == ["hyperparameters.prophet.country_holidays"]


def test_prophet_refuses_logistic_growth_when_made() -> None:
    with pytest.raises(ValidationError, match=r"hyperparameters\.prophet\.growth"):
        make_forecaster("prophet", {"growth": "logistic"})


@pytest.fixture(scope="module")
def sine_lstm() -> tuple[Any, np.ndarray]:
    """Default hyperparameters, 300 steps of a noisy sine with period 12, 24 steps held out."""
    steps = np.arange(324)
    wave = np.sin(2 * np.pi * steps / 12) + np.random.default_rng(2).normal(0, 0.02, len(steps))
    model = make_forecaster("lstm", random_state=3).fit(daily(wave[:300]))
    return model, wave[300:]


@needs_torch
def test_lstm_learns_a_sine_wave(sine_lstm: tuple[Any, np.ndarray]) -> None:
    model, actual = sine_lstm
    forecast = model.forecast(len(actual))
    rmse = float(np.sqrt(np.mean((forecast.mean - actual) ** 2)))
    assert rmse < 0.2 * actual.std()
    assert (np.diff(forecast.scale) > 0).all()


@needs_torch
def test_lstm_save_load_forecasts_the_same(
    sine_lstm: tuple[Any, np.ndarray], tmp_path: Path
) -> None:
    model, _ = sine_lstm
    model.save(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["lstm.json", "lstm.pt"]
    loaded = ALGORITHMS.load("lstm").load(tmp_path, model.get_params())
    assert_same(loaded.forecast(30), model.forecast(30))
    assert loaded.summary() == model.summary()


@needs_torch
def test_lstm_is_reproducible_and_leaves_torch_global_state_alone() -> None:
    import torch

    series = daily(weekly_pattern(150))
    threads, rng = torch.get_num_threads(), torch.get_rng_state()
    first = make_forecaster("lstm", FAST_LSTM, random_state=4).fit(series).forecast(14)
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.get_rng_state(), rng)
    torch.rand(3)  # wherever the global RNG stands, the fit is the same
    second = make_forecaster("lstm", FAST_LSTM, random_state=4).fit(series).forecast(14)
    assert_same(first, second)


@needs_torch
def test_lstm_lookback_defaults_to_two_seasons_and_shrinks_to_fit_the_series() -> None:
    long = make_forecaster("lstm", {"epochs": 1}).fit(daily(weekly_pattern(100)))
    assert long.frozen_hyperparameters() == {"epochs": 1, "lookback": 14}
    short = make_forecaster("lstm", {"epochs": 1, "lookback": 40}).fit(daily(weekly_pattern(30)))
    assert short.summary()["lookback"] == 15


@needs_torch
def test_lstm_refuses_out_of_range_hyperparameters_when_made() -> None:
    with pytest.raises(ValidationError) as refused:
        make_forecaster("lstm", {"dropout": 1.5, "hidden_size": 0})
    fields = {problem.field for problem in refused.value.details}
    assert fields == {"hyperparameters.lstm.dropout", "hyperparameters.lstm.hidden_size"}


def test_lstm_without_torch_names_the_extra_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torch", None)
    monkeypatch.delitem(sys.modules, "engine.algorithms.lstm", raising=False)
    with pytest.raises(MissingDependencyError, match=r"engine\[lstm\]"):
        ALGORITHMS.load("lstm")
