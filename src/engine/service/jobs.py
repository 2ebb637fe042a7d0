"""Jobs as the contract shows them: training jobs and batches, with progress and results."""

from __future__ import annotations

import os
import socket
from datetime import datetime
from typing import Any

from engine.clock import now_iso
from engine.errors import ConflictError, JobCancelledError
from engine.service.context import Context
from engine.service.urls import public_url
from engine.training.progress import STEPS


def worker_name() -> str:
    """host:pid of the process running a job, so that a restart can tell orphans apart."""
    return f"{socket.gethostname()}:{os.getpid()}"


def worker_alive(worker: str) -> bool:
    """Whether the process named by `worker_name()` is still running (on another host: assumed)."""
    host, _, pid = worker.rpartition(":")
    if host != socket.gethostname():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, ValueError):
        return True
    return True


def progress_of(step: str, steps_completed: int) -> dict[str, Any]:
    return {
        "current_step": step,
        "steps_completed": steps_completed,
        "steps_total": len(STEPS),
        "percentage_complete": round(100 * steps_completed / len(STEPS)),
    }


def duration_words(started_at: str, completed_at: str | None) -> str | None:
    if completed_at is None:
        return None
    seconds = (parse_time(completed_at) - parse_time(started_at)).total_seconds()
    return (
        f"{round(seconds / 60)}_minutes" if seconds >= 120 else f"{max(1, round(seconds))}_seconds"
    )


def parse_time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


_FORECAST_RESULTS = ("scores_by_algorithm", "series", "backtest", "errors_by_horizon")
"""What a forecasting job reports besides the common fields: every algorithm's backtest scores,
each series' chosen model and errors by horizon."""


def training_job(ctx: Context, company: str, job_id: str) -> dict[str, Any]:
    row = ctx.store.get_job(company, job_id, kind="training")
    view: dict[str, Any] = {
        "training_job_id": row["job_id"],
        "asset_id": row["asset_id"],
        "status": row["status"],
        "progress": row["progress"],
        "started_at": row["started_at"],
        "completed_at": row["completed_at"],
        "logs_url": public_url(ctx, f"/analytics/training-jobs/{job_id}/logs"),
    }
    result = row["result"] or {}
    if row["status"] == "completed":
        view["results"] = {
            "model_performance": result.get("model_performance", {}),
            "deployment_status": result.get("deployment_status"),
            "model_version": result.get("model_version"),
            "algorithm": result.get("algorithm"),
            "cv_scores": result.get("cv_scores", {}),
            "report_url": public_url(
                ctx,
                f"/analytics/assets/{row['asset_id']}/versions/{result.get('model_version')}/report",
            ),
        }
        view["results"].update({k: result[k] for k in _FORECAST_RESULTS if k in result})
    if row["error"]:
        view["error"] = row["error"]
    return view


def training_logs(ctx: Context, company: str, job_id: str) -> dict[str, Any]:
    row = ctx.store.get_job(company, job_id, kind="training")
    return {"training_job_id": job_id, "status": row["status"], "logs": row["logs"]}


def cancel(ctx: Context, company: str, job_id: str) -> dict[str, Any]:
    """Stop a job: a queued one at once, a running one at its next step or chunk."""
    row = ctx.store.get_job(company, job_id)
    if row["status"] in ("completed", "failed", "cancelled"):
        raise ConflictError(f"Job '{job_id}' has already ended ({row['status']}).")
    if row["status"] == "queued":
        ctx.store.update_job(
            job_id,
            {
                "status": "cancelled",
                "completed_at": now_iso(),
                "error": "cancelled before it started",
            },
        )
    else:
        ctx.store.update_job(job_id, {"status": "cancelling"})
    return {
        "job_id": job_id,
        "kind": row["kind"],
        "status": ctx.store.get_job(company, job_id)["status"],
    }


def check_cancelled(ctx: Context, company: str, job_id: str) -> None:
    if ctx.store.get_job(company, job_id)["status"] in ("cancelling", "cancelled"):
        raise JobCancelledError(f"Job '{job_id}' was cancelled.")


def list_jobs(ctx: Context, company: str, kind: str | None = None) -> list[dict[str, Any]]:
    return [
        {
            k: r[k]
            for k in (
                "job_id",
                "kind",
                "asset_id",
                "status",
                "progress",
                "started_at",
                "completed_at",
                "error",
            )
        }
        for r in ctx.store.list_jobs(company, kind)
    ]
