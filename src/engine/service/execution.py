"""Executing an asset's active version: one record, many records, or a whole frame.

The hot path reads only memory: the asset row and pointer come from `ModelCache` (re-read at most
every second), the model is loaded once per version, and the execution record is buffered.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from engine.clock import new_id, now_iso
from engine.domain.asset_config import TIME_SERIES_MODEL_TYPES, AssetSpec, Configuration
from engine.domain.parsing import parse
from engine.errors import (
    ConflictError,
    FieldProblem,
    NotAvailableError,
    NotFoundError,
    ValidationError,
)
from engine.features.request_input import InputResolver
from engine.service import forecast_execution
from engine.service.asset_views import probability_field
from engine.service.context import Context
from engine.service.execution_options import (
    DEFAULT_OUTPUT,
    DEFAULT_PARAMETERS,
    ExecuteParameters,
    OutputOptions,
)
from engine.service.forecast_execution import ForecastServing, forecast_serving
from engine.service.metering import (
    LOCAL_CALLER,
    PriceSnapshot,
    chunk_entry_id,
    entry,
    outcome_of,
    record_execution,
)
from engine.trained_model import TrainedModel

RISK_LEVELS = ("low", "medium", "high")
_REQUEST_KEYS = frozenset({"input_data", "parameters", "output_options"})


@dataclass
class Serving:
    """Everything one execution needs, resolved once per (asset row, version)."""

    asset_id: str
    version: str
    model: TrainedModel
    config: Configuration
    spec: AssetSpec
    resolver: InputResolver
    probability_field: str
    training_rows: int
    price: PriceSnapshot

    def risk_level(self, p: float) -> str:
        thresholds = self.config.risk_thresholds
        return RISK_LEVELS[int(p >= thresholds["medium"]) + int(p >= thresholds["high"])]

    def risk_codes(self, p: np.ndarray) -> np.ndarray:
        """Positions in RISK_LEVELS for many probabilities at once."""
        thresholds = self.config.risk_thresholds
        codes: np.ndarray = (p >= thresholds["medium"]).astype(np.int8) + (p >= thresholds["high"])
        return codes


def any_serving(
    ctx: Context, company: str, asset_id: str, version: str | None = None
) -> Serving | ForecastServing:
    """The serving state of the active version (or `version`), classifier or forecast."""
    row = _executable_row(ctx, company, asset_id)
    version = version or ctx.models.active_version(company, asset_id)
    if row["spec"]["configuration"].get("model_type") in TIME_SERIES_MODEL_TYPES:
        return forecast_serving(ctx, company, row, version)
    return _classifier_serving(ctx, row, version)


def serving(ctx: Context, company: str, asset_id: str, version: str | None = None) -> Serving:
    """The active version's serving state, or that of `version` (a batch pins the version it
    started with, so a deploy in the middle does not mix two models in one result)."""
    row = _executable_row(ctx, company, asset_id)
    if row["spec"]["configuration"].get("model_type") in TIME_SERIES_MODEL_TYPES:
        raise NotAvailableError(
            f"Asset '{asset_id}' forecasts a time series; scoring a table of records applies "
            "to classifiers. Send one record per series to batch-execute instead."
        )
    return _classifier_serving(ctx, row, version or ctx.models.active_version(company, asset_id))


def _executable_row(ctx: Context, company: str, asset_id: str) -> dict[str, Any]:
    row = ctx.models.asset(company, asset_id)
    if row["status"] == "archived":
        raise ConflictError(f"Asset '{asset_id}' is archived and cannot be executed.")
    return row


def _classifier_serving(ctx: Context, row: dict[str, Any], version: str) -> Serving:
    asset_id = row["asset_id"]
    key = (asset_id, version, row["updated_at"])
    found: Serving | None = ctx.serving.get(key)
    if found is None:
        model, manifest = ctx.models.classifier(asset_id, version)
        spec = AssetSpec.model_validate(row["spec"])
        extra = [spec.configuration.entity_key.field] if spec.configuration.entity_key else []
        found = Serving(
            asset_id=asset_id,
            version=version,
            model=model,
            config=spec.configuration,
            spec=spec,
            resolver=InputResolver(model.encoder.feature_names_, extra),
            probability_field=probability_field(model.target),
            training_rows=int(manifest["training_data"]["rows"]["training"]),  # type: ignore[index]
            price=PriceSnapshot.of(spec.pricing),
        )
        ctx.serving[key] = found
    return found


def _options(request: Mapping[str, Any]) -> tuple[ExecuteParameters, OutputOptions]:
    unknown = set(request) - _REQUEST_KEYS
    if unknown:
        field = sorted(unknown)[0]
        raise ValidationError.for_field(
            field, "unknown field; the request takes input_data, parameters, output_options"
        )
    params = request.get("parameters")
    output = request.get("output_options")
    return (
        parse(ExecuteParameters, params, "parameters", "parameters")
        if params
        else DEFAULT_PARAMETERS,
        parse(OutputOptions, output, "output_options", "output_options")
        if output
        else DEFAULT_OUTPUT,
    )


def _check_horizon(serve: Serving, params: ExecuteParameters) -> None:
    declared = serve.config.prediction_horizon
    if (
        params.prediction_horizon is not None
        and declared is not None
        and params.prediction_horizon != declared
    ):
        raise ValidationError.for_field(
            "parameters.prediction_horizon",
            f"this model predicts over {declared} days, not {params.prediction_horizon}",
        )


def _lookup_entity(
    ctx: Context, company: str, serve: Serving, key_value: Any, field: str
) -> dict[str, Any]:
    from engine.service.sources import cached_connector

    entity = serve.config.entity_key
    assert entity is not None
    ref = serve.spec.data_sources[0]
    table = serve.config.table or ref.tables[0]
    connector = cached_connector(ctx, company, ref.source_id)
    rows = connector.read_table(
        table, serve.resolver.features, {entity.column: key_value}, limit=2
    ).to_pylist()
    if not rows:
        raise NotFoundError(
            f"{field}: no row with {entity.column} = {key_value!r} in '{table}'.",
            [FieldProblem(field, "no such entity")],
        )
    if len(rows) > 1:
        raise ConflictError(
            f"{field}: {entity.column} = {key_value!r} matches several rows in '{table}'."
        )
    return dict(rows[0])


def _resolve_record(
    ctx: Context, company: str, serve: Serving, input_data: Any, prefix: str
) -> tuple[dict[str, Any], dict[str, Any], list[FieldProblem]]:
    values, extras, problems = serve.resolver.resolve(input_data, prefix)
    entity = serve.config.entity_key
    if entity and entity.field in extras and not problems:
        missing = [f for f in serve.resolver.features if f not in values]
        if missing:
            looked_up = _lookup_entity(
                ctx, company, serve, extras[entity.field], f"{prefix}.{entity.field}"
            )
            values = {**looked_up, **values}
    problems += serve.resolver.missing(values, prefix)
    return values, extras, problems


def _key_factors(serve: Serving, contributions: np.ndarray, top_k: int) -> list[dict[str, Any]]:
    total = float(np.abs(contributions).sum()) or 1.0
    order = np.argsort(-np.abs(contributions))[:top_k]
    names = serve.model.encoder.feature_names_
    return [
        {
            "factor": names[i],
            "importance": round(abs(float(contributions[i])) / total, 4),
            "direction": "risk" if contributions[i] > 0 else "protective",
        }
        for i in order
        if contributions[i] != 0
    ]


def _results(
    serve: Serving,
    p: float,
    lower: float,
    upper: float,
    factors: list[dict[str, Any]] | None,
    params: ExecuteParameters,
    output: OutputOptions,
) -> dict[str, Any]:
    results: dict[str, Any] = {
        serve.probability_field: round(p, 6),
        "risk_level": serve.risk_level(p),
    }
    if output.format == "detailed" and params.include_confidence_interval:
        results["confidence_interval"] = {
            "lower": round(lower, 6),
            "upper": round(upper, 6),
            "level": serve.model.interval.level,
        }
    if output.format == "detailed" and factors is not None:
        results["key_factors"] = factors
    return results


def execute(
    ctx: Context,
    company: str,
    asset_id: str,
    request: Mapping[str, Any],
    timings: dict[str, float] | None = None,
    caller: str = LOCAL_CALLER,
) -> dict[str, Any]:
    """Score one record. `timings`, when given, receives the milliseconds spent validating the
    input, in the model (with xgboost the contributions come from the same tree pass), and
    ranking the explanation. Every call, failed ones included, goes to the usage ledger."""
    started = time.perf_counter()
    serve: Serving | ForecastServing | None = None
    try:
        serve = any_serving(ctx, company, asset_id)
        if isinstance(serve, ForecastServing):
            params, output = _options(request)
            return forecast_execution.execute(
                ctx, company, serve, request, params, output, caller, started, timings
            )
        return _execute(ctx, company, serve, request, timings, caller, started)
    except Exception as exc:
        if serve is not None:  # a request for an asset that cannot serve is not usage
            outcome, code = outcome_of(exc)
            record_execution(
                ctx,
                company,
                serve,
                caller,
                _consumer_of(request, serve),
                (time.perf_counter() - started) * 1000,
                outcome=outcome,
                error_code=code,
            )
        raise


def _consumer_of(request: Mapping[str, Any], serve: Serving | ForecastServing) -> Any:
    data = request.get("input_data")
    if not isinstance(data, Mapping):
        return None
    if isinstance(serve, ForecastServing):
        return data.get("customer_id")
    entity = serve.config.entity_key
    return data.get("customer_id") or (data.get(entity.field) if entity else None)


def _execute(
    ctx: Context,
    company: str,
    serve: Serving,
    request: Mapping[str, Any],
    timings: dict[str, float] | None,
    caller: str,
    started: float,
) -> dict[str, Any]:
    asset_id = serve.asset_id
    params, output = _options(request)
    _check_horizon(serve, params)
    if params.confidence_levels is not None:
        raise ValidationError.for_field(
            "parameters.confidence_levels",
            f"applies to forecasts; this classifier's interval level is {serve.model.interval.level}",
        )
    values, extras, problems = _resolve_record(
        ctx, company, serve, request.get("input_data"), "input_data"
    )
    encoder = serve.model.encoder
    row = np.zeros((1, len(encoder.columns_)))
    problems += [
        FieldProblem(f"input_data.{p.field}", p.problem)
        for p in encoder.encode_record(values, row[0])
    ]
    if problems:
        raise ValidationError(
            "Invalid input_data: " + "; ".join(f"{p.field}: {p.problem}" for p in problems[:5]),
            problems,
        )
    validated = time.perf_counter()
    factors = None
    if params.include_feature_importance and output.format == "detailed":
        p, lower, upper, contributions = serve.model.predict_explained(row)
        modelled = time.perf_counter()
        factors = _key_factors(
            serve, contributions[0], params.max_key_factors or serve.config.key_factors
        )
    else:
        p, lower, upper = serve.model.predict(row)
        modelled = time.perf_counter()
    if timings is not None:
        timings["validation"] = (validated - started) * 1000
        timings["model"] = (modelled - validated) * 1000
        timings["explanation"] = (time.perf_counter() - modelled) * 1000
    execution_id = new_id("exec")
    response: dict[str, Any] = {"execution_id": execution_id, "asset_id": asset_id}
    customer = extras.get("customer_id") or (
        extras.get(serve.config.entity_key.field) if serve.config.entity_key else None
    )
    if customer is not None:
        response["customer_id"] = customer
    response["results"] = _results(
        serve, float(p[0]), float(lower[0]), float(upper[0]), factors, params, output
    )
    elapsed_ms = (time.perf_counter() - started) * 1000
    if output.include_metadata:
        response["metadata"] = {
            "model_version": serve.version,
            "execution_time_ms": round(elapsed_ms, 3),
            "data_points_used": serve.training_rows,
            "prediction_date": now_iso(),
        }
    record_execution(ctx, company, serve, caller, customer, elapsed_ms, entry_id=execution_id)
    return response


def execute_batch(
    ctx: Context,
    company: str,
    asset_id: str,
    records: Sequence[Mapping[str, Any]],
    parameters: Mapping[str, Any] | None = None,
    version: str | None = None,
    first_index: int = 0,
    caller: str = LOCAL_CALLER,
    entry_prefix: str | None = None,
) -> dict[str, Any]:
    """Score many records in one vectorized pass; a bad record fails alone with its errors.

    Each record is `{"id"?, "customer_id"?, "input_data": {...}}` as in the contract's batch body;
    `first_index` numbers them within a larger batch (for error fields and default ids). The
    ledger gets one row per consumer; `entry_prefix` (a batch job's chunk) makes those rows'
    ids stable, so a chunk scored again after a crash is not charged twice.
    """
    started = time.perf_counter()
    any_serve = any_serving(ctx, company, asset_id, version)
    params = (
        parse(ExecuteParameters, parameters, "parameters", "parameters")
        if parameters
        else DEFAULT_PARAMETERS
    )
    if isinstance(any_serve, ForecastServing):
        forecasts, consumers, succeeded = forecast_execution.execute_batch(
            any_serve, records, params, first_index
        )
        return _batch_envelope(
            ctx, company, any_serve, forecasts, consumers, succeeded, started, caller, entry_prefix
        )
    serve = any_serve
    _check_horizon(serve, params)
    encoder = serve.model.encoder
    matrix = np.zeros((len(records), len(encoder.columns_)))
    failures: dict[int, list[FieldProblem]] = {}
    customers: list[Any] = []
    for i, record in enumerate(records):
        prefix = f"batch_data[{first_index + i}].input_data"
        customer = record.get("customer_id") if isinstance(record, Mapping) else None
        try:
            if not isinstance(record, Mapping):
                raise ValidationError.for_field(
                    f"batch_data[{first_index + i}]", "must be an object"
                )
            raw_input = record.get("input_data") or {}
            if not isinstance(raw_input, Mapping):
                raise ValidationError.for_field(prefix, "must be an object")
            input_data = dict(raw_input)
            if customer is not None:
                input_data.setdefault("customer_id", customer)
            values, _, problems = _resolve_record(ctx, company, serve, input_data, prefix)
            problems += [
                FieldProblem(f"{prefix}.{p.field}", p.problem)
                for p in encoder.encode_record(values, matrix[i])
            ]
        except (ValidationError, NotFoundError, ConflictError) as exc:
            problems = exc.details or [FieldProblem(f"batch_data[{first_index + i}]", exc.message)]
        if problems:
            failures[i] = problems
        customers.append(customer)
    ok = np.array([i not in failures for i in range(len(records))], dtype=bool)
    p = np.zeros(len(records))
    lower = np.zeros(len(records))
    upper = np.zeros(len(records))
    contributions = None
    if ok.any():
        if params.include_feature_importance:
            contributions = np.zeros((len(records), len(encoder.specs_)))
            p[ok], lower[ok], upper[ok], contributions[ok] = serve.model.predict_explained(
                matrix[ok]
            )
        else:
            p[ok], lower[ok], upper[ok] = serve.model.predict(matrix[ok])
    top_k = params.max_key_factors or serve.config.key_factors
    results = []
    for i, record in enumerate(records):
        position = first_index + i
        record_id = record.get("id", position) if isinstance(record, Mapping) else position
        if i in failures:
            results.append(
                {
                    "id": record_id,
                    "status": "failed",
                    "errors": [{"field": f.field, "problem": f.problem} for f in failures[i]],
                }
            )
            continue
        factors = (
            _key_factors(serve, contributions[i], top_k) if contributions is not None else None
        )
        item: dict[str, Any] = {"id": record_id, "status": "success"}
        if customers[i] is not None:
            item["customer_id"] = customers[i]
        item["results"] = _results(
            serve, float(p[i]), float(lower[i]), float(upper[i]), factors, params, DEFAULT_OUTPUT
        )
        results.append(item)
    return _batch_envelope(
        ctx, company, serve, results, customers, ok, started, caller, entry_prefix
    )


def _batch_envelope(
    ctx: Context,
    company: str,
    serve: Serving | ForecastServing,
    results: list[dict[str, Any]],
    customers: Sequence[Any],
    ok: np.ndarray,
    started: float,
    caller: str,
    entry_prefix: str | None,
) -> dict[str, Any]:
    elapsed_ms = (time.perf_counter() - started) * 1000
    succeeded = int(ok.sum())
    _meter_batch(ctx, company, serve, customers, ok, elapsed_ms, caller, entry_prefix)
    return {
        "asset_id": serve.asset_id,
        "model_version": serve.version,
        "total_records": len(results),
        "successful_records": succeeded,
        "failed_records": len(results) - succeeded,
        "execution_time_ms": round(elapsed_ms, 3),
        "results": results,
    }


def _meter_batch(
    ctx: Context,
    company: str,
    serve: Serving | ForecastServing,
    customers: Sequence[Any],
    ok: np.ndarray,
    elapsed_ms: float,
    caller: str,
    entry_prefix: str | None,
) -> None:
    per_consumer: dict[str, list[int]] = {}
    for customer, succeeded in zip(customers, ok.tolist(), strict=True):
        consumer = caller if customer is None else str(customer)[:200]
        counts = per_consumer.setdefault(consumer, [0, 0])
        counts[0] += 1
        counts[1] += int(succeeded)
    for consumer, (requests, succeeded) in per_consumer.items():
        meter_rows(
            ctx,
            company,
            serve,
            requests,
            succeeded,
            elapsed_ms,
            caller,
            entry_id=None if entry_prefix is None else chunk_entry_id(entry_prefix, consumer),
            consumer=consumer,
        )


def meter_rows(
    ctx: Context,
    company: str,
    serve: Serving | ForecastServing,
    requests: int,
    succeeded: int,
    elapsed_ms: float,
    caller: str,
    entry_id: str | None = None,
    consumer: str | None = None,
) -> None:
    """Record rows scored together as one consumer's usage (the caller's, unless named): a
    table batch's chunk, or one consumer's records in a batch."""
    ctx.executions.record(
        entry(
            ctx,
            company=company,
            asset_id=serve.asset_id,
            version=serve.version,
            caller=caller,
            consumer=consumer,
            kind="batch",
            outcome="success" if succeeded == requests else "partial",
            latency_ms=elapsed_ms,
            requests=requests,
            succeeded=succeeded,
            price=serve.price,
            entry_id=entry_id,
        )
    )


def score_frame(ctx: Context, company: str, asset_id: str, frame: pd.DataFrame) -> pd.DataFrame:
    """Columnar scoring of a whole frame of feature columns: probability, interval, risk level."""
    serve = serving(ctx, company, asset_id)
    missing = [f for f in serve.resolver.features if f not in frame.columns]
    if missing:
        raise ValidationError(
            f"The frame lacks feature columns {missing}",
            [FieldProblem(f, "missing column") for f in missing],
        )
    p, lower, upper = serve.model.predict(serve.model.encoder.encode_frame(frame))
    risk = pd.Categorical.from_codes(serve.risk_codes(p), categories=pd.Index(RISK_LEVELS))
    return pd.DataFrame(
        {serve.probability_field: p, "risk_level": risk, "lower": lower, "upper": upper},
        index=frame.index,
    )
