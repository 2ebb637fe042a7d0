"""After a crash: jobs whose worker process is gone are resumed (batches continue after their
last committed chunk; training jobs that never started are started) or marked failed with the
reason (training interrupted mid-way: its version was never published), never left running."""

from __future__ import annotations

from engine.clock import now_iso
from engine.service import batches, deployments, training_jobs
from engine.service.context import Context
from engine.service.jobs import worker_alive, worker_name


def recover(ctx: Context) -> list[str]:
    """Take over orphaned jobs; return one line per job handled."""
    handled = []
    me = worker_name()
    for job in ctx.store.unfinished_jobs():
        previous = job["worker"]
        if worker_alive(previous) or not ctx.store.claim_job_run(
            job["job_id"], previous, me, now_iso()
        ):
            continue
        company, asset_id, job_id = job["company"], job["asset_id"], job["job_id"]
        if job["status"] == "cancelling":
            ctx.store.update_job(job_id, {"status": "cancelled", "completed_at": now_iso()})
            handled.append(f"{job_id}: cancelled")
        elif job["kind"] == "batch":
            batches.start(ctx, company, asset_id, job_id)
            handled.append(f"{job_id}: batch resumed after its committed chunks")
        elif job["status"] == "queued":
            training_jobs.start(ctx, company, asset_id, job_id, job["request"])
            handled.append(f"{job_id}: queued training started")
        else:
            reason = f"the worker ({previous}) stopped during training; no version was published; train again"
            ctx.store.update_job(
                job_id, {"status": "failed", "error": reason, "completed_at": now_iso()}
            )
            training_jobs.announce(ctx, company, job_id)
            handled.append(f"{job_id}: training marked failed")
    handled += [
        f"{deployment_id}: deployment taken over"
        for deployment_id in deployments.resume_orphans(ctx)
    ]
    return handled
