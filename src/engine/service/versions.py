"""Versions of an asset: the history, the active pointer and its changes, and rolling back."""

from __future__ import annotations

from typing import Any

from engine.domain import semver
from engine.errors import ConflictError, NotFoundError
from engine.service.context import Context


def activate(
    ctx: Context,
    company: str,
    asset_id: str,
    version: str,
    *,
    actor: str,
    reason: str,
    deployment_id: str | None = None,
    previous_status: str = "deprecated",
) -> dict[str, Any]:
    """Make `version` the active one: load and verify it first, then switch the pointer and
    record the change (who, when, from which version, why) in the same transaction."""
    ctx.store.get_version(company, asset_id, version)
    ctx.models.get(asset_id, version)  # loads, verifies checksums, warms the cache
    at = ctx.now_iso()
    previous = ctx.store.activate(
        company,
        asset_id,
        version,
        {"at": at, "actor": actor, "reason": reason, "deployment_id": deployment_id},
        previous_status,
    )
    ctx.models.forget_pointer(company, asset_id)
    return {
        "asset_id": asset_id,
        "version": version,
        "previous_version": previous,
        "status": "active",
        "deployed_at": at,
    }


def history(ctx: Context, company: str, asset_id: str) -> list[dict[str, Any]]:
    """Every change of the active pointer, newest first."""
    ctx.store.get_asset(company, asset_id)
    return [
        {
            "from_version": c["from_version"],
            "to_version": c["to_version"],
            "actor": c["actor"],
            "reason": c["reason"],
            "deployment_id": c["deployment_id"],
            "at": c["at"],
        }
        for c in ctx.store.pointer_history(company, asset_id)
    ]


def rollback(
    ctx: Context, company: str, asset_id: str, actor: str, reason: str | None = None
) -> dict[str, Any]:
    """Point the asset back at the version that was active before the current one. A
    deployment of the current version still being watched ends as rolled_back."""
    from engine.service import deployments

    row = ctx.store.get_asset(company, asset_id)
    current = row["active_version"]
    target = _previous_good(ctx, company, asset_id, current)
    if current is None or target is None:
        raise ConflictError(f"Asset '{asset_id}' has no previously active version to roll back to.")
    why = reason or f"rolled back from {current} to {target}"
    switched = activate(ctx, company, asset_id, target, actor=actor, reason=f"rollback: {why}")
    deployments.end_watch_by_rollback(ctx, company, asset_id, current, actor, why)
    return {**switched, "rolled_back_from": current, "reason": why}


def _previous_good(ctx: Context, company: str, asset_id: str, current: str | None) -> str | None:
    """The version active before the current one, passing over versions that failed (an
    automatic rollback's bad version is not where a manual rollback should land)."""
    status = {v["version"]: v["status"] for v in ctx.store.list_versions(company, asset_id)}
    for change in ctx.store.pointer_history(company, asset_id):
        candidate = change["from_version"]
        if candidate and candidate != current and status.get(candidate) != "failed":
            return str(candidate)
    return None


def list_versions(
    ctx: Context, company: str, asset_id: str
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    row = ctx.store.get_asset(company, asset_id)
    served = ctx.store.ledger.version_figures(company, asset_id)
    versions = sorted(
        ctx.store.list_versions(company, asset_id),
        key=lambda v: semver.sort_key(v["version"]),
        reverse=True,
    )
    items = []
    for v in versions:
        figures = served.get(v["version"], {})
        latency = figures.get("avg_latency_ms")
        metrics: dict[str, Any] = {
            k: v["metrics"][k] for k in ("accuracy", "auc_roc", "f1_score") if k in v["metrics"]
        }
        metrics["avg_response_time"] = None if latency is None else round(latency, 3)
        metrics["requests"] = figures.get("requests", 0)
        items.append(
            {
                "version": v["version"],
                "status": v["status"],
                "algorithm": v["algorithm"],
                "created_at": v["created_at"],
                "performance_metrics": metrics,
                "changes": v["changes"],
                "deployment_date": v["deployment_date"],
            }
        )
    return items, {"current_version": row["active_version"], "total_versions": len(items)}


def report(ctx: Context, company: str, asset_id: str, version: str | None = None) -> str:
    """The training report stored with a version (the active one by default), checksum-verified."""
    from engine.service.training import REPORT_FILE

    row = ctx.store.get_asset(company, asset_id)
    version = version or row["active_version"]
    if version is None:
        raise NotFoundError(f"Asset '{asset_id}' has no trained version yet.")
    ctx.store.get_version(company, asset_id, version)
    stored = ctx.artifacts.read(asset_id, version)
    path = stored.directory / REPORT_FILE
    if not path.is_file():
        raise NotFoundError(f"Version {version} of '{asset_id}' was stored without a report.")
    return path.read_text()
