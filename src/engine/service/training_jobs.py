"""Training as an asynchronous job: validated and queued in the request, run by the job runner,
followed through the metadata store, announced to the asset's webhooks when it ends."""

from __future__ import annotations

from datetime import timedelta
from statistics import median
from typing import Any

from engine.clock import iso, new_id, now, now_iso
from engine.service import callbacks
from engine.service.context import Context
from engine.service.jobs import parse_time, progress_of, training_job, worker_name
from engine.service.training import plan_training
from engine.service.training_worker import run_training_job
from engine.training.progress import STEPS


def submit(
    ctx: Context, company: str, asset_id: str, body: dict[str, Any] | None
) -> dict[str, Any]:
    """Check everything that can be checked now (so mistakes answer at once), then queue."""
    spec = plan_training(ctx, company, asset_id, body).spec
    for i, url in enumerate(spec.webhooks):
        callbacks.check_target(url, ctx.settings.callback_allowlist, f"webhooks[{i}]")
    job_id, queued = new_id("job"), now_iso()
    ctx.store.add_job(
        {
            "job_id": job_id,
            "company": company,
            "asset_id": asset_id,
            "kind": "training",
            "status": "queued",
            "progress": progress_of(STEPS[0], 0),
            "logs": [],
            "started_at": queued,
        }
    )
    ctx.store.add_job_run(
        {
            "job_id": job_id,
            "company": company,
            "worker": worker_name(),
            "request": body,
            "callback_urls": list(spec.webhooks),
            "heartbeat_at": queued,
        }
    )
    start(ctx, company, asset_id, job_id, body)
    return view(ctx, company, job_id)


def start(
    ctx: Context, company: str, asset_id: str, job_id: str, body: dict[str, Any] | None
) -> None:
    def finished(error: BaseException | None) -> None:
        job = ctx.store.get_job(company, job_id)
        if job["status"] in ("queued", "running"):  # the worker died before it could say so
            reason = f"the training worker stopped before finishing ({type(error).__name__ if error else 'no result'})"
            ctx.store.update_job(
                job_id, {"status": "failed", "error": reason, "completed_at": now_iso()}
            )
        announce(ctx, company, job_id)

    ctx.runner.run_training(
        run_training_job, ctx.settings, company, asset_id, job_id, body, done=finished
    )


def announce(ctx: Context, company: str, job_id: str) -> None:
    run = ctx.store.get_job_run(job_id)
    job = view(ctx, company, job_id)
    event = f"training.{'completed' if job['status'] == 'completed' else 'failed'}"
    callbacks.deliver_later(
        ctx, company, job_id, event, job, (run or {}).get("callback_urls") or []
    )


def view(ctx: Context, company: str, job_id: str) -> dict[str, Any]:
    job = training_job(ctx, company, job_id)
    job["estimated_completion"] = estimated_completion(ctx, company, job)
    job["callbacks"] = callbacks.deliveries(ctx, company, job_id)
    return job


def estimated_completion(ctx: Context, company: str, job: dict[str, Any]) -> str | None:
    """From this asset's past training durations, or else from the pace of the steps so far."""
    if job["completed_at"]:
        return str(job["completed_at"])
    started = parse_time(job["started_at"])
    past = [
        (parse_time(r["completed_at"]) - parse_time(r["started_at"])).total_seconds()
        for r in ctx.store.training_durations(company, job["asset_id"])
        if r["completed_at"]
    ]
    if past:
        return iso(started + timedelta(seconds=median(past)))
    done = job["progress"].get("steps_completed") or 0
    if done == 0:
        return None
    elapsed = (now() - started).total_seconds()
    return iso(started + timedelta(seconds=elapsed * len(STEPS) / done))
