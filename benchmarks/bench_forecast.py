"""Forecasting assets: training time against the libraries' own fits, and execution latency
against calling a fitted model, each measured beside its baseline in one run.

Training: 30 daily series of three years (trend with a change of slope, weekly and yearly
seasonality, autocorrelated noise, levels from tens to thousands) in one DuckDB table, an asset
with arima and prophet, 3 backtest folds and the default horizon. The wall time of
`Engine.train` (target: at most 60 s on a 2-core machine) and the time per series, beside the
same fits done serially with the libraries and no engine: per series, Prophet fitted and
forecast 4 times (3 fold windows and the full series) and statsmodels SARIMAX of fixed order
(1,1,1)(0,1,1,7) fitted and forecast 4 times, on a subset of the series (BLAS held to one
thread, as the engine holds it: with its default threads SARIMAX is several times slower on
small machines, which would flatter the engine). Prophet draws as many uncertainty samples as
the engine's does (300). The engine fits series in one process per core and the baseline in
one: the ratio of core-seconds (engine time per series × its processes over the baseline's)
shows the engine's own overhead, and the 1-minute load average before training shows whether
other work shared the cores.

Execute: on a small asset (3 series of 400 days, arima and prophet), p50/p90/p99 of in-process
`Engine.execute` for one series at the default horizon and levels (target p50 at most 5 ms),
beside what serving costs without precomputed paths, with nothing loaded per call: SARIMAX's
`get_forecast(h)` with `conf_int` at both levels on a model fitted to the same series, Prophet's
`predict` on the future frame, and the engine's own cached model of the series asked for its
forecast. And one `Engine.execute_batch` of 3 records beside 3 single executes.

Ratios matter, not absolute times: the machines are shared.
Run: python benchmarks/bench_forecast.py [--only training|execute] [--series N] [--days N]
     [--baseline-series N] [--calls N]
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from bench_execute import timings  # this folder is on the path when run as a script
from engine import Engine, Settings
from engine.forecasting.training import workers

COMPANY = "bench"
KEY = "category"
ORDER = (1, 1, 1)
SEASONAL_ORDER = (0, 1, 1, 7)
LEVELS = (0.8, 0.95)
PROPHET_SAMPLES = 300
TRAIN_TARGET_SECONDS = 60.0
EXECUTE_TARGET_P50_MS = 5.0
# A retail week: quiet early in the week, busiest on Saturday (Monday first).
WEEK_SHAPE = np.array([-0.12, -0.10, -0.06, -0.02, 0.06, 0.16, 0.08])


def sales_table(series: int, days: int, seed: int = 0) -> pd.DataFrame:
    """Daily revenue by category: level × trend × week × year × (1 + AR(1) noise)."""
    rng = np.random.default_rng(seed)
    dates = pd.date_range("2022-01-03", periods=days, freq="D")
    years = np.arange(days) / 365.25
    weekday = dates.day_of_week.to_numpy()
    angle = 2 * np.pi * dates.day_of_year.to_numpy() / 365.25
    frames = []
    for i in range(series):
        level = float(np.exp(rng.normal(np.log(400.0), 0.9)))
        growth = rng.normal(0.08, 0.10)
        bend, bend_change = rng.uniform(0.3, 0.8) * years[-1], rng.normal(0.0, 0.08)
        trend = 1 + growth * years + bend_change * np.clip(years - bend, 0, None)
        shape = WEEK_SHAPE * rng.uniform(0.5, 1.5) + rng.normal(0, 0.02, 7)
        week = 1 + shape - shape.mean()
        year = (
            1
            + rng.uniform(0.05, 0.25) * np.sin(angle + rng.uniform(0, 2 * np.pi))
            + rng.uniform(0.0, 0.06) * np.sin(2 * angle + rng.uniform(0, 2 * np.pi))
        )
        sigma, phi = rng.uniform(0.04, 0.10), rng.uniform(0.2, 0.6)
        shocks = rng.normal(0, sigma * math.sqrt(1 - phi**2), days)
        noise = np.empty(days)
        noise[0] = shocks[0]
        for t in range(1, days):
            noise[t] = phi * noise[t - 1] + shocks[t]
        revenue = level * np.clip(trend, 0.2, None) * week[weekday] * year * (1 + noise)
        frames.append(
            pd.DataFrame(
                {"date": dates.date, KEY: f"c{i:02d}", "revenue": np.round(revenue.clip(0), 2)}
            )
        )
    return pd.concat(frames, ignore_index=True)


def describe(frame: pd.DataFrame) -> dict[str, Any]:
    """Enough to see that the series look like sales: sizes, spread and weekly swing."""
    by = frame.groupby(KEY)["revenue"]
    weekday = pd.to_datetime(frame["date"]).dt.day_of_week
    week = frame.assign(weekday=weekday).groupby([KEY, "weekday"])["revenue"].mean().unstack()
    swing = (week.max(axis=1) / week.min(axis=1)).to_numpy()
    return {
        "rows": len(frame),
        "series": int(frame[KEY].nunique()),
        "days": int(by.size().iloc[0]),
        "series_mean_range": [round(float(by.mean().min()), 1), round(float(by.mean().max()), 1)],
        "weekly_max_over_min_range": [round(float(swing.min()), 2), round(float(swing.max()), 2)],
        "zeros": int((frame["revenue"] <= 0).sum()),
    }


def write_database(path: Path, frame: pd.DataFrame) -> None:
    with duckdb.connect(str(path)) as conn:
        conn.register("frame", frame)
        conn.execute("CREATE TABLE sales AS SELECT * FROM frame")


def asset_body(source_id: str, algorithms: list[str]) -> dict[str, Any]:
    return {
        "name": "Revenue forecast",
        "category": "forecasting",
        "data_sources": [{"source_id": source_id, "tables": ["sales"]}],
        "configuration": {
            "model_type": "time_series",
            "algorithms": algorithms,
            "date_column": "date",
            "target_variable": "revenue",
            "series_keys": [KEY],
            "cross_validation_folds": 3,
        },
        "validation_rules": {
            "min_data_points": 100,
            "required_columns": ["date", "revenue", KEY],
            "date_range_validation": True,
        },
    }


def trained_asset(
    engine: Engine, home: Path, frame: pd.DataFrame, algorithms: list[str]
) -> tuple[str, dict[str, Any], float, dict[str, float]]:
    """The asset id, the training result, the wall time of `train`, and when each stage ended
    (seconds from the start of `train`, from its progress reports)."""
    database = home / "sales.duckdb"
    write_database(database, frame)
    source = engine.connect_source(
        COMPANY,
        {"name": "sales", "type": "duckdb", "connection_config": {"database": str(database)}},
    )
    asset_id = engine.create_asset(COMPANY, asset_body(source["source_id"], algorithms))["asset_id"]
    stages: dict[str, float] = {}
    started = time.perf_counter()

    def progress(stage: str, fraction: float, message: str) -> None:
        stages[stage] = round(time.perf_counter() - started, 3)

    result = engine.train(COMPANY, asset_id, progress=progress)
    return asset_id, result, time.perf_counter() - started, stages


def cutoffs(n: int, horizon: int, folds: int) -> list[int]:
    """The engine's fold training lengths with the default backtest period (one horizon)."""
    return sorted(n - horizon - k * horizon for k in range(folds))


def quiet_libraries() -> None:
    logging.getLogger("cmdstanpy").setLevel(logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.WARNING)
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)
    warnings.simplefilter("ignore")


def fit_prophet(ds: pd.DatetimeIndex, y: np.ndarray) -> Any:
    from prophet import Prophet

    return Prophet(uncertainty_samples=PROPHET_SAMPLES).fit(pd.DataFrame({"ds": ds, "y": y}))


def fit_sarimax(y: np.ndarray) -> Any:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    return SARIMAX(y, order=ORDER, seasonal_order=SEASONAL_ORDER).fit(disp=False)


def sarimax_forecast(results: Any, horizon: int) -> list[np.ndarray]:
    prediction = results.get_forecast(horizon)
    return [prediction.predicted_mean, *(prediction.conf_int(alpha=1 - a) for a in LEVELS)]


def baseline_training(
    frame: pd.DataFrame, series: int, horizon: int, folds: int
) -> dict[str, float]:
    """Seconds per series of the same fits done directly, serially, on the first `series`."""
    prophet_seconds = sarimax_seconds = 0.0
    names = sorted(frame[KEY].unique())[:series]
    with threadpool_limits(limits=1, user_api="blas"):
        for name in names:
            one = frame[frame[KEY] == name]
            ds, y = pd.DatetimeIndex(pd.to_datetime(one["date"])), one["revenue"].to_numpy()
            lengths = [*cutoffs(len(y), horizon, folds), len(y)]
            start = time.perf_counter()
            for n in lengths:
                model = fit_prophet(ds[:n], y[:n])
                model.predict(model.make_future_dataframe(horizon, include_history=False))
            middle = time.perf_counter()
            for n in lengths:
                sarimax_forecast(fit_sarimax(y[:n]), horizon)
            prophet_seconds += middle - start
            sarimax_seconds += time.perf_counter() - middle
    return {
        "series_measured": len(names),
        "prophet_seconds_per_series": prophet_seconds / len(names),
        "sarimax_seconds_per_series": sarimax_seconds / len(names),
        "seconds_per_series": (prophet_seconds + sarimax_seconds) / len(names),
    }


def measure_training(args: argparse.Namespace) -> dict[str, Any]:
    frame = sales_table(args.series, args.days, seed=args.seed)
    load = os.getloadavg()[0]
    with (
        tempfile.TemporaryDirectory() as directory,
        Engine.open(Settings.for_home(Path(directory) / "home")) as engine,
    ):
        _, result, seconds, stages = trained_asset(
            engine, Path(directory), frame, ["arima", "prophet"]
        )
    horizon = int(result["backtest"]["horizon"])
    folds = int(result["backtest"]["folds_requested"])
    quiet_libraries()
    baseline = baseline_training(frame, min(args.baseline_series, args.series), horizon, folds)
    per_series = seconds / args.series
    processes = workers(args.series)
    chosen = Counter(s["algorithm"] for s in result["series"])
    failures = sum(len(s["failures"]) for s in result["series"])
    scores = result["scores_by_algorithm"]
    return {
        "data": describe(frame),
        "load_average_1min_before": round(load, 2),
        "horizon": horizon,
        "folds": folds,
        "engine_train_seconds": round(seconds, 3),
        "engine_stage_ends_seconds": stages,
        "target_seconds": TRAIN_TARGET_SECONDS,
        "target_met": seconds <= TRAIN_TARGET_SECONDS,
        "chosen_algorithms": dict(sorted(chosen.items())),
        "fit_failures": failures,
        "backtest_mase_by_algorithm": {
            name: round(float(m["mase"]), 4) for name, m in sorted(scores.items())
        },
        "engine_seconds_per_series": round(per_series, 4),
        "baseline": {k: round(v, 4) for k, v in baseline.items()},
        "ratio_engine_over_baseline_per_series": round(
            per_series / baseline["seconds_per_series"], 4
        ),
        "engine_worker_processes": processes,
        "ratio_engine_core_seconds_over_baseline_per_series": round(
            per_series * processes / baseline["seconds_per_series"], 4
        ),
    }


def percentiles(ms: np.ndarray) -> dict[str, float]:
    return {f"p{q}": round(float(np.percentile(ms, q)), 4) for q in (50, 90, 99)}


def measure_execute(args: argparse.Namespace) -> dict[str, Any]:
    frame = sales_table(3, 400, seed=args.seed)
    with (
        tempfile.TemporaryDirectory() as directory,
        Engine.open(Settings.for_home(Path(directory) / "home")) as engine,
    ):
        asset_id, result, _, _ = trained_asset(engine, Path(directory), frame, ["arima", "prophet"])
        horizon = int(result["backtest"]["horizon"])
        name = str(result["series"][0]["key"][KEY])
        request = {"input_data": {KEY: name}}
        engine_ms = timings(lambda: engine.execute(COMPANY, asset_id, request), args.calls)
        records = [
            {"id": i, "input_data": {KEY: str(s["key"][KEY])}}
            for i, s in enumerate(result["series"])
        ]
        singles = [{"input_data": r["input_data"]} for r in records]

        def three_singles() -> None:
            for single in singles:
                engine.execute(COMPANY, asset_id, single)

        rounds = max(args.calls // 4, 50)
        batch_ms = timings(
            lambda: engine.execute_batch(COMPANY, asset_id, records), rounds, warmup=50
        )
        singles_ms = timings(three_singles, rounds, warmup=50)

        forecast, _ = engine.context.models.forecaster(asset_id, result["model_version"])
        own_model = forecast.model(forecast.series[0])
        own_ms = timings(lambda: own_model.forecast(horizon), max(args.calls // 20, 20), warmup=5)

    quiet_libraries()
    one = frame[frame[KEY] == name]
    ds, y = pd.DatetimeIndex(pd.to_datetime(one["date"])), one["revenue"].to_numpy()
    with threadpool_limits(limits=1, user_api="blas"):
        sarimax = fit_sarimax(y)
        sarimax_ms = timings(lambda: sarimax_forecast(sarimax, horizon), args.calls // 4, 50)
    prophet = fit_prophet(ds, y)
    future = prophet.make_future_dataframe(horizon, include_history=False)
    prophet_ms = timings(lambda: prophet.predict(future), max(args.calls // 50, 20), warmup=3)

    p50 = float(np.percentile(engine_ms, 50))

    def ratio(ms: np.ndarray) -> float:
        return round(float(np.percentile(ms, 50)) / p50, 2)

    return {
        "series": name,
        "algorithm": result["series"][0]["algorithm"],
        "horizon": horizon,
        "calls": len(engine_ms),
        "engine_execute_ms": percentiles(engine_ms),
        "target_p50_ms": EXECUTE_TARGET_P50_MS,
        "target_met": p50 <= EXECUTE_TARGET_P50_MS,
        "baselines_ms": {
            "sarimax_get_forecast_two_conf_ints": percentiles(sarimax_ms),
            "prophet_predict": percentiles(prophet_ms),
            f"engine_cached_{own_model.name}_model_forecast": percentiles(own_ms),
        },
        "p50_ratio_baseline_over_engine_execute": {
            "sarimax_get_forecast_two_conf_ints": ratio(sarimax_ms),
            "prophet_predict": ratio(prophet_ms),
            f"engine_cached_{own_model.name}_model_forecast": ratio(own_ms),
        },
        "batch_of_3_ms": percentiles(batch_ms),
        "three_single_executes_ms": percentiles(singles_ms),
        "p50_ratio_batch_over_three_singles": round(
            float(np.percentile(batch_ms, 50) / np.percentile(singles_ms, 50)), 3
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", choices=("training", "execute"))
    parser.add_argument("--series", type=int, default=30)
    parser.add_argument("--days", type=int, default=1095)
    parser.add_argument("--baseline-series", type=int, default=6)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    measurements: dict[str, Callable[[argparse.Namespace], dict[str, Any]]] = {
        "training": measure_training,
        "execute": measure_execute,
    }
    report = {
        name: measure(args) for name, measure in measurements.items() if args.only in (None, name)
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
