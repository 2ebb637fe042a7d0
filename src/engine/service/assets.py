"""Analytics assets: create, list, describe, update (semver + changes), archive or delete."""

from __future__ import annotations

import copy
from typing import Any

from engine.algorithms import ALGORITHMS, CLASSIFICATION, FORECASTING, task_of
from engine.algorithms.base import validate_hyperparameters
from engine.clock import new_id, now_iso
from engine.domain import semver
from engine.domain.asset_changes import describe_changes, needs_retraining
from engine.domain.asset_config import AssetSpec, Configuration
from engine.domain.parsing import parse
from engine.errors import ConflictError, FieldProblem, MissingDependencyError, ValidationError
from engine.service.asset_views import asset_details, asset_summary, endpoint_url
from engine.service.context import Context

STATUSES = ("draft", "published", "archived")
SORTS = ("created_at", "updated_at", "name")


def _check_sources(ctx: Context, company: str, spec: AssetSpec) -> None:
    problems = []
    for i, ref in enumerate(spec.data_sources):
        try:
            source = ctx.store.get_source(company, ref.source_id)
        except LookupError:
            problems.append(
                FieldProblem(
                    f"data_sources[{i}].source_id",
                    f"no data source '{ref.source_id}'; connect it first",
                )
            )
            continue
        for j, table in enumerate(ref.tables):
            if table not in source["tables"]:
                problems.append(
                    FieldProblem(
                        f"data_sources[{i}].tables[{j}]",
                        f"'{table}' is not a table of '{ref.source_id}' ({source['tables']})",
                    )
                )
    training_table = spec.configuration.table
    known = {t for ref in spec.data_sources for t in ref.tables}
    if training_table and known and training_table not in known:
        problems.append(
            FieldProblem(
                "configuration.table",
                f"'{training_table}' is not among the asset's tables {sorted(known)}",
            )
        )
    if problems:
        raise ValidationError(
            "Invalid data sources: " + "; ".join(f"{p.field}: {p.problem}" for p in problems),
            problems,
        )


def _task(name: str) -> str:
    try:
        return task_of(name)
    except MissingDependencyError:
        return "unavailable"


def check_algorithms(config: Configuration) -> None:
    """Unknown algorithms and bad hyperparameters are refused when the asset is defined, not
    minutes later when it trains."""
    if not (config.is_classification or config.is_time_series):
        return
    wanted = FORECASTING if config.is_time_series else CLASSIFICATION
    problems = [
        FieldProblem(f"configuration.algorithms[{i}]", ALGORITHMS.unknown_message(name))
        for i, name in enumerate(config.algorithms)
        if name not in ALGORITHMS
    ]
    problems += [
        FieldProblem(
            f"configuration.algorithms[{i}]",
            f"'{name}' is a {_task(name)} algorithm; a {config.model_type} asset needs "
            f"{wanted} algorithms ({', '.join(n for n in ALGORITHMS if _task(n) == wanted)})",
        )
        for i, name in enumerate(config.algorithms)
        if name in ALGORITHMS and _task(name) != wanted
    ]
    for name in config.hyperparameters:
        if name not in config.algorithms:
            problems.append(
                FieldProblem(
                    f"configuration.hyperparameters.{name}", "not one of the asset's algorithms"
                )
            )
    if problems:
        raise ValidationError(
            "Invalid configuration: " + "; ".join(f"{p.field}: {p.problem}" for p in problems),
            problems,
        )
    for name, params in config.hyperparameters.items():
        try:
            validate_hyperparameters(ALGORITHMS.load(name), name, params)
        except ValidationError as exc:
            details = [FieldProblem(f"configuration.{d.field}", d.problem) for d in exc.details]
            raise ValidationError(exc.message, details) from None


def create(ctx: Context, company: str, body: dict[str, Any]) -> dict[str, Any]:
    spec = parse(AssetSpec, body, "analytics asset")
    check_algorithms(spec.configuration)
    _check_sources(ctx, company, spec)
    asset_id, created = new_id("asset"), now_iso()
    ctx.store.add_asset(
        {
            "asset_id": asset_id,
            "company": company,
            "name": spec.name,
            "status": "draft",
            "category": spec.category,
            "version": "1.0.0",
            "spec": spec.model_dump(mode="json"),
            "active_version": None,
            "created_at": created,
            "updated_at": created,
        },
        [ref.source_id for ref in spec.data_sources],
    )
    sources = []
    for ref in spec.data_sources:
        source = ctx.store.get_source(company, ref.source_id)
        sources.append(
            {
                "source_id": ref.source_id,
                "connection_status": source["status"],
                "last_validated": source["last_validated"],
            }
        )
    return {
        "asset_id": asset_id,
        "name": spec.name,
        "status": "draft",
        "version": "1.0.0",
        "created_at": created,
        "data_sources": sources,
        "endpoint": {
            "url": endpoint_url(ctx, asset_id),
            "methods": ["POST"],
            "authentication": "required",
        },
        "next_steps": _next_steps(spec),
    }


def _next_steps(spec: AssetSpec) -> list[str]:
    algorithms = ", ".join(spec.configuration.algorithms)
    return [
        f"Train the asset (candidates: {algorithms}; best by cross-validated ROC AUC)",
        "Review the trained version's holdout metrics and interval coverage",
        "Deploy the version and publish the asset",
    ]


def list_assets(
    ctx: Context,
    company: str,
    *,
    status: str | None = None,
    category: str | None = None,
    data_source: str | None = None,
    sort: str = "created_at",
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    if status is not None and status not in STATUSES:
        raise ValidationError.for_field("status", f"must be one of {', '.join(STATUSES)}")
    if sort not in SORTS:
        raise ValidationError.for_field("sort", f"must be one of {', '.join(SORTS)}")
    if not 1 <= limit <= 500:
        raise ValidationError.for_field("limit", "must be between 1 and 500")
    if not 0 <= offset <= 1_000_000_000:
        raise ValidationError.for_field("offset", "must be between 0 and 1000000000")
    rows, counts = ctx.store.list_assets(
        company,
        status=status,
        category=category,
        data_source=data_source,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    meta = {"total": counts["total"], **{s: counts.get(s, 0) for s in STATUSES}}
    return [asset_summary(ctx, company, row) for row in rows], meta


def get(ctx: Context, company: str, asset_id: str) -> dict[str, Any]:
    return asset_details(ctx, company, ctx.store.get_asset(company, asset_id))


def update(ctx: Context, company: str, asset_id: str, body: dict[str, Any]) -> dict[str, Any]:
    row = ctx.store.get_asset(company, asset_id)
    patch = dict(body or {})
    notes = patch.pop("version_notes", None)
    status = patch.pop("status", None)
    if status is not None and status not in STATUSES:
        raise ValidationError.for_field("status", f"must be one of {', '.join(STATUSES)}")
    if status == "published" and not row["active_version"]:
        raise ConflictError(
            "An asset can be published only once it has an active (trained) version."
        )
    before = AssetSpec.model_validate(row["spec"])
    merged = _merge(row["spec"], patch)
    after = parse(AssetSpec, merged, "asset update")
    check_algorithms(after.configuration)
    _check_sources(ctx, company, after)
    changes = describe_changes(before, after)
    if status is not None and status != row["status"]:
        changes.append(f"Changed status from {row['status']} to {status}")
    if notes:
        changes.append(f"Notes: {notes}")
    spec_changed = before != after
    version = semver.bump_minor(row["version"]) if spec_changed else row["version"]
    updated = now_iso()
    values: dict[str, Any] = {
        "spec": after.model_dump(mode="json"),
        "name": after.name,
        "category": after.category,
        "version": version,
        "updated_at": updated,
    }
    if status is not None:
        values["status"] = status
    source_ids = [ref.source_id for ref in after.data_sources]
    ctx.store.update_asset(company, asset_id, values, source_ids)
    retrain = needs_retraining(before, after)
    return {
        "asset_id": asset_id,
        "name": after.name,
        "version": version,
        "updated_at": updated,
        "changes": changes,
        "requires_retraining": retrain,
        "estimated_retraining_time": _last_training_time(ctx, company, asset_id)
        if retrain
        else None,
    }


def _merge(base: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    configuration = dict(patch.get("configuration") or {})
    extra = configuration.pop("additional_features", None)
    if extra is not None:
        if not isinstance(extra, list):
            raise ValidationError.for_field(
                "configuration.additional_features", "must be a list of column names"
            )
        configuration["features"] = list(
            dict.fromkeys([*merged["configuration"]["features"], *extra])
        )
    for key, value in patch.items():
        if key == "configuration":
            merged["configuration"] = {**merged["configuration"], **configuration}
        elif key in ("pricing", "validation_rules") and isinstance(value, dict):
            section = {**merged[key], **value}
            if key == "pricing" and isinstance(value.get("free_tier"), dict):
                section["free_tier"] = {**merged[key]["free_tier"], **value["free_tier"]}
            merged[key] = section
        else:
            merged[key] = value
    return merged


def _last_training_time(ctx: Context, company: str, asset_id: str) -> str | None:
    versions = ctx.store.list_versions(company, asset_id)
    for version in versions:
        seconds = (version["metrics"] or {}).get("training_seconds")
        if seconds is not None:
            minutes = max(1, round(float(seconds) / 60))
            return f"{minutes}_minutes"
    return None


def delete(ctx: Context, company: str, asset_id: str, permanent: bool = False) -> None:
    ctx.store.get_asset(company, asset_id)
    if permanent:
        ctx.store.delete_asset(company, asset_id)
        ctx.artifacts.delete_asset(asset_id)
        ctx.models.evict_asset(asset_id)
    else:
        ctx.store.update_asset(company, asset_id, {"status": "archived", "updated_at": now_iso()})
