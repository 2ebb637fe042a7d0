"""Batch execution as a recorded job: status with progress counts, and the per-record results."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from engine.clock import new_id, now_iso
from engine.domain.asset_config import Strict
from engine.domain.parsing import parse
from engine.errors import NotAvailableError
from engine.service import execution
from engine.service.context import Context
from engine.service.execution_options import ExecuteParameters
from engine.service.urls import public_url

MAX_RECORDS = 100_000


class BatchRecord(Strict):
    id: str | int | None = None
    customer_id: str | None = None
    input_data: dict[str, Any] = Field(default_factory=dict)


class BatchRequest(Strict):
    batch_data: list[BatchRecord] = Field(min_length=1, max_length=MAX_RECORDS)
    parameters: ExecuteParameters = Field(default_factory=ExecuteParameters)
    callback_url: str | None = None


def run(ctx: Context, company: str, asset_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """Score the batch now (vectorized, in this request) and record it as a completed job."""
    request = parse(BatchRequest, body, "batch")
    if request.callback_url:
        raise NotAvailableError(
            "Completion callbacks (callback_url) are not available yet; poll progress_url instead."
        )
    batch_id, started = new_id("batch"), now_iso()
    records = [r.model_dump(exclude_none=True) for r in request.batch_data]
    scored = execution.execute_batch(
        ctx, company, asset_id, records, request.parameters.model_dump(exclude_defaults=True)
    )
    total = scored["total_records"]
    progress = {
        "total_records": total,
        "processed_records": total,
        "successful_records": scored["successful_records"],
        "failed_records": scored["failed_records"],
        "percentage_complete": 100,
    }
    ctx.store.add_job(
        {
            "job_id": batch_id,
            "company": company,
            "asset_id": asset_id,
            "kind": "batch",
            "status": "completed",
            "progress": progress,
            "result": {"model_version": scored["model_version"], "results": scored["results"]},
            "logs": [],
            "started_at": started,
            "completed_at": now_iso(),
        }
    )
    return {
        "batch_id": batch_id,
        "asset_id": asset_id,
        "status": "completed",
        "total_records": total,
        "estimated_completion": now_iso(),
        "callback_url": None,
        "progress_url": public_url(ctx, f"/analytics/batches/{batch_id}/status"),
        "results_url": public_url(ctx, f"/analytics/batches/{batch_id}/results"),
    }


def status(ctx: Context, company: str, batch_id: str) -> dict[str, Any]:
    row = ctx.store.get_job(company, batch_id, kind="batch")
    return {
        "batch_id": batch_id,
        "asset_id": row["asset_id"],
        "status": row["status"],
        "progress": row["progress"],
        "started_at": row["started_at"],
        "completed_at": row["completed_at"],
        "results_url": public_url(ctx, f"/analytics/batches/{batch_id}/results"),
    }


def results(ctx: Context, company: str, batch_id: str) -> dict[str, Any]:
    row = ctx.store.get_job(company, batch_id, kind="batch")
    result = row["result"] or {}
    return {
        "batch_id": batch_id,
        "asset_id": row["asset_id"],
        "model_version": result.get("model_version"),
        "results": result.get("results", []),
    }
