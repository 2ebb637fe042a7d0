"""Forecast quality on real series against published figures (../shared/data/README.md), each
fitted through the engine: a DuckDB source, a time-series asset, a training run.

- Box–Jenkins airline model, ARIMA(0,1,1)(0,1,1)12 on log AirPassengers: ma1 −0.4018,
  sma1 −0.5569 (astsa).
- Prophet on the Peyton Manning series with the diagnostics page's protocol (initial 730 days,
  period 180, horizon 365): RMSE 0.702395 at 37 days, from `performance_metrics`' rolling
  window of 10% of the backtest points, which `prophet_rolling_rmse` reproduces from the
  engine's per-step backtest errors.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from engine import Engine, Settings, demo

AIRLINE_MA1, AIRLINE_SMA1 = -0.4018, -0.5569
PEYTON_RMSE_37 = 0.702395


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with Engine.open(Settings.for_home(tmp_path / "home")) as opened:
        yield opened


def _train(engine: Engine, csv: Path, **configuration: Any) -> tuple[str, dict[str, Any]]:
    source = engine.connect_source(
        "acme",
        {"name": csv.stem, "type": "duckdb", "connection_config": {"files": {"series": str(csv)}}},
    )
    asset = engine.create_asset(
        "acme",
        {
            "name": csv.stem,
            "category": "forecasting",
            "data_sources": [{"source_id": source["source_id"], "tables": ["series"]}],
            "configuration": {
                "model_type": "time_series",
                "date_column": "ds",
                "target_variable": "y",
                **configuration,
            },
            "validation_rules": {"min_data_points": 100},
        },
    )
    return asset["asset_id"], engine.train("acme", asset["asset_id"])


def test_airline_model_coefficients_match_the_published_ones(engine: Engine) -> None:
    _, result = _train(
        engine,
        demo.AIR_PASSENGERS,
        algorithms=["arima"],
        value_transform="log",
        prediction_horizon=12,
        hyperparameters={"arima": {"order": [0, 1, 1], "seasonal_order": [0, 1, 1]}},
    )
    model = result["series"][0]["model"]
    assert model["order"] == [0, 1, 1]
    assert model["seasonal_order"] == [0, 1, 1, 12]
    coefficients = model["coefficients"]
    assert coefficients["ma.L1"] == pytest.approx(AIRLINE_MA1, abs=0.005)
    assert coefficients["ma.S.L12"] == pytest.approx(AIRLINE_SMA1, abs=0.005)


def prophet_rolling_rmse(rmse: list[float | None], points: list[int], at_step: int) -> float:
    """Prophet's `performance_metrics` RMSE at one horizon: the mean squared error over a
    window of the 10% of backtest points with the nearest horizons up to `at_step`, the
    farthest step of the window weighted so it holds exactly that many points."""
    sse = np.array([(r or 0.0) ** 2 * n for r, n in zip(rmse, points, strict=True)])
    counts = np.array(points, dtype=float)
    window = int(0.1 * counts.sum())
    total_sse = total_n = 0.0
    for step in range(at_step - 1, -1, -1):
        if counts[step] == 0:
            continue
        if total_n + counts[step] >= window:
            needed = window - total_n
            total_sse += needed * sse[step] / counts[step]
            return float(np.sqrt(total_sse / window))
        total_sse += sse[step]
        total_n += counts[step]
    raise AssertionError("fewer backtest points than the window")


def test_prophet_on_peyton_manning_matches_the_documented_cross_validation(
    engine: Engine,
) -> None:
    _, result = _train(
        engine,
        demo.PEYTON_MANNING,
        algorithms=["prophet"],
        prediction_horizon=365,
        cross_validation_folds=20,
        backtest={"period": 180, "initial": 730},
    )
    series = result["series"][0]
    assert series["scores"]["prophet"]["folds"] == 11  # the documented cutoffs
    by_step = series["by_horizon"]["prophet"]
    rmse_37 = prophet_rolling_rmse(by_step["rmse"], by_step["points"], 37)
    assert rmse_37 == pytest.approx(PEYTON_RMSE_37, rel=0.02)
    # The engine's calibrated intervals cover what they claim (cross-fitted over the folds),
    # where Prophet's own 80% interval covers 0.68 on this protocol.
    scores = series["scores"]["prophet"]
    assert scores["coverage_80"] == pytest.approx(0.80, abs=0.05)
    assert scores["coverage_95"] == pytest.approx(0.95, abs=0.05)
