"""Batch execution as a job: the records are stored, then scored chunk by chunk in the
background; each chunk's results are committed to a file of their own (written aside and renamed
into place), so a batch resumed after a crash skips the chunks already done."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from pydantic import Field, model_validator

from engine.clock import iso, new_id, now, now_iso
from engine.domain.asset_config import Strict
from engine.domain.parsing import parse
from engine.errors import ConflictError, JobCancelledError, ValidationError
from engine.service import callbacks, contract_check, execution
from engine.service.batch_results import CHUNK_SIZE, chunk_files, chunk_summary, read_results
from engine.service.context import Context
from engine.service.execution_options import ExecuteParameters
from engine.service.jobs import check_cancelled, worker_name
from engine.service.metering import LOCAL_CALLER
from engine.service.table_batches import run_table, table_rows
from engine.service.urls import public_url

MAX_RECORDS = 1_000_000


class BatchRecord(Strict):
    id: str | int | None = None
    customer_id: str | None = None
    input_data: dict[str, Any] = Field(default_factory=dict)


class SourceTable(Strict):
    table: str = Field(min_length=1)


class BatchRequest(Strict):
    """Records in the request (`batch_data`), or a whole table of the asset's source."""

    batch_data: list[BatchRecord] | None = Field(default=None, min_length=1, max_length=MAX_RECORDS)
    source_table: SourceTable | None = None
    parameters: ExecuteParameters = Field(default_factory=ExecuteParameters)
    callback_url: str | None = None

    @model_validator(mode="after")
    def _one_input(self) -> BatchRequest:
        if (self.batch_data is None) == (self.source_table is None):
            raise ValueError("give either batch_data or source_table")
        return self


def batch_dir(ctx: Context, batch_id: str) -> Path:
    return ctx.settings.home / "jobs" / batch_id


def run(
    ctx: Context,
    company: str,
    asset_id: str,
    body: dict[str, Any],
    caller: str = LOCAL_CALLER,
) -> dict[str, Any]:
    """Store the records and queue the batch; answer at once with where to follow it. A batch
    over a source table is first checked against its version's data contract. `caller` is
    whom the usage ledger charges for records sent without a customer_id."""
    request = parse(BatchRequest, body, "batch")
    if request.callback_url:
        callbacks.check_target(request.callback_url, ctx.settings.callback_allowlist)
    version = execution.any_serving(ctx, company, asset_id).version
    contract: dict[str, Any] | None = None
    if request.source_table is not None:
        total = table_rows(ctx, company, asset_id, request.source_table.table)
        contract = _checked_table(ctx, company, asset_id, version, request.source_table.table)
    batch_id, queued = new_id("batch"), now_iso()
    directory = batch_dir(ctx, batch_id)
    (directory / "chunks").mkdir(parents=True)
    if request.batch_data is not None:
        staged = directory / ".input.jsonl"
        with staged.open("w") as handle:
            for record in request.batch_data:
                handle.write(json.dumps(record.model_dump(exclude_none=True), default=str) + "\n")
        os.replace(staged, directory / "input.jsonl")
        total = len(request.batch_data)
    ctx.store.add_job(
        {
            "job_id": batch_id,
            "company": company,
            "asset_id": asset_id,
            "kind": "batch",
            "status": "queued",
            "progress": _progress(total, 0, 0, 0),
            "result": {
                "model_version": version,
                "chunk_size": CHUNK_SIZE,
                "contract_check": contract,
            },
            "logs": [],
            "started_at": queued,
        }
    )
    ctx.store.add_job_run(
        {
            "job_id": batch_id,
            "company": company,
            "worker": worker_name(),
            "request": {
                "parameters": request.parameters.model_dump(exclude_defaults=True),
                "source_table": request.source_table.table if request.source_table else None,
                "caller": caller,
            },
            "callback_urls": [request.callback_url] if request.callback_url else [],
            "heartbeat_at": queued,
        }
    )
    start(ctx, company, asset_id, batch_id)
    return {
        "batch_id": batch_id,
        "asset_id": asset_id,
        "status": "processing",
        "total_records": total,
        "estimated_completion": None,
        "callback_url": request.callback_url,
        "progress_url": public_url(ctx, f"/analytics/batches/{batch_id}/status"),
        "results_url": public_url(ctx, f"/analytics/batches/{batch_id}/results"),
        "contract_check": contract,
    }


def _checked_table(
    ctx: Context, company: str, asset_id: str, version: str, table: str
) -> dict[str, Any]:
    """The table checked against the pinned version's data contract; refused when every row
    would fail (a feature column missing or unreadable), reported otherwise."""
    check = contract_check.check_version(ctx, company, asset_id, version, table=table)
    errors = contract_check.errors_of(check)
    if errors:
        raise ConflictError(
            f"Table '{table}' does not fit version {version} of asset '{asset_id}', so every "
            "row would fail: " + "; ".join(d["message"] for d in errors)
        )
    return check


def _progress(total: int, processed: int, ok: int, failed: int) -> dict[str, Any]:
    return {
        "total_records": total,
        "processed_records": processed,
        "successful_records": ok,
        "failed_records": failed,
        "percentage_complete": round(100 * processed / total, 2) if total else 100,
    }


def start(ctx: Context, company: str, asset_id: str, batch_id: str) -> None:
    def finished(error: BaseException | None) -> None:
        if error is not None:
            ctx.store.update_job(
                batch_id,
                {
                    "status": "failed",
                    "error": f"{type(error).__name__}: {error}",
                    "completed_at": now_iso(),
                },
            )
        run_row = ctx.store.get_job_run(batch_id) or {}
        view = status(ctx, company, batch_id)
        event = f"batch.{'completed' if view['status'] == 'completed' else 'failed'}"
        callbacks.deliver_later(
            ctx, company, batch_id, event, view, run_row.get("callback_urls") or []
        )

    ctx.runner.run_batch(process, ctx, company, asset_id, batch_id, done=finished)


def _chunks(path: Path) -> Iterator[list[dict[str, Any]]]:
    with path.open() as handle:
        while lines := list(islice(handle, CHUNK_SIZE)):
            yield [json.loads(line) for line in lines]


def process(ctx: Context, company: str, asset_id: str, batch_id: str) -> None:
    job = ctx.store.get_job(company, batch_id, kind="batch")
    run_row = ctx.store.get_job_run(batch_id) or {}
    parameters = (run_row.get("request") or {}).get("parameters") or {}
    caller = (run_row.get("request") or {}).get("caller") or LOCAL_CALLER
    version = job["result"]["model_version"]
    directory = batch_dir(ctx, batch_id)
    total = job["progress"]["total_records"]
    done_chunks = chunk_files(directory)
    counts = {"processed": 0, "ok": 0, "failed": 0}
    for existing in done_chunks.values():
        summary = chunk_summary(existing)
        counts["processed"] += summary["total"]
        counts["ok"] += summary["successful"]
        counts["failed"] += summary["failed"]
    ctx.store.update_job(
        batch_id,
        {
            "status": "processing",
            "progress": _progress(total, counts["processed"], counts["ok"], counts["failed"]),
        },
    )
    ctx.store.update_job_run(batch_id, {"worker": worker_name(), "heartbeat_at": now_iso()})
    lock = threading.Lock()
    started, resumed_at = time.perf_counter(), counts["processed"]

    def score(index: int, records: list[dict[str, Any]]) -> None:
        check_cancelled(ctx, company, batch_id)
        scored = execution.execute_batch(
            ctx,
            company,
            asset_id,
            records,
            parameters,
            version,
            index * CHUNK_SIZE,
            caller=caller,
            entry_prefix=f"{batch_id}:{index}",
        )
        summary = {
            "total": scored["total_records"],
            "successful": scored["successful_records"],
            "failed": scored["failed_records"],
        }
        staged = directory / "chunks" / f".{index:06d}.json"
        staged.write_text(
            json.dumps({"summary": summary, "results": scored["results"]}, default=str)
        )
        os.replace(staged, directory / "chunks" / f"{index:06d}.json")
        with lock:
            counts["processed"] += summary["total"]
            counts["ok"] += summary["successful"]
            counts["failed"] += summary["failed"]
            progress = _progress(total, counts["processed"], counts["ok"], counts["failed"])
            rate = (counts["processed"] - resumed_at) / max(time.perf_counter() - started, 1e-9)
            progress["estimated_completion"] = iso(
                now() + timedelta(seconds=(total - counts["processed"]) / max(rate, 1e-9))
            )
            ctx.store.update_job(batch_id, {"progress": progress})

    if job["status"] in ("cancelling", "cancelled"):
        ctx.store.update_job(batch_id, {"status": "cancelled", "completed_at": now_iso()})
        return
    table = (run_row.get("request") or {}).get("source_table")
    if table:

        def commit(rows: int, ok: int, failed: int) -> None:
            with lock:
                counts["processed"] += rows
                counts["ok"] += ok
                counts["failed"] += failed
                progress = _progress(total, counts["processed"], counts["ok"], counts["failed"])
                ctx.store.update_job(batch_id, {"progress": progress})

        try:
            run_table(
                ctx,
                company,
                asset_id,
                version,
                table,
                directory,
                done_chunks,
                commit,
                lambda: check_cancelled(ctx, company, batch_id),
                meter=lambda index, rows, ok, ms: execution.meter_rows(
                    ctx,
                    company,
                    execution.serving(ctx, company, asset_id, version),
                    rows,
                    ok,
                    ms,
                    caller,
                    f"{batch_id}:{index}",
                ),
            )
        except JobCancelledError:
            ctx.store.update_job(
                batch_id, {"status": "cancelled", "completed_at": now_iso(), "error": "cancelled"}
            )
            return
        ctx.store.update_job(
            batch_id,
            {
                "status": "completed",
                "completed_at": now_iso(),
                "progress": _progress(total, counts["processed"], counts["ok"], counts["failed"]),
            },
        )
        return
    work = (
        (i, records)
        for i, records in enumerate(_chunks(directory / "input.jsonl"))
        if i not in done_chunks
    )
    try:
        _score_all(
            work, score, parameters.get("parallel_processing", False), ctx.settings.batch_workers
        )
    except JobCancelledError:
        ctx.store.update_job(
            batch_id, {"status": "cancelled", "completed_at": now_iso(), "error": "cancelled"}
        )
        return
    ctx.store.update_job(
        batch_id,
        {
            "status": "completed",
            "progress": _progress(total, counts["processed"], counts["ok"], counts["failed"]),
            "completed_at": now_iso(),
        },
    )


def _score_all(
    work: Iterator[tuple[int, list[dict[str, Any]]]], score: Any, parallel: bool, workers: int
) -> None:
    """Chunks one after another, or spread over threads (`parallel_processing`): the model's
    prediction releases the GIL, so chunks overlap on several cores."""
    if not parallel:
        for index, records in work:
            score(index, records)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(lambda item: score(*item), work))


def status(ctx: Context, company: str, batch_id: str) -> dict[str, Any]:
    row = ctx.store.get_job(company, batch_id, kind="batch")
    progress = dict(row["progress"])
    estimate = progress.pop("estimated_completion", None)
    return {
        "batch_id": batch_id,
        "asset_id": row["asset_id"],
        "status": row["status"],
        "progress": progress,
        "started_at": row["started_at"],
        "completed_at": row["completed_at"],
        "estimated_completion": row["completed_at"] or estimate,
        "error": row["error"],
        "results_url": public_url(ctx, f"/analytics/batches/{batch_id}/results"),
        "callbacks": callbacks.deliveries(ctx, company, batch_id),
        "contract_check": (row["result"] or {}).get("contract_check"),
    }


def results(
    ctx: Context, company: str, batch_id: str, fmt: str = "json"
) -> tuple[bytes | dict[str, Any], str]:
    """The per-record results so far (all of them once completed), as JSON, CSV or Parquet."""
    row = ctx.store.get_job(company, batch_id, kind="batch")
    if fmt not in ("json", "csv", "parquet"):
        raise ValidationError.for_field("format", "must be json, csv or parquet")
    version = (row["result"] or {}).get("model_version")
    return read_results(
        batch_dir(ctx, batch_id), fmt, batch_id, row["asset_id"], version, row["status"]
    )
