"""Training an asset into a new immutable version, and making a version active."""

from __future__ import annotations

import dataclasses
import hashlib
import platform
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import pandas as pd

from engine.clock import new_id, now_iso
from engine.contracts import build_contract
from engine.domain import semver
from engine.domain.asset_config import AssetSpec, Configuration
from engine.domain.parsing import parse
from engine.domain.validation_rules import check_training_frame
from engine.errors import ConflictError, EngineError, JobCancelledError, NotAvailableError
from engine.forecasting.series import unset_columns
from engine.ports import RowFilter
from engine.reports import ClassificationReportData, render_classification_report
from engine.reports.forecast import render_forecast_report
from engine.service import versions
from engine.service.assets import check_algorithms
from engine.service.context import Context
from engine.service.forecast_training import train_forecast
from engine.service.jobs import check_cancelled, progress_of, worker_name
from engine.service.sources import open_source
from engine.service.training_request import TrainRequest, effective_configuration, period_filter
from engine.training import STEPS, Progress
from engine.training.classification import TrainingOutcome, train_classifier
from engine.training.progress import silent

REPORT_FILE = "report.html"
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
    "statsmodels",
    "prophet",
    "torch",
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


def load_training_frame(
    ctx: Context, company: str, spec: AssetSpec, where: RowFilter | None = None
) -> tuple[pd.DataFrame, str]:
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
        return connector.read_table(table, where=where).to_pandas(), table
    finally:
        connector.close()


def _features(config: Configuration, frame: pd.DataFrame) -> list[str]:
    if config.features:
        return list(config.features)
    excluded = {config.target_variable, config.date_column}
    if config.entity_key:
        excluded.add(config.entity_key.column)
    return [c for c in frame.columns if c not in excluded]


@dataclass(frozen=True)
class TrainingPlan:
    row: dict[str, Any]
    spec: AssetSpec
    request: TrainRequest
    config: Configuration
    where: RowFilter


def plan_training(
    ctx: Context, company: str, asset_id: str, body: Mapping[str, Any] | None
) -> TrainingPlan:
    """Everything about a training run that can be checked before any data is read."""
    row = ctx.store.get_asset(company, asset_id)
    request = parse(TrainRequest, body, "training request")
    if row["status"] == "archived":
        raise ConflictError(
            f"Asset '{asset_id}' is archived; restore it (status draft) before training."
        )
    spec = AssetSpec.model_validate(row["spec"])
    if not (spec.configuration.is_classification or spec.configuration.is_time_series):
        raise NotAvailableError(
            f"Training model_type '{spec.configuration.model_type}' is not available; "
            "classification (binary) and time_series are."
        )
    config = effective_configuration(spec, request)
    check_algorithms(config)
    return TrainingPlan(row, spec, request, config, period_filter(spec, request))


def train(
    ctx: Context,
    company: str,
    asset_id: str,
    body: Mapping[str, Any] | None = None,
    progress: Progress = silent,
    activate: bool = True,
    job_id: str | None = None,
) -> dict[str, Any]:
    """Train the asset into a new version, recorded as a training job (`job_id` when the job was
    queued already); activate the version when deployment is asked for and it meets the
    performance threshold. Returns the job's results."""
    plan = plan_training(ctx, company, asset_id, body)
    spec, request, config, where = plan.spec, plan.request, plan.config, plan.where
    job = _JobRecorder(ctx, company, asset_id, progress, job_id)
    try:
        frame, table = load_training_frame(ctx, company, spec, where)
        build = _build_forecast if config.is_time_series else _build_classifier
        built = build(ctx, company, plan, frame, table, job)
        version, metrics, manifest = built.version, built.metrics, built.manifest
        stored = ctx.artifacts.write(asset_id, version, built.write_payload, manifest)
        ctx.store.add_version(
            {
                "asset_id": asset_id,
                "version": version,
                "company": company,
                "status": "ready",
                "algorithm": built.algorithm,
                "metrics": metrics,
                "changes": built.changes,
                "manifest_sha256": hashlib.sha256(
                    (stored.directory / "manifest.json").read_bytes()
                ).hexdigest(),
                "created_at": manifest["created_at"],
            }
        )
        threshold = config.performance_threshold
        meets = threshold is None or _meets(config, metrics, threshold)
        deployed = activate and request.deployment_config.auto_deploy and meets
        if deployed:
            versions.activate(
                ctx,
                company,
                asset_id,
                version,
                actor=f"training job {job.job_id}",
                reason="auto_deploy after training"
                + ("" if threshold is None else f" ({_judged(config, metrics, threshold)})"),
            )
        job.report(
            "deployment",
            1.0,
            _deployment_message(version, deployed, meets, _judged(config, metrics, threshold)),
        )
        result = {
            "training_job_id": job.job_id,
            "asset_id": asset_id,
            "model_version": version,
            "algorithm": built.algorithm,
            "model_performance": metrics,
            "deployment_status": "successful"
            if deployed
            else "below_threshold"
            if not meets
            else "not_deployed",
            "changes": built.changes,
            **built.result_fields,
        }
        job.finish(result)
        return result
    except Exception as exc:
        job.fail(exc)
        raise


class _JobRecorder:
    """Writes a training job's progress and logs to the metadata store as the steps advance."""

    def __init__(
        self, ctx: Context, company: str, asset_id: str, progress: Progress, job_id: str | None
    ) -> None:
        self.ctx, self.progress, self.company = ctx, progress, company
        self.clock = time.perf_counter()
        self.logs: list[str] = []
        self.completed = 0
        running = {
            "status": "running",
            "progress": progress_of(STEPS[0], 0),
            "started_at": now_iso(),
        }
        if job_id is not None:
            self.job_id = job_id
            check_cancelled(ctx, company, job_id)
            ctx.store.update_job(job_id, running)
            ctx.store.update_job_run(job_id, {"worker": worker_name(), "heartbeat_at": now_iso()})
            return
        self.job_id = new_id("job")
        ctx.store.add_job(
            {
                "job_id": self.job_id,
                "company": company,
                "asset_id": asset_id,
                "kind": "training",
                "logs": [],
                **running,
            }
        )

    def report(self, step: str, done: float, message: str) -> None:
        check_cancelled(self.ctx, self.company, self.job_id)
        self.logs.append(f"{now_iso()} [{step}] {message}")
        self.progress(step, done, message)
        completed = STEPS.index(step) + (1 if done >= 1.0 else 0)
        if completed != self.completed or done == 0.0:
            self.completed = completed
            current = STEPS[min(completed, len(STEPS) - 1)]
            self.ctx.store.update_job(
                self.job_id, {"progress": progress_of(current, completed), "logs": self.logs}
            )

    def finish(self, result: dict[str, Any]) -> None:
        self.ctx.store.update_job(
            self.job_id,
            {
                "status": "completed",
                "result": result,
                "logs": self.logs,
                "completed_at": now_iso(),
                "progress": progress_of(STEPS[-1], len(STEPS)),
            },
        )

    def fail(self, exc: Exception) -> None:
        message = exc.message if isinstance(exc, EngineError) else f"{type(exc).__name__}: {exc}"
        status = "cancelled" if isinstance(exc, JobCancelledError) else "failed"
        self.logs.append(f"{now_iso()} [{status}] {message}")
        self.ctx.store.update_job(
            self.job_id,
            {"status": status, "error": message, "logs": self.logs, "completed_at": now_iso()},
        )


def _changes(outcome: TrainingOutcome, table: str) -> list[str]:
    changes = [f"Trained {outcome.model.algorithm} on {outcome.rows['training']} rows of '{table}'"]
    changes += [c.describe() for c in outcome.coercions]
    if outcome.dropped_target_rows:
        changes.append(f"Dropped {outcome.dropped_target_rows} rows with no target value")
    return changes


def _manifest(
    asset_id: str,
    version: str,
    outcome: TrainingOutcome,
    metrics: dict[str, float],
    changes: list[str],
    table: str,
    frame: pd.DataFrame,
    source_id: str,
) -> dict[str, Any]:
    return {
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
        "training_data": {"table": table, "rows": outcome.rows, "fingerprint": fingerprint(frame)},
        "data_contract": build_contract(
            frame, outcome.model.encoder, table, source_id, target=outcome.model.target
        ),
        "libraries": library_versions(),
        "created_at": now_iso(),
        "changes": changes,
    }


def _meets(config: Configuration, metrics: dict[str, Any], threshold: float) -> bool:
    """Classifiers need a holdout ROC AUC of at least the threshold; forecasts a backtest MASE
    of at most it (1.0 is the seasonal-naive forecast's own error)."""
    if config.is_time_series:
        mase = metrics.get("mase")
        return mase is not None and float(mase) <= threshold
    return float(metrics["auc_roc"]) >= threshold


def _judged(config: Configuration, metrics: dict[str, Any], threshold: float | None) -> str:
    if threshold is None:
        return ""
    if config.is_time_series:
        mase = metrics.get("mase")
        shown = "unmeasured" if mase is None else f"{float(mase):.4f}"
        sign = "≤" if _meets(config, metrics, threshold) else ">"
        return f"backtest mase {shown} {sign} threshold {threshold}"
    sign = "≥" if _meets(config, metrics, threshold) else "<"
    return f"auc_roc {float(metrics['auc_roc']):.4f} {sign} threshold {threshold}"


def _deployment_message(version: str, deployed: bool, meets: bool, judged: str) -> str:
    if deployed:
        return f"version {version} active"
    if not meets:
        return f"version {version} stored, not activated: {judged}"
    return f"version {version} stored, not activated"


@dataclass
class _Built:
    version: str
    algorithm: str
    metrics: dict[str, Any]
    changes: list[str]
    manifest: dict[str, Any]
    write_payload: Callable[[Path], None]
    result_fields: dict[str, Any]


def _next_version(ctx: Context, company: str, row: dict[str, Any], asset_id: str) -> str:
    return semver.next_model_version(
        row["version"],
        [v["version"] for v in ctx.store.list_versions(company, asset_id)]
        + ctx.artifacts.versions(asset_id),
    )


def _build_classifier(
    ctx: Context,
    company: str,
    plan: TrainingPlan,
    frame: pd.DataFrame,
    table: str,
    job: _JobRecorder,
) -> _Built:
    row, spec, config = plan.row, plan.spec, plan.config
    asset_id: str = row["asset_id"]
    check_training_frame(frame, table, config, spec.validation_rules)
    outcome = train_classifier(frame, config, _features(config, frame), job.report)
    version = _next_version(ctx, company, row, asset_id)
    metrics = {**outcome.metrics, "training_seconds": round(time.perf_counter() - job.clock, 3)}
    changes = _changes(outcome, table)
    source_id = spec.data_sources[0].source_id
    manifest = _manifest(asset_id, version, outcome, metrics, changes, table, frame, source_id)
    report = render_classification_report(
        ClassificationReportData(
            asset_id=asset_id,
            version=version,
            algorithm=outcome.model.algorithm,
            created_at=manifest["created_at"],
            target=outcome.model.target,
            y_holdout=outcome.holdout["y"],
            p_holdout=outcome.holdout["p"],
            metrics=metrics,
            cv_scores=outcome.cv_scores,
            global_importance=outcome.global_importance,
            rows=outcome.rows,
            interval_method=manifest["interval_method"],
            changes=changes,
        )
    )

    def write_payload(directory: Path) -> None:
        outcome.model.write_payload(directory)
        (directory / REPORT_FILE).write_text(report)

    return _Built(
        version,
        outcome.model.algorithm,
        metrics,
        changes,
        manifest,
        write_payload,
        {
            "cv_scores": outcome.cv_scores,
            "global_importance": outcome.global_importance,
            "interval_method": manifest["interval_method"],
        },
    )


def _build_forecast(
    ctx: Context,
    company: str,
    plan: TrainingPlan,
    frame: pd.DataFrame,
    table: str,
    job: _JobRecorder,
) -> _Built:
    row, spec, config = plan.row, plan.spec, plan.config
    asset_id: str = row["asset_id"]
    check_training_frame(
        frame,
        table,
        config,
        spec.validation_rules,
        per_series=True,
        also=unset_columns(config),
    )
    version = _next_version(ctx, company, row, asset_id)
    built = train_forecast(frame, table, spec, config, asset_id, version, job.report)
    metrics = {**built.metrics, "training_seconds": round(time.perf_counter() - job.clock, 3)}
    report = render_forecast_report(dataclasses.replace(built.report, changes=built.changes))
    manifest = {
        "asset_id": asset_id,
        "version": version,
        "algorithm": built.algorithm,
        "metrics": metrics,
        **built.manifest_fields,
        "libraries": library_versions(),
        "created_at": now_iso(),
        "changes": built.changes,
    }
    manifest["training_data"]["fingerprint"] = fingerprint(frame)

    def write_payload(directory: Path) -> None:
        built.write_payload(directory)
        (directory / REPORT_FILE).write_text(report)

    return _Built(
        version,
        built.algorithm,
        metrics,
        built.changes,
        manifest,
        write_payload,
        built.result_fields,
    )
