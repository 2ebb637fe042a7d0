"""Training an asset into a new immutable version, and making a version active."""

from __future__ import annotations

import hashlib
import platform
import time
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from typing import Any

import pandas as pd

from engine.clock import new_id, now_iso
from engine.domain import semver
from engine.domain.asset_config import AssetSpec
from engine.domain.validation_rules import check_training_frame
from engine.errors import ConflictError, NotAvailableError
from engine.service.context import Context
from engine.service.sources import open_source
from engine.training import STEPS, Progress
from engine.training.classification import train_classifier
from engine.training.progress import silent

_LIBRARIES = (
    "engine",
    "numpy",
    "pandas",
    "scikit-learn",
    "xgboost-cpu",
    "xgboost",
    "shap",
    "duckdb",
    "joblib",
)


def library_versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            found[name] = package_version(name)
        except PackageNotFoundError:
            continue
    return found


def fingerprint(frame: pd.DataFrame) -> str:
    """sha256 over the training rows' content, column names and order included."""
    digest = hashlib.sha256(",".join(map(str, frame.columns)).encode())
    digest.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
    return digest.hexdigest()


def load_training_frame(ctx: Context, company: str, spec: AssetSpec) -> tuple[pd.DataFrame, str]:
    ref = spec.data_sources[0]
    connector = open_source(ctx, company, ref.source_id)
    try:
        table = spec.configuration.table or (ref.tables[0] if ref.tables else None)
        if table is None:
            tables = connector.list_tables()
            if len(tables) != 1:
                raise ConflictError(
                    "Name the training table in configuration.table (the source has several)."
                )
            table = tables[0]
        return connector.read_table(table).to_pandas(), table
    finally:
        connector.close()


def _features(spec: AssetSpec, frame: pd.DataFrame) -> list[str]:
    config = spec.configuration
    if config.features:
        return list(config.features)
    excluded = {config.target_variable, config.date_column}
    if config.entity_key:
        excluded.add(config.entity_key.column)
    return [c for c in frame.columns if c not in excluded]


def train(
    ctx: Context, company: str, asset_id: str, progress: Progress = silent, activate: bool = True
) -> dict[str, Any]:
    """Train the asset's configuration into a new version; activate it if it meets the threshold."""
    row = ctx.store.get_asset(company, asset_id)
    if row["status"] == "archived":
        raise ConflictError(
            f"Asset '{asset_id}' is archived; restore it (status draft) before training."
        )
    spec = AssetSpec.model_validate(row["spec"])
    if not spec.configuration.is_classification:
        raise NotAvailableError(
            f"Training model_type '{spec.configuration.model_type}' is not available yet; "
            "classification (binary) is."
        )
    job_id, started = new_id("job"), now_iso()
    logs: list[str] = []

    def report(step: str, done: float, message: str) -> None:
        logs.append(f"{now_iso()} [{step}] {message}")
        progress(step, done, message)

    ctx.store.add_job(
        {
            "job_id": job_id,
            "company": company,
            "asset_id": asset_id,
            "kind": "training",
            "status": "running",
            "progress": {"current_step": STEPS[0]},
            "logs": [],
            "started_at": started,
        }
    )
    clock = time.perf_counter()
    try:
        frame, table = load_training_frame(ctx, company, spec)
        check_training_frame(frame, table, spec.configuration, spec.validation_rules)
        features = _features(spec, frame)
        outcome = train_classifier(frame, spec.configuration, features, report)
        existing = [
            v["version"] for v in ctx.store.list_versions(company, asset_id)
        ] + ctx.artifacts.versions(asset_id)
        version = semver.next_model_version(row["version"], existing)
        metrics = {**outcome.metrics, "training_seconds": round(time.perf_counter() - clock, 3)}
        changes = [
            f"Trained {outcome.model.algorithm} on {outcome.rows['training']} rows of '{table}'"
        ]
        changes += [c.describe() for c in outcome.coercions]
        if outcome.dropped_target_rows:
            changes.append(f"Dropped {outcome.dropped_target_rows} rows with no target value")
        manifest = {
            "asset_id": asset_id,
            "version": version,
            "algorithm": outcome.model.algorithm,
            "params": outcome.model.classifier.get_params(),
            "metrics": metrics,
            "cv_scores": outcome.cv_scores,
            "global_importance": outcome.global_importance,
            "feature_schema": outcome.model.encoder.to_dict()["features"],
            "target": outcome.model.target,
            "positive_label": outcome.model.positive_label,
            "interval_method": outcome.model.interval.describe(),
            "training_data": {
                "table": table,
                "rows": outcome.rows,
                "fingerprint": fingerprint(frame),
            },
            "libraries": library_versions(),
            "created_at": now_iso(),
            "changes": changes,
        }
        stored = ctx.artifacts.write(asset_id, version, outcome.model.write_payload, manifest)
        manifest_sha = hashlib.sha256((stored.directory / "manifest.json").read_bytes()).hexdigest()
        threshold = spec.configuration.performance_threshold
        meets = threshold is None or metrics["auc_roc"] >= threshold
        ctx.store.add_version(
            {
                "asset_id": asset_id,
                "version": version,
                "company": company,
                "status": "ready",
                "algorithm": outcome.model.algorithm,
                "metrics": metrics,
                "changes": changes,
                "manifest_sha256": manifest_sha,
                "created_at": manifest["created_at"],
            }
        )
        deployed = activate and meets
        if deployed:
            deploy(ctx, company, asset_id, version)
        report(
            "deployment",
            1.0,
            f"version {version} "
            + (
                "active"
                if deployed
                else f"stored, not activated (auc_roc {metrics['auc_roc']:.4f} < threshold {threshold})"
                if not meets
                else "stored"
            ),
        )
        result = {
            "training_job_id": job_id,
            "asset_id": asset_id,
            "model_version": version,
            "algorithm": outcome.model.algorithm,
            "model_performance": metrics,
            "cv_scores": outcome.cv_scores,
            "deployment_status": "successful" if deployed else "not_deployed",
            "changes": changes,
            "global_importance": outcome.global_importance,
            "interval_method": manifest["interval_method"],
        }
        ctx.store.update_job(
            job_id,
            {
                "status": "completed",
                "result": result,
                "logs": logs,
                "completed_at": now_iso(),
                "progress": {"current_step": "deployment", "steps_completed": 5},
            },
        )
        return result
    except Exception as exc:
        ctx.store.update_job(
            job_id, {"status": "failed", "error": str(exc), "logs": logs, "completed_at": now_iso()}
        )
        raise


def deploy(ctx: Context, company: str, asset_id: str, version: str) -> dict[str, Any]:
    """Make `version` the active one: load and verify it first, then switch the pointer."""
    ctx.store.get_version(company, asset_id, version)
    ctx.models.get(asset_id, version)  # loads, verifies checksums, warms the cache
    at = now_iso()
    previous = ctx.store.activate(company, asset_id, version, at)
    ctx.models.forget_pointer(company, asset_id)
    return {
        "asset_id": asset_id,
        "version": version,
        "previous_version": previous,
        "status": "active",
        "deployed_at": at,
    }


def list_versions(
    ctx: Context, company: str, asset_id: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    row = ctx.store.get_asset(company, asset_id)
    versions = sorted(
        ctx.store.list_versions(company, asset_id),
        key=lambda v: semver.sort_key(v["version"]),
        reverse=True,
    )
    items = [
        {
            "version": v["version"],
            "status": v["status"],
            "algorithm": v["algorithm"],
            "created_at": v["created_at"],
            "performance_metrics": {
                k: v["metrics"][k] for k in ("accuracy", "auc_roc", "f1_score") if k in v["metrics"]
            },
            "changes": v["changes"],
            "deployment_date": v["deployment_date"],
        }
        for v in versions
    ]
    return items, {"current_version": row["active_version"], "total_versions": len(items)}
