"""How assets are shown: the contract's list item and detail shapes, from stored rows."""

from __future__ import annotations

import re
from typing import Any

from engine.domain.asset_config import AssetSpec
from engine.service import metering
from engine.service.context import Context
from engine.service.urls import public_url

_CLASSIFICATION_METRICS = ("accuracy", "precision", "recall", "f1_score", "auc_roc")
_FORECAST_METRICS = ("mase", "smape", "mape", "rmse", "coverage_80", "coverage_95")
"""Backtest figures of the chosen models, means over series."""
_JSON_TYPES = {"numeric": "number", "boolean": "boolean", "categorical": "string"}


def endpoint_url(ctx: Context, asset_id: str) -> str:
    return public_url(ctx, f"/analytics/assets/{asset_id}/execute")


def probability_field(target: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", target.lower()).strip("_") + "_probability"


def _active_metrics(ctx: Context, company: str, row: dict[str, Any]) -> dict[str, Any]:
    if not row["active_version"]:
        return {}
    version = ctx.store.get_version(company, row["asset_id"], row["active_version"])
    return dict(version["metrics"])


def asset_summary(ctx: Context, company: str, row: dict[str, Any]) -> dict[str, Any]:
    spec = row["spec"]
    metrics = _active_metrics(ctx, company, row)
    figures = metering.asset_figures(ctx, company, row["asset_id"])
    performance: dict[str, Any] = {
        k: round(metrics[k], 4)
        for k in ("accuracy", "auc_roc", "mase", "smape")
        if metrics.get(k) is not None
    }
    performance["avg_response_time"] = figures["performance"]["avg_response_time"]
    performance["requests_last_30d"] = figures["performance"]["requests_last_30d"]
    return {
        "asset_id": row["asset_id"],
        "name": row["name"],
        "description": spec.get("description", ""),
        "status": row["status"],
        "category": row["category"],
        "data_sources": [ref["source_id"] for ref in spec["data_sources"]],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "version": row["version"],
        "active_version": row["active_version"],
        "performance_metrics": performance,
        "revenue_metrics": _revenue(figures),
    }


def _revenue(figures: dict[str, Any]) -> dict[str, Any]:
    revenue = figures["revenue"]
    return {
        "monthly_revenue": revenue["monthly_revenue"],
        "total_customers": revenue["total_customers"],
        "currency": revenue["currency"],
    }


def asset_details(ctx: Context, company: str, row: dict[str, Any]) -> dict[str, Any]:
    spec = AssetSpec.model_validate(row["spec"])
    metrics = _active_metrics(ctx, company, row)
    figures = metering.asset_figures(ctx, company, row["asset_id"])
    sources = []
    for ref in spec.data_sources:
        source = ctx.store.get_source(company, ref.source_id)
        sources.append(
            {
                "source_id": ref.source_id,
                "name": source["name"],
                "type": source["type"],
                "tables": ref.tables,
                "connection_status": source["status"],
                "last_sync": source["last_validated"],
            }
        )
    shown = _FORECAST_METRICS if spec.configuration.is_time_series else _CLASSIFICATION_METRICS
    performance = {k: round(metrics[k], 4) for k in shown if metrics.get(k) is not None}
    performance.update(figures["performance"])
    return {
        "asset_id": row["asset_id"],
        "name": spec.name,
        "description": spec.description,
        "status": row["status"],
        "category": spec.category,
        "subcategory": spec.subcategory
        or (
            "classification"
            if spec.configuration.is_classification
            else spec.configuration.model_type
        ),
        "version": row["version"],
        "active_version": row["active_version"],
        "created_at": row["created_at"],
        "updated_at": row["updated_at"],
        "data_sources": sources,
        "configuration": spec.configuration.model_dump(mode="json"),
        "validation_rules": spec.validation_rules.model_dump(mode="json"),
        "pricing": spec.pricing.model_dump(mode="json"),
        "api_specification": api_specification(ctx, row, spec),
        "performance_metrics": performance,
        "usage_statistics": figures["usage"],
        "revenue_metrics": _revenue(figures)
        | {"total_revenue": figures["revenue"]["total_revenue"]},
    }


def _forecast_specification(ctx: Context, row: dict[str, Any], spec: AssetSpec) -> dict[str, Any]:
    config = spec.configuration
    inputs: dict[str, Any] = dict.fromkeys(config.series_keys, "string")
    inputs.update(dict.fromkeys(config.features, "array of numbers (future values)"))
    inputs.update(
        {
            "prediction_horizon": "integer",
            "confidence_levels": "array of numbers",
            "include_confidence_interval": "boolean",
        }
    )
    return {
        "endpoint": endpoint_url(ctx, row["asset_id"]),
        "methods": ["POST"],
        "input_schema": inputs,
        "output_schema": {
            "series": "object",
            "algorithm": "string",
            "frequency": "string",
            "horizon": "integer",
            "forecast": "array of {date, value, confidence_interval: {level: {lower, upper}}}",
        },
    }


def api_specification(ctx: Context, row: dict[str, Any], spec: AssetSpec) -> dict[str, Any]:
    config = spec.configuration
    if config.is_time_series:
        return _forecast_specification(ctx, row, spec)
    inputs: dict[str, Any] = {}
    if config.entity_key:
        inputs[config.entity_key.field] = "string"
    if row["active_version"]:
        model, _ = ctx.models.classifier(row["asset_id"], row["active_version"])
        for feature in model.encoder.specs_:
            inputs[feature.name] = _JSON_TYPES[feature.kind]
    else:
        inputs.update(dict.fromkeys(config.features, "any"))
    inputs.update(
        {"include_confidence_interval": "boolean", "include_feature_importance": "boolean"}
    )
    outputs: dict[str, Any] = {}
    if config.entity_key:
        outputs[config.entity_key.field] = "string"
    target = config.target_variable or "target"
    outputs.update(
        {
            probability_field(target): "float",
            "risk_level": "string",
            "confidence_interval": "object",
            "key_factors": "array",
        }
    )
    return {
        "endpoint": endpoint_url(ctx, row["asset_id"]),
        "methods": ["POST"],
        "input_schema": inputs,
        "output_schema": outputs,
    }
