"""Executing a forecasting asset's version: one series, or many in a batch.

A request names the series by its key columns in `input_data` (nothing for a single-series
asset), the horizon in `parameters.prediction_horizon` (at most the horizon the version was
backtested over, since its intervals are calibrated that far), and, when the model uses
regressors, their future values as lists in `input_data`.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from engine.clock import new_id, now_iso
from engine.domain.asset_config import AssetSpec
from engine.errors import FieldProblem, NotFoundError, ValidationError
from engine.forecasting.backtest import percent_label
from engine.service.context import Context
from engine.service.execution_options import ExecuteParameters, OutputOptions
from engine.service.metering import PriceSnapshot, record_execution
from engine.trained_forecast import Forecast, SeriesModel, TrainedForecast

DAILY_OR_LONGER = frozenset({"D", "B", "W", "MS", "ME", "QS", "QE", "YS", "YE"})


@dataclass
class ForecastServing:
    """Everything a forecast execution needs, resolved once per (asset row, version)."""

    asset_id: str
    version: str
    model: TrainedForecast
    spec: AssetSpec
    price: PriceSnapshot
    date_texts: dict[str, list[str]] = field(default_factory=dict)

    def dates_of(self, series: SeriesModel, forecast: Forecast) -> list[str]:
        """Forecast dates as text, formatted once per series ("2025-01-21" for daily data)."""
        found = self.date_texts.get(series.directory)
        if found is None or len(found) < len(forecast.dates):
            code = (forecast.dates.freqstr or "").split("-")[0]
            daily = code in DAILY_OR_LONGER
            found = [d.strftime("%Y-%m-%d") if daily else d.isoformat() for d in forecast.dates]
            self.date_texts[series.directory] = found
        return found[: len(forecast.dates)]


def forecast_serving(
    ctx: Context, company: str, row: dict[str, Any], version: str
) -> ForecastServing:
    key = (f"forecast:{row['asset_id']}", version, str(row["updated_at"]))
    found: ForecastServing | None = ctx.serving.get(key)
    if found is None:
        model, _ = ctx.models.forecaster(row["asset_id"], version)
        spec = AssetSpec.model_validate(row["spec"])
        found = ForecastServing(
            asset_id=row["asset_id"],
            version=version,
            model=model,
            spec=spec,
            price=PriceSnapshot.of(spec.pricing),
        )
        ctx.serving[key] = found
    return found


@dataclass(frozen=True)
class SeriesRequest:
    series: SeriesModel
    horizon: int
    future: np.ndarray | None


def _levels(serve: ForecastServing, params: ExecuteParameters) -> list[float]:
    return params.confidence_levels or serve.model.levels


def _horizon(serve: ForecastServing, params: ExecuteParameters) -> int:
    horizon = params.prediction_horizon or serve.model.horizon
    if horizon > serve.model.horizon:
        raise ValidationError.for_field(
            "parameters.prediction_horizon",
            f"at most {serve.model.horizon} steps ({serve.model.frequency}): the horizon this "
            f"version was backtested over and its intervals are calibrated for, not {horizon}",
        )
    return horizon


def resolve(
    serve: ForecastServing, input_data: Any, horizon: int, prefix: str
) -> tuple[SeriesRequest | None, list[FieldProblem]]:
    """The series a record names and its future regressor values, or what is wrong with it."""
    model = serve.model
    if input_data is None:
        input_data = {}
    if not isinstance(input_data, Mapping):
        return None, [FieldProblem(prefix, "must be an object")]
    problems = []
    known = set(model.series_keys) | set(model.regressors) | {"customer_id"}
    for name in input_data:
        if name not in known:
            expected = ", ".join([*model.series_keys, *model.regressors]) or "nothing"
            problems.append(
                FieldProblem(
                    f"{prefix}.{name}", f"not a series key or regressor (expected: {expected})"
                )
            )
    for name in model.series_keys:
        if input_data.get(name) is None:
            problems.append(FieldProblem(f"{prefix}.{name}", "required: names the series"))
    future = _future(model, input_data, horizon, prefix, problems)
    if problems:
        return None, problems
    series = model.find(input_data)
    if series is None:
        named = {k: input_data[k] for k in model.series_keys}
        examples = "; ".join(
            ", ".join(f"{k}={v}" for k, v in key.items()) for key in model.known_keys()
        )
        field_name = f"{prefix}.{model.series_keys[0]}"
        return None, [
            FieldProblem(
                field_name,
                f"unknown series {named}; this version has {len(model.series)} series "
                f"(e.g. {examples})",
            )
        ]
    return SeriesRequest(series, horizon, future), []


def _future(
    model: TrainedForecast,
    input_data: Mapping[str, Any],
    horizon: int,
    prefix: str,
    problems: list[FieldProblem],
) -> np.ndarray | None:
    if not model.regressors:
        return None
    columns = []
    for name in model.regressors:
        values = input_data.get(name)
        field_name = f"{prefix}.{name}"
        if values is None:
            problems.append(
                FieldProblem(
                    field_name, f"required: {horizon} future values (the model uses this regressor)"
                )
            )
            continue
        if not isinstance(values, list) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) for v in values
        ):
            problems.append(FieldProblem(field_name, "must be a list of numbers, one per step"))
            continue
        if len(values) < horizon:
            problems.append(
                FieldProblem(field_name, f"has {len(values)} values; the horizon needs {horizon}")
            )
            continue
        columns.append(np.asarray(values[:horizon], dtype=float))
    if len(columns) != len(model.regressors):
        return None
    future = np.column_stack(columns)
    if not np.isfinite(future).all():
        problems.append(FieldProblem(f"{prefix}", "regressor values must be finite numbers"))
    return future


def results_of(
    serve: ForecastServing,
    request: SeriesRequest,
    levels: Sequence[float],
    params: ExecuteParameters,
    output: OutputOptions,
) -> dict[str, Any]:
    forecast = serve.model.forecast(request.series, request.horizon, levels, request.future)
    dates = serve.dates_of(request.series, forecast)
    detailed = output.format == "detailed" and params.include_confidence_interval
    labels = [percent_label(level) for level in levels]
    mean = forecast.mean.tolist()
    bands = [
        (forecast.bands[level][0].tolist(), forecast.bands[level][1].tolist()) for level in levels
    ]
    points = []
    for i, date in enumerate(dates):
        point: dict[str, Any] = {"date": date, "value": round(mean[i], 6)}
        if detailed:
            point["confidence_interval"] = {
                label: {"lower": round(low[i], 6), "upper": round(high[i], 6)}
                for label, (low, high) in zip(labels, bands, strict=True)
            }
        points.append(point)
    return {
        "series": dict(request.series.key),
        "algorithm": request.series.algorithm,
        "frequency": serve.model.frequency,
        "horizon": request.horizon,
        "forecast": points,
    }


def execute(
    ctx: Context,
    company: str,
    serve: ForecastServing,
    request: Mapping[str, Any],
    params: ExecuteParameters,
    output: OutputOptions,
    caller: str,
    started: float,
    timings: dict[str, float] | None = None,
) -> dict[str, Any]:
    horizon = _horizon(serve, params)
    levels = _levels(serve, params)
    resolved, problems = resolve(serve, request.get("input_data"), horizon, "input_data")
    if resolved is None:
        unknown = [p for p in problems if p.problem.startswith("unknown series")]
        message = "Invalid input_data: " + "; ".join(
            f"{p.field}: {p.problem}" for p in problems[:5]
        )
        if unknown:
            raise NotFoundError(message, problems)
        raise ValidationError(message, problems)
    validated = time.perf_counter()
    results = results_of(serve, resolved, levels, params, output)
    if timings is not None:
        timings["validation"] = (validated - started) * 1000
        timings["model"] = (time.perf_counter() - validated) * 1000
    execution_id = new_id("exec")
    response: dict[str, Any] = {"execution_id": execution_id, "asset_id": serve.asset_id}
    customer = _customer(request.get("input_data"))
    if customer is not None:
        response["customer_id"] = customer
    response["results"] = results
    elapsed_ms = (time.perf_counter() - started) * 1000
    if output.include_metadata:
        response["metadata"] = {
            "model_version": serve.version,
            "execution_time_ms": round(elapsed_ms, 3),
            "data_points_used": resolved.series.points,
            "prediction_date": now_iso(),
            "forecast_origin": resolved.series.last_date.isoformat(),
            "confidence_levels": levels,
        }
    record_execution(ctx, company, serve, caller, customer, elapsed_ms, entry_id=execution_id)
    return response


def _customer(input_data: Any) -> Any:
    return input_data.get("customer_id") if isinstance(input_data, Mapping) else None


def execute_batch(
    serve: ForecastServing,
    records: Sequence[Any],
    params: ExecuteParameters,
    first_index: int,
) -> tuple[list[dict[str, Any]], list[Any], np.ndarray]:
    """Results (a failed record carries its errors), each record's consumer, and which
    succeeded."""
    horizon = _horizon(serve, params)
    levels = _levels(serve, params)
    results: list[dict[str, Any]] = []
    customers: list[Any] = []
    ok = np.zeros(len(records), dtype=bool)
    summary = OutputOptions(format="detailed", include_metadata=False)
    for i, record in enumerate(records):
        position = first_index + i
        if not isinstance(record, Mapping):
            customers.append(None)
            results.append(
                _failed(position, [FieldProblem(f"batch_data[{position}]", "must be an object")])
            )
            continue
        record_id = record.get("id", position)
        customer = record.get("customer_id")
        customers.append(customer)
        resolved, problems = resolve(
            serve, record.get("input_data"), horizon, f"batch_data[{position}].input_data"
        )
        if resolved is None:
            results.append(_failed(record_id, problems))
            continue
        item: dict[str, Any] = {"id": record_id, "status": "success"}
        if customer is not None:
            item["customer_id"] = customer
        item["results"] = results_of(serve, resolved, levels, params, summary)
        results.append(item)
        ok[i] = True
    return results, customers, ok


def _failed(record_id: Any, problems: list[FieldProblem]) -> dict[str, Any]:
    return {
        "id": record_id,
        "status": "failed",
        "errors": [{"field": p.field, "problem": p.problem} for p in problems],
    }
