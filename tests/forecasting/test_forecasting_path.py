"""A multi-series forecasting asset through the Python API on real DuckDB and SQLite: training
with backtests and selection, the stored version, execution, batches and bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine import Engine, NotFoundError, Settings, ValidationError
from engine.errors import DataValidationError
from tests.forecasting.sales_data import (
    CATEGORIES,
    PROMO_EFFECT,
    forecast_asset_body,
    sales_frame,
    write_sales_csv,
)

HORIZON = 14


def _source(engine: Engine, csv: Path) -> str:
    source = engine.connect_source(
        "acme",
        {"name": "sales", "type": "duckdb", "connection_config": {"files": {"sales": str(csv)}}},
    )
    return str(source["source_id"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("forecasting")
    frame = sales_frame()
    csv = write_sales_csv(home, frame)
    with Engine.open(Settings.for_home(home / "home")) as engine:
        asset = engine.create_asset("acme", forecast_asset_body(_source(engine, csv)))
        result = engine.train("acme", asset["asset_id"])
        yield {"engine": engine, "asset_id": asset["asset_id"], "result": result, "frame": frame}


def _execute(trained: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = trained["engine"].execute("acme", trained["asset_id"], body)
    return response


def test_training_backtests_every_algorithm_and_picks_one_per_series(
    trained: dict[str, Any],
) -> None:
    result = trained["result"]
    assert result["deployment_status"] == "successful"
    assert [s["key"] for s in result["series"]] == [{"product_category": c} for c in CATEGORIES]
    for series in result["series"]:
        scores = series["scores"]
        assert set(scores) == {"arima", "prophet", "seasonal_naive"}
        assert series["algorithm"] in {"arima", "prophet"}  # the baseline is reference only
        best = min(scores[a]["mase"] for a in ("arima", "prophet"))
        assert scores[series["algorithm"]]["mase"] == best
        for metrics in scores.values():
            assert metrics["folds"] == 3
            assert {"mape", "smape", "rmse", "mase", "coverage_80", "coverage_95"} <= set(metrics)
        # A model of trend and seasonality beats repeating last week on this data.
        assert best < scores["seasonal_naive"]["mase"]
    assert result["backtest"]["horizon"] == HORIZON
    assert all(len(steps) == HORIZON for steps in result["errors_by_horizon"].values())
    performance = result["model_performance"]
    assert 0 < performance["mase"] < 1
    assert performance["series"] == len(CATEGORIES)


def test_the_version_is_stored_with_its_manifest_and_report(trained: dict[str, Any]) -> None:
    engine: Engine = trained["engine"]
    versions, meta = engine.list_versions("acme", trained["asset_id"])
    assert meta["current_version"] == "1.0.0"
    assert versions[0]["status"] == "active"
    _model, manifest = engine.context.models.get(trained["asset_id"], "1.0.0")
    assert manifest["model_type"] == "time_series"
    assert manifest["forecast"]["frequency"] == "D"
    assert any(name.startswith("series/") for name in manifest["files"])  # type: ignore[union-attr]
    html = engine.training_report("acme", trained["asset_id"])
    assert "product_category=books" in html


def test_execute_returns_dated_points_with_nested_intervals(trained: dict[str, Any]) -> None:
    frame: pd.DataFrame = trained["frame"]
    response = _execute(
        trained,
        {"input_data": {"product_category": "garden"}, "parameters": {"prediction_horizon": 7}},
    )
    results = response["results"]
    assert results["series"] == {"product_category": "garden"}
    assert results["horizon"] == 7
    last = pd.Timestamp(frame["date"].max())
    expected = pd.date_range(last, periods=8, freq="D")[1:].strftime("%Y-%m-%d").tolist()
    assert [p["date"] for p in results["forecast"]] == expected
    for point in results["forecast"]:
        inner, outer = point["confidence_interval"]["80"], point["confidence_interval"]["95"]
        assert outer["lower"] <= inner["lower"] < point["value"] < inner["upper"] <= outer["upper"]
    garden = frame[frame["product_category"] == "garden"]["revenue"]
    assert (
        garden.tail(60).min() * 0.8 < results["forecast"][0]["value"] < garden.tail(60).max() * 1.2
    )
    meta = response["metadata"]
    assert meta["data_points_used"] == 400
    assert meta["forecast_origin"].startswith(str(last.date()))
    assert meta["confidence_levels"] == [0.8, 0.95]


def test_requested_levels_and_summary_format(trained: dict[str, Any]) -> None:
    body = {
        "input_data": {"product_category": "toys"},
        "parameters": {"confidence_levels": [50, 0.99]},
    }
    points = _execute(trained, body)["results"]["forecast"]
    assert len(points) == HORIZON
    for point in points:
        assert set(point["confidence_interval"]) == {"50", "99"}
        half, most = point["confidence_interval"]["50"], point["confidence_interval"]["99"]
        assert most["upper"] - most["lower"] > half["upper"] - half["lower"] > 0
    summary = _execute(
        trained,
        {"input_data": {"product_category": "toys"}, "output_options": {"format": "summary"}},
    )
    assert all(set(p) == {"date", "value"} for p in summary["results"]["forecast"])
    assert [p["value"] for p in summary["results"]["forecast"]] == [p["value"] for p in points]


def test_batch_executes_many_series_and_fails_bad_records_alone(trained: dict[str, Any]) -> None:
    engine: Engine = trained["engine"]
    records = [
        {"id": "a", "input_data": {"product_category": "books"}},
        {"id": "b", "input_data": {"product_category": "sofas"}},
        {"id": "c", "customer_id": "cust-9", "input_data": {"product_category": "toys"}},
        {"id": "d", "input_data": {}},
    ]
    batch = engine.execute_batch("acme", trained["asset_id"], records, {"prediction_horizon": 3})
    assert (batch["successful_records"], batch["failed_records"]) == (2, 2)
    by_id = {r["id"]: r for r in batch["results"]}
    assert len(by_id["a"]["results"]["forecast"]) == 3
    assert by_id["c"]["customer_id"] == "cust-9"
    assert by_id["b"]["errors"][0]["field"] == "batch_data[1].input_data.product_category"
    assert "unknown series" in by_id["b"]["errors"][0]["problem"]
    assert by_id["d"]["errors"][0]["field"] == "batch_data[3].input_data.product_category"
    single = _execute(
        trained,
        {"input_data": {"product_category": "books"}, "parameters": {"prediction_horizon": 3}},
    )
    assert by_id["a"]["results"]["forecast"] == single["results"]["forecast"]


@pytest.mark.parametrize(
    ("body", "error", "field"),
    [
        (
            {"input_data": {"product_category": "sofas"}},
            NotFoundError,
            "input_data.product_category",
        ),
        ({"input_data": {}}, ValidationError, "input_data.product_category"),
        (
            {"input_data": {"product_category": "books"}, "parameters": {"prediction_horizon": 0}},
            ValidationError,
            "parameters.prediction_horizon",
        ),
        (
            {"input_data": {"product_category": "books"}, "parameters": {"prediction_horizon": 15}},
            ValidationError,
            "parameters.prediction_horizon",
        ),
        (
            {
                "input_data": {"product_category": "books"},
                "parameters": {"confidence_levels": [120]},
            },
            ValidationError,
            "parameters.confidence_levels",
        ),
        (
            {"input_data": {"product_category": "books", "price": [1.0]}},
            ValidationError,
            "input_data.price",
        ),
    ],
)
def test_bad_requests_name_the_field(
    trained: dict[str, Any], body: dict[str, Any], error: type[Exception], field: str
) -> None:
    with pytest.raises(error) as caught:
        _execute(trained, body)
    assert field in {d.field for d in caught.value.details}  # type: ignore[attr-defined]


def test_every_execution_reaches_the_ledger(trained: dict[str, Any]) -> None:
    engine: Engine = trained["engine"]
    engine.context.executions.flush()
    before = engine.usage("acme", trained["asset_id"])["totals"]["requests"]
    _execute(trained, {"input_data": {"product_category": "books"}})
    with pytest.raises(NotFoundError):
        _execute(trained, {"input_data": {"product_category": "sofas"}})
    engine.context.executions.flush()
    assert engine.usage("acme", trained["asset_id"])["totals"]["requests"] == before + 2


def test_a_regressor_model_needs_future_values_and_follows_them(tmp_path: Path) -> None:
    frame = sales_frame(days=300, categories=("books",))
    csv = write_sales_csv(tmp_path, frame)
    with Engine.open(Settings.for_home(tmp_path / "home")) as engine:
        body = forecast_asset_body(
            _source(engine, csv), algorithms=["arima"], features=["promo"], prediction_horizon=7
        )
        asset_id = engine.create_asset("acme", body)["asset_id"]
        engine.train("acme", asset_id)
        with pytest.raises(ValidationError) as caught:
            engine.execute("acme", asset_id, {"input_data": {"product_category": "books"}})
        assert caught.value.details[0].field == "input_data.promo"
        with pytest.raises(ValidationError) as short:
            engine.execute(
                "acme", asset_id, {"input_data": {"product_category": "books", "promo": [1, 0]}}
            )
        assert "needs 7" in short.value.details[0].problem

        def values(promo: list[int]) -> np.ndarray:
            body = {"input_data": {"product_category": "books", "promo": promo}}
            points = engine.execute("acme", asset_id, body)["results"]["forecast"]
            return np.array([p["value"] for p in points])

        lift = values([1] * 7) - values([0] * 7)
        assert lift == pytest.approx(np.full(7, PROMO_EFFECT), abs=5.0)


def test_a_classifier_algorithm_is_refused_for_a_time_series_asset(tmp_path: Path) -> None:
    csv = write_sales_csv(tmp_path)
    with Engine.open(Settings.for_home(tmp_path / "home")) as engine:
        body = forecast_asset_body(_source(engine, csv), algorithms=["arima", "xgboost"])
        with pytest.raises(ValidationError) as caught:
            engine.create_asset("acme", body)
        assert caught.value.details[0].field == "configuration.algorithms[1]"
        assert "classification algorithm" in caught.value.details[0].problem


def test_lstm_trains_and_serves_through_the_engine(tmp_path: Path) -> None:
    csv = write_sales_csv(tmp_path, sales_frame(days=200, categories=("books",)))
    with Engine.open(Settings.for_home(tmp_path / "home")) as engine:
        body = forecast_asset_body(
            _source(engine, csv),
            algorithms=["lstm"],
            prediction_horizon=7,
            hyperparameters={"lstm": {"epochs": 30}},
        )
        asset_id = engine.create_asset("acme", body)["asset_id"]
        result = engine.train("acme", asset_id)
        assert result["series"][0]["algorithm"] == "lstm"
        points = engine.execute("acme", asset_id, {"input_data": {"product_category": "books"}})
        assert len(points["results"]["forecast"]) == 7


def test_performance_threshold_is_the_highest_backtest_mase_deployed(tmp_path: Path) -> None:
    csv = write_sales_csv(tmp_path, sales_frame(days=200, categories=("books",)))
    with Engine.open(Settings.for_home(tmp_path / "home")) as engine:
        body = forecast_asset_body(
            _source(engine, csv),
            algorithms=["arima"],
            prediction_horizon=7,
            performance_threshold=0.01,
        )
        asset_id = engine.create_asset("acme", body)["asset_id"]
        result = engine.train("acme", asset_id)
        assert result["deployment_status"] == "below_threshold"
        assert result["model_performance"]["mase"] > 0.01
        assert engine.get_asset("acme", asset_id)["active_version"] is None
        lenient = engine.train(
            "acme", asset_id, request={"deployment_config": {"performance_threshold": 1.0}}
        )
        assert lenient["deployment_status"] == "successful"


def test_the_seed_forecasting_body_is_a_draft_whose_training_names_every_gap(
    tmp_path: Path,
) -> None:
    """The seed's create body has no date or value column and lists features that are not
    columns: it is stored as a draft, and training answers with every field at fault."""
    csv = write_sales_csv(tmp_path)
    with Engine.open(Settings.for_home(tmp_path / "home")) as engine:
        body = {
            "name": "Revenue Forecasting Model",
            "category": "forecasting",
            "data_sources": [{"source_id": _source(engine, csv), "tables": ["sales"]}],
            "configuration": {
                "model_type": "time_series",
                "algorithms": ["arima", "prophet", "lstm"],
                "features": ["historical_revenue", "seasonality_indicators", "external_factors"],
                "output_format": "json",
                "batch_processing": True,
            },
            "validation_rules": {
                "min_data_points": 100,
                "required_columns": ["date", "revenue", "product_category"],
                "date_range_validation": True,
            },
            "pricing": {"model": "per_request", "price": 5.0, "currency": "USD"},
        }
        asset = engine.create_asset("acme", body)
        assert asset["status"] == "draft"
        with pytest.raises(DataValidationError) as caught:
            engine.train("acme", asset["asset_id"])
        assert {d.field for d in caught.value.details} == {
            "configuration.features[0]",
            "configuration.features[1]",
            "configuration.features[2]",
            "configuration.date_column",
            "configuration.target_variable",
        }
