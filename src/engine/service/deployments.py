"""Blue/green deployment of a version, with an optional watch and automatic rollback.

A deployment is coordinated by the process that accepted it, in a background thread, as a
sequence of phases recorded in the metadata store (so another process can take over if the
coordinator dies):

1. warming   — the version is loaded and verified here, and every live serving process
               (see `serving_watch`) loads and warms it too and acknowledges;
2. switching — the active pointer is switched in one transaction, and each serving process
               drops its cached pointer and acknowledges; requests already running finish on
               the version they started with, later ones get the new one;
3. watching  — with a `rollback_threshold`, the new version's error rate and mean response time
               are read from the usage ledger for `watch_window_seconds`; when either exceeds
               its threshold the previous version is restored and the deployment ends
               rolled_back, with the measured figures as its reason;
4. done.

Webhooks in `notification_webhooks` receive deployment.started, deployment.active,
deployment.rolled_back and deployment.failed, signed as job callbacks are.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any, Literal

from pydantic import Field

from engine.clock import iso, new_id
from engine.domain.asset_config import Strict
from engine.domain.parsing import parse
from engine.errors import ConflictError, EngineError, FieldProblem, ValidationError
from engine.service import callbacks, contract_check, versions
from engine.service.context import Context
from engine.service.jobs import parse_time, worker_alive, worker_name

POLL_SECONDS = 0.1
LIVENESS_SECONDS = 5.0  # a serving process silent for longer is not waited for
SWITCH_TIMEOUT_SECONDS = 5.0
WATCH_CHECK_SECONDS = 1.0


class RollbackThreshold(Strict):
    error_rate: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Roll back above this share of failed requests."
    )
    response_time: float | None = Field(
        default=None, gt=0.0, description="Roll back above this mean response time (ms)."
    )


class DeployRequest(Strict):
    deployment_strategy: Literal["blue_green"] = "blue_green"
    rollback_threshold: RollbackThreshold | None = None
    notification_webhooks: list[str] = Field(default_factory=list, max_length=10)
    watch_window_seconds: float = Field(default=300.0, gt=0.0, le=7 * 86400)
    min_requests: int = Field(
        default=20, ge=1, description="Requests to the new version before the watch judges it."
    )
    warm_timeout_seconds: float = Field(default=30.0, gt=0.0, le=600.0)
    ignore_contract_errors: bool = Field(
        default=False,
        description="Deploy even when the source's tables no longer match the version's data contract.",
    )


def deploy(
    ctx: Context,
    company: str,
    asset_id: str,
    version: str,
    body: dict[str, Any] | None = None,
    actor: str = "local",
) -> dict[str, Any]:
    """Accept a deployment: checks run now (the version exists, its artifact verifies, no other
    deployment of the asset is under way), the rest runs in the background; the view returned
    says `deploying`."""
    request = parse(DeployRequest, body, "deployment")
    asset = ctx.store.get_asset(company, asset_id)
    ctx.store.get_version(company, asset_id, version)
    for i, url in enumerate(request.notification_webhooks):
        callbacks.check_target(url, ctx.settings.callback_allowlist, f"notification_webhooks[{i}]")
    if asset["active_version"] == version:
        raise ConflictError(f"Version {version} of '{asset_id}' is already active.")
    if request.rollback_threshold is not None and asset["active_version"] is None:
        raise ValidationError.for_field(
            "rollback_threshold",
            "there is no active version to roll back to; deploy without a threshold first",
        )
    busy = [
        d
        for d in ctx.store.deployments.unfinished()
        if d["asset_id"] == asset_id and d["phase"] in ("warming", "switching")
    ]
    if busy:
        raise ConflictError(
            f"Deployment {busy[0]['deployment_id']} of '{asset_id}' is still under way."
        )
    ctx.models.get(asset_id, version)  # a damaged artifact fails the request, not the pointer
    contract = _contract_check(ctx, company, asset_id, version, request.ignore_contract_errors)
    deployment_id = new_id("deploy")
    row = {
        "deployment_id": deployment_id,
        "company": company,
        "asset_id": asset_id,
        "version": version,
        "previous_version": asset["active_version"],
        "strategy": request.deployment_strategy,
        "status": "deploying",
        "phase": "warming",
        "requested_by": actor,
        "rollback_threshold": None
        if request.rollback_threshold is None
        else request.rollback_threshold.model_dump(),
        "watch_seconds": request.watch_window_seconds,
        "min_requests": request.min_requests,
        "notification_webhooks": request.notification_webhooks,
        "coordinator": worker_name(),
        "started_at": ctx.now_iso(),
        "contract_check": contract,
    }
    ctx.store.deployments.add(row)
    _notify(ctx, deployment_id, "deployment.started")
    threading.Thread(
        target=coordinate,
        args=(ctx, company, deployment_id, request.warm_timeout_seconds),
        name=f"deploy-{deployment_id}",
        daemon=True,
    ).start()
    return view(ctx, company, deployment_id)


def _contract_check(
    ctx: Context, company: str, asset_id: str, version: str, ignore_errors: bool
) -> dict[str, Any]:
    """The version's data contract against the source as it is now. Differences that would
    fail every prediction refuse the deployment (unless told to ignore them); a source that
    cannot be reached is reported, not fatal, since scoring sent records needs no source."""
    try:
        check = contract_check.check_version(ctx, company, asset_id, version)
    except EngineError as exc:
        return {"compatible": None, "error": exc.message}
    errors = contract_check.errors_of(check)
    if errors and not ignore_errors:
        raise ConflictError(
            f"Version {version} does not match its source any more: "
            + "; ".join(e["message"] for e in errors)
            + ". Fix the source, retrain, or deploy with ignore_contract_errors.",
            [FieldProblem(f"contract.{e['column'] or 'table'}", e["kind"]) for e in errors],
        )
    return check


def wait(
    ctx: Context, company: str, deployment_id: str, until_done: bool = False, timeout: float = 600
) -> dict[str, Any]:
    """Block until the deployment is no longer deploying (or, with `until_done`, until its watch
    has ended too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = ctx.store.deployments.get(company, deployment_id)
        if row["phase"] == "done" or (not until_done and row["status"] != "deploying"):
            break
        time.sleep(POLL_SECONDS)
    return view(ctx, company, deployment_id)


def coordinate(ctx: Context, company: str, deployment_id: str, warm_timeout: float = 30.0) -> None:
    """Drive a deployment from whatever phase it is in to the end (resumable)."""
    try:
        row = ctx.store.deployments.get(company, deployment_id)
        if row["phase"] == "warming":
            if not _await_warm(ctx, row, warm_timeout):
                return
            _switch(ctx, row)
            row = ctx.store.deployments.get(company, deployment_id)
        if row["phase"] == "switching":
            _await_switched(ctx, row)
            row = ctx.store.deployments.get(company, deployment_id)
        if row["phase"] == "watching":
            _watch(ctx, row)
    except Exception as exc:  # the thread's last word: never leave a deployment hanging
        _fail(ctx, deployment_id, f"the deployment stopped: {exc}", phase=None)


def _live_processes(ctx: Context) -> set[str]:
    since = iso(ctx.clock() - timedelta(seconds=LIVENESS_SECONDS))
    return set(ctx.store.deployments.live_processes(since))


def _await_warm(ctx: Context, row: dict[str, Any], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while True:
        acks = ctx.store.deployments.acks(row["deployment_id"], "warm")
        errors = {worker: error for worker, error in acks.items() if error}
        if errors:
            worker, error = next(iter(errors.items()))
            _fail(ctx, row["deployment_id"], f"serving process {worker} could not load it: {error}")
            return False
        waiting = _live_processes(ctx) - set(acks)
        if not waiting:
            return True
        if time.monotonic() > deadline:
            _fail(
                ctx,
                row["deployment_id"],
                f"serving processes {sorted(waiting)} did not warm version {row['version']} "
                f"within {timeout:g} s",
            )
            return False
        time.sleep(POLL_SECONDS)


def _switch(ctx: Context, row: dict[str, Any]) -> None:
    switched = versions.activate(
        ctx,
        row["company"],
        row["asset_id"],
        row["version"],
        actor=row["requested_by"],
        reason=f"blue/green deployment {row['deployment_id']}",
        deployment_id=row["deployment_id"],
    )
    ctx.store.deployments.update(
        row["deployment_id"],
        {
            "phase": "switching",
            "previous_version": switched["previous_version"],
            "switched_at": switched["deployed_at"],
        },
        phase="warming",
    )


def _await_switched(ctx: Context, row: dict[str, Any]) -> None:
    """Wait until every live serving process has dropped its cached pointer. A process that
    does not answer still switches within its pointer cache's lifetime (one second)."""
    deadline = time.monotonic() + SWITCH_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if not _live_processes(ctx) - set(
            ctx.store.deployments.acks(row["deployment_id"], "switched")
        ):
            break
        time.sleep(POLL_SECONDS)
    watching = row["rollback_threshold"] is not None
    now = ctx.clock()
    ctx.store.deployments.update(
        row["deployment_id"],
        {
            "status": "active",
            "phase": "watching" if watching else "done",
            "watch_until": iso(now + timedelta(seconds=row["watch_seconds"])) if watching else None,
            "completed_at": None if watching else iso(now),
        },
        phase="switching",
    )
    _notify(ctx, row["deployment_id"], "deployment.active")


def _watch(ctx: Context, row: dict[str, Any]) -> None:
    company, deployment_id = row["company"], row["deployment_id"]
    threshold = row["rollback_threshold"] or {}
    while True:
        row = ctx.store.deployments.get(company, deployment_id)
        if row["phase"] != "watching":
            return  # ended elsewhere (a manual rollback)
        ctx.executions.flush()
        figures = ctx.store.ledger.window(
            company, row["asset_id"], row["version"], row["switched_at"]
        )
        breach = _breach(figures, threshold, row["min_requests"])
        measured = _measurements(figures)
        if breach is not None:
            _roll_back(ctx, row, breach, measured)
            return
        if ctx.now_iso() >= row["watch_until"]:
            if ctx.store.deployments.update(
                deployment_id,
                {"phase": "done", "measurements": measured, "completed_at": ctx.now_iso()},
                phase="watching",
            ):
                _notify(ctx, deployment_id, "deployment.watch_completed")
            return
        ctx.store.deployments.update(deployment_id, {"measurements": measured}, phase="watching")
        time.sleep(WATCH_CHECK_SECONDS)


def _measurements(figures: dict[str, Any]) -> dict[str, Any]:
    requests = figures["requests"]
    return {
        "requests": requests,
        "server_errors": figures["server_errors"],
        "error_rate": None if requests == 0 else round(figures["server_errors"] / requests, 6),
        "avg_response_time": None
        if figures["avg_latency_ms"] is None
        else round(figures["avg_latency_ms"], 3),
    }


def _breach(figures: dict[str, Any], threshold: dict[str, Any], min_requests: int) -> str | None:
    """The reason to roll back, in measured figures, or None."""
    requests = figures["requests"]
    if requests < min_requests:
        return None
    limit = threshold.get("error_rate")
    if limit is not None and figures["server_errors"] / requests > limit:
        return (
            f"error_rate {figures['server_errors'] / requests:.4f} "
            f"({figures['server_errors']} of {requests} requests failed) "
            f"exceeded the threshold {limit}"
        )
    limit = threshold.get("response_time")
    latency = figures["avg_latency_ms"]
    if (
        limit is not None
        and latency is not None
        and figures["executions"] >= min_requests
        and latency > limit
    ):
        return (
            f"mean response_time {latency:.1f} ms over {figures['executions']} executions "
            f"exceeded the threshold {limit} ms"
        )
    return None


def _roll_back(ctx: Context, row: dict[str, Any], breach: str, measured: dict[str, Any]) -> None:
    if not ctx.store.deployments.update(
        row["deployment_id"], {"phase": "rolling_back"}, phase="watching"
    ):
        return
    versions.activate(
        ctx,
        row["company"],
        row["asset_id"],
        row["previous_version"],
        actor="automatic rollback",
        reason=f"rollback of {row['version']}: {breach}",
        deployment_id=row["deployment_id"],
        previous_status="failed",
    )
    ctx.store.deployments.update(
        row["deployment_id"],
        {
            "status": "rolled_back",
            "phase": "done",
            "reason": breach,
            "measurements": measured,
            "completed_at": ctx.now_iso(),
        },
    )
    _notify(ctx, row["deployment_id"], "deployment.rolled_back")


def end_watch_by_rollback(
    ctx: Context, company: str, asset_id: str, version: str, actor: str, reason: str
) -> None:
    """A manual rollback away from a version whose deployment is still watched ends it."""
    found = ctx.store.deployments.latest_watching(company, asset_id, version)
    if found is None:
        return
    if ctx.store.deployments.update(
        found["deployment_id"],
        {
            "status": "rolled_back",
            "phase": "done",
            "reason": f"rolled back by {actor}: {reason}",
            "completed_at": ctx.now_iso(),
        },
        phase=found["phase"],
    ):
        _notify(ctx, found["deployment_id"], "deployment.rolled_back")


def _fail(ctx: Context, deployment_id: str, reason: str, phase: str | None = "warming") -> None:
    if ctx.store.deployments.update(
        deployment_id,
        {"status": "failed", "phase": "done", "reason": reason, "completed_at": ctx.now_iso()},
        phase=phase,
    ):
        _notify(ctx, deployment_id, "deployment.failed")


def _notify(ctx: Context, deployment_id: str, event: str) -> None:
    row = ctx.store.deployments.get_any(deployment_id)
    if row["notification_webhooks"]:
        callbacks.deliver_later(
            ctx,
            row["company"],
            deployment_id,
            event,
            {"event": event, "deployment": view(ctx, row["company"], deployment_id)},
            row["notification_webhooks"],
        )


def view(ctx: Context, company: str, deployment_id: str) -> dict[str, Any]:
    return _view_of(ctx, ctx.store.deployments.get(company, deployment_id))


def _view_of(ctx: Context, row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "deployment_id": row["deployment_id"],
        "asset_id": row["asset_id"],
        "version": row["version"],
        "previous_version": row["previous_version"],
        "status": row["status"],
        "strategy": row["strategy"],
        "started_at": row["started_at"],
        "switched_at": row["switched_at"],
        "completed_at": row["completed_at"],
        "requested_by": row["requested_by"],
    }
    if row["status"] == "deploying":
        out["estimated_completion"] = _estimated_completion(ctx, row)
    if row["rollback_threshold"] is not None:
        out["watch"] = {
            "rollback_threshold": row["rollback_threshold"],
            "window_seconds": row["watch_seconds"],
            "min_requests": row["min_requests"],
            "until": row["watch_until"],
            "watching": row["phase"] == "watching",
            "measurements": row["measurements"],
        }
    if row["reason"]:
        out["reason"] = row["reason"]
    if row["contract_check"] is not None:
        out["contract_check"] = row["contract_check"]
    return out


def _estimated_completion(ctx: Context, row: dict[str, Any]) -> str:
    """From the last deployments of the asset (warm and switch took that long), else a second."""
    past = [
        d
        for d in ctx.store.deployments.for_asset(row["company"], row["asset_id"], limit=5)
        if d["switched_at"] and d["deployment_id"] != row["deployment_id"]
    ]
    seconds = 1.0
    if past:
        seconds = max(
            (parse_time(d["switched_at"]) - parse_time(d["started_at"])).total_seconds()
            for d in past
        )
    return iso(parse_time(row["started_at"]) + timedelta(seconds=seconds + 0.5))


def list_deployments(ctx: Context, company: str, asset_id: str) -> list[dict[str, Any]]:
    ctx.store.get_asset(company, asset_id)
    return [_view_of(ctx, row) for row in ctx.store.deployments.for_asset(company, asset_id)]


def resume_orphans(ctx: Context) -> list[str]:
    """Take over deployments whose coordinating process died (same host), from their phase."""
    taken = []
    me = worker_name()
    for row in ctx.store.deployments.unfinished():
        if row["coordinator"] == me or worker_alive(row["coordinator"]):
            continue
        if ctx.store.deployments.claim(row["deployment_id"], row["coordinator"], me):
            taken.append(row["deployment_id"])
            threading.Thread(
                target=coordinate,
                args=(ctx, row["company"], row["deployment_id"]),
                name=f"deploy-{row['deployment_id']}",
                daemon=True,
            ).start()
    return taken
