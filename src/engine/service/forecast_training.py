"""Training a time-series asset into a version: prepare the series, backtest and select per
series, and build what the version stores (payload, manifest, report, job result)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, TypeVar, cast

import numpy as np
import pandas as pd

from engine.clock import now_iso
from engine.contracts import build_contract
from engine.domain.asset_config import AssetSpec, Configuration
from engine.features.encoder import FeatureSpec
from engine.forecasting import backtest
from engine.forecasting import series as series_prep
from engine.forecasting.training import (
    ForecastOutcome,
    SeriesOutcome,
    fit_all,
    plan_of,
    summarise,
)
from engine.reports.forecast_data import ForecastReportData, SeriesReport
from engine.trained_forecast import SERIES_DIR, SeriesModel, TrainedForecast
from engine.training.progress import Progress

T = TypeVar("T")
REPORT_SERIES = 12
"""Series drawn in the training report; the page says how many there are in all."""


@dataclass
class BuiltForecast:
    algorithm: str
    metrics: dict[str, float]
    changes: list[str]
    manifest_fields: dict[str, Any]
    result_fields: dict[str, Any]
    write_payload: Callable[[Path], None]
    report: ForecastReportData


def finite(value: T) -> T:
    """JSON has no NaN: unmeasurable figures (MAPE of a series of zeros) become null."""
    return cast(T, _finite(value))


def _finite(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, float | np.floating) and not math.isfinite(float(value)):
        return None
    if isinstance(value, np.generic):
        return value.item()
    return value


def train_forecast(
    frame: pd.DataFrame,
    table: str,
    spec: AssetSpec,
    config: Configuration,
    asset_id: str,
    version: str,
    progress: Progress,
) -> BuiltForecast:
    durations: dict[str, float] = {}
    started = time.perf_counter()
    progress("data_preparation", 0.0, f"{len(frame)} rows loaded")
    prepared = series_prep.prepare(frame, table, config, spec.validation_rules)
    progress(
        "data_preparation",
        1.0,
        f"{len(prepared.series)} series at frequency {prepared.frequency}, "
        f"horizon {prepared.horizon} steps",
    )
    durations["data_preparation"] = time.perf_counter() - started
    progress("feature_engineering", 1.0, f"{len(config.features)} regressors")
    mark = time.perf_counter()
    plan = plan_of(config, prepared)
    progress(
        "training",
        0.0,
        f"backtesting {', '.join(plan.algorithms)} on {len(prepared.series)} series",
    )
    outcomes = list(fit_all(prepared, plan, progress))
    metrics, by_algorithm = summarise(outcomes, plan)
    durations["training"] = time.perf_counter() - mark
    outcome = ForecastOutcome(prepared, outcomes, plan, metrics, by_algorithm, durations)
    chosen = sorted({o.algorithm for o in outcomes})
    algorithm = chosen[0] if len(chosen) == 1 else "+".join(chosen)
    progress("validation", 1.0, _validation_message(metrics, plan.selection_metric))
    series_models = [_series_model(i, o) for i, o in enumerate(outcomes)]
    meta = {
        "format": 1,
        "frequency": prepared.frequency,
        "season_length": prepared.season_length,
        "horizon": prepared.horizon,
        "value_transform": config.value_transform,
        "date_column": config.date_column,
        "value_column": config.target_variable,
        "series_keys": list(config.series_keys),
        "regressors": list(config.features),
        "confidence_levels": plan.levels,
        "selection_metric": plan.selection_metric,
        "interval_method": INTERVAL_METHOD,
    }
    changes = _changes(outcome, table)
    files = [o.model_files for o in outcomes]
    described = _backtest_description(plan, outcomes)
    errors = _errors_by_horizon(outcomes, plan.horizon)

    def write_payload(directory: Path) -> None:
        TrainedForecast.write_payload(directory, meta, series_models, files)

    return BuiltForecast(
        algorithm=algorithm,
        metrics=finite(metrics),
        changes=changes,
        manifest_fields={
            "model_type": "time_series",
            "params": {"algorithms": plan.algorithms, "hyperparameters": plan.hyperparameters},
            "forecast": meta,
            "backtest": described,
            "series": [
                finite(
                    {
                        "key": o.key,
                        "algorithm": o.algorithm,
                        "summary": o.summary,
                        "points": o.points,
                    }
                )
                for o in outcomes
            ],
            "scores_by_algorithm": finite(by_algorithm),
            "target": config.target_variable,
            "interval_method": INTERVAL_METHOD,
            "training_data": {
                "table": table,
                "rows": {"total": len(frame), "training": len(frame), "series": len(outcomes)},
            },
            "data_contract": _contract(frame, config, table, spec.data_sources[0].source_id),
        },
        result_fields={
            "scores_by_algorithm": finite(by_algorithm),
            "series": [_series_result(o, plan.selection_metric) for o in outcomes],
            "backtest": described,
            "errors_by_horizon": finite(errors),
            "interval_method": INTERVAL_METHOD,
        },
        write_payload=write_payload,
        report=_report(asset_id, version, outcome, meta, series_models, errors),
    )


INTERVAL_METHOD = (
    "Forecast ± q(h)·σ(h): σ is the chosen model's own standard deviation at each step, q(h) "
    "the split-conformal quantile of |error|/σ over the series' rolling-origin backtest at the "
    "steps near h; coverage reported cross-fitted (each fold judged by the other folds' "
    "quantiles)"
)


def _validation_message(metrics: dict[str, float], metric: str) -> str:
    value = metrics.get(metric, float("nan"))
    return f"backtest {metric} {value:.4f} (mean over series of the chosen models)"


def _series_model(position: int, outcome: SeriesOutcome) -> SeriesModel:
    metrics = {name: finite(m) for name, m in outcome.metrics.items()}
    return SeriesModel(
        key=outcome.key,
        algorithm=outcome.algorithm,
        params=outcome.params,
        summary=finite(outcome.summary),
        directory=f"{SERIES_DIR}/{position:05d}",
        last_date=pd.Timestamp(outcome.last_date),
        points=outcome.points,
        mean=outcome.mean,
        scale=outcome.scale,
        scores=outcome.scores,
        metrics=metrics,
    )


def _series_result(outcome: SeriesOutcome, metric: str) -> dict[str, Any]:
    return finite(
        {
            "key": outcome.key,
            "algorithm": outcome.algorithm,
            "selected_by": metric,
            "scores": outcome.metrics,
            "by_horizon": {
                name: {
                    "rmse": result.rmse_by_step(),
                    "points": result.step_points.tolist(),
                }
                for name, result in outcome.backtests.items()
            },
            "failures": outcome.failures,
            "points": outcome.points,
            "missing_dates": outcome.filled_dates,
            "missing_values": outcome.filled_values,
            "model": outcome.summary,
        }
    )


def _backtest_description(plan: Any, outcomes: list[SeriesOutcome]) -> dict[str, Any]:
    folds = [int(o.backtests[o.algorithm].metrics["folds"]) for o in outcomes]
    return {
        "horizon": plan.horizon,
        "period": plan.period,
        "folds_requested": plan.folds,
        "folds_min": min(folds),
        "folds_max": max(folds),
        "initial": plan.initial,
        "selection_metric": plan.selection_metric,
        "levels": plan.levels,
    }


def _errors_by_horizon(outcomes: list[SeriesOutcome], horizon: int) -> dict[str, list[float]]:
    """Per algorithm, the RMSE of scaled errors (|error| / the series' MASE scale) at each step
    ahead, pooled over series and folds, so series of different sizes weigh alike."""
    pooled: dict[str, list[np.ndarray]] = {}
    for outcome in outcomes:
        for name, result in outcome.backtests.items():
            pooled.setdefault(name, []).append(result.scaled_errors)
    found = {}
    for name, blocks in pooled.items():
        stacked = np.vstack(blocks)
        with np.errstate(invalid="ignore"):
            found[name] = [
                float(np.sqrt(np.nanmean(stacked[:, h] ** 2)))
                if np.isfinite(stacked[:, h]).any()
                else float("nan")
                for h in range(horizon)
            ]
    return found


def _changes(outcome: ForecastOutcome, table: str) -> list[str]:
    chosen: dict[str, int] = {}
    for o in outcome.series:
        chosen[o.algorithm] = chosen.get(o.algorithm, 0) + 1
    described = ", ".join(f"{a} for {n}" for a, n in sorted(chosen.items()))
    changes = [
        f"Trained {len(outcome.series)} series of '{table}' at frequency "
        f"{outcome.frame.frequency}, horizon {outcome.plan.horizon}: {described}"
    ]
    changes += outcome.frame.notes
    for o in outcome.series:
        for name, reason in o.failures.items():
            changes.append(f"series {o.label}: {name} could not be fitted ({reason})")
    return changes


def _contract(
    frame: pd.DataFrame, config: Configuration, table: str, source_id: str
) -> dict[str, Any]:
    """The columns a forecast version reads: value and regressors as numbers, series keys as
    categories (a series the version has never seen is then flagged)."""
    specs = [FeatureSpec(name=c, kind="categorical") for c in config.series_keys]
    specs += [FeatureSpec(name=c, kind="numeric") for c in config.features]
    described = SimpleNamespace(specs_=specs)
    contract = build_contract(frame, described, table, source_id, target=config.target_variable)  # type: ignore[arg-type]
    return finite(contract)


def _report(
    asset_id: str,
    version: str,
    outcome: ForecastOutcome,
    meta: dict[str, Any],
    models: list[SeriesModel],
    errors: dict[str, list[float]],
) -> ForecastReportData:
    trained = TrainedForecast(meta, models)
    shown = []
    for prepared, model, result in list(
        zip(outcome.frame.series, models, outcome.series, strict=True)
    )[:REPORT_SERIES]:
        if model.mean is None:
            continue  # a forecast that needs future regressor values has no path to draw
        forecast = trained.forecast(model, outcome.plan.horizon, outcome.plan.levels)
        history = prepared.data.y
        shown.append(
            SeriesReport(
                label=model.label,
                algorithm=model.algorithm,
                history_index=prepared.data.index,
                history=np.exp(history) if outcome.plan.transform == "log" else history,
                forecast_index=forecast.dates,
                forecast=forecast.mean,
                bands=forecast.bands,
                scores=result.metrics,
            )
        )
    coverage = {
        name: {
            level: metrics.get(f"coverage_{backtest.percent_label(level)}", float("nan"))
            for level in outcome.plan.levels
        }
        for name, metrics in outcome.scores_by_algorithm.items()
    }
    return ForecastReportData(
        asset_id=asset_id,
        version=version,
        created_at=now_iso(),
        frequency=outcome.frame.frequency,
        horizon=outcome.plan.horizon,
        selection_metric=outcome.plan.selection_metric,
        series=shown,
        total_series=len(outcome.series),
        errors_by_horizon={k: np.asarray(v, dtype=float) for k, v in errors.items()},
        coverage=coverage,
        metrics=outcome.metrics,
    )
