"""Versions of an asset: the history, and deploying one of them (switching the active pointer)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from engine.clock import new_id, now_iso
from engine.domain import semver
from engine.domain.asset_config import Strict
from engine.domain.parsing import parse
from engine.errors import NotAvailableError, NotFoundError
from engine.service.context import Context


class RollbackThreshold(Strict):
    error_rate: float | None = Field(default=None, ge=0.0, le=1.0)
    response_time: float | None = Field(default=None, gt=0.0)


class DeployRequest(Strict):
    deployment_strategy: Literal["blue_green"] = "blue_green"
    rollback_threshold: RollbackThreshold | None = None
    notification_webhooks: list[str] = Field(default_factory=list)


def activate(ctx: Context, company: str, asset_id: str, version: str) -> dict[str, Any]:
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


def deploy(
    ctx: Context, company: str, asset_id: str, version: str, body: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Blue/green in one process: the target version is loaded, verified and warmed before the
    pointer switches atomically, so requests in flight finish on the version they started with."""
    request = parse(DeployRequest, body, "deployment")
    if request.rollback_threshold is not None or request.notification_webhooks:
        raise NotAvailableError(
            "Watching a deployment against rollback_threshold and notifying webhooks is not "
            "available yet; deploy without them."
        )
    started = now_iso()
    switched = activate(ctx, company, asset_id, version)
    return {
        "deployment_id": new_id("deploy"),
        "asset_id": asset_id,
        "version": version,
        "previous_version": switched["previous_version"],
        "status": "active",
        "strategy": request.deployment_strategy,
        "started_at": started,
        "completed_at": switched["deployed_at"],
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
