"""Execution: one record, a batch, and the batch's status and results."""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from engine.http.auth import Company, caller_of
from engine.http.models import (
    BatchAccepted,
    BatchResults,
    BatchStatus,
    Envelope,
    ExecuteRequest,
    Execution,
    JobCancelled,
)
from engine.service.batches import BatchRequest

router = APIRouter(tags=["execution"])


def _calls_a_model(payload: dict[str, Any]) -> bool:
    """Lists in the input are a forecast's future regressor values: that forecast asks its
    model (tens of milliseconds for Prophet), which must not hold the event loop."""
    data = payload.get("input_data")
    return isinstance(data, dict) and any(isinstance(v, list) for v in data.values())


@router.post(
    "/analytics/assets/{asset_id}/execute",
    response_model=Envelope[Execution],
    responses={
        200: {
            "headers": {
                "Server-Timing": {
                    "description": "validation, model, explanation (ms)",
                    "schema": {"type": "string"},
                }
            }
        }
    },
)
async def execute(
    request: Request, company: Company, asset_id: str, body: ExecuteRequest
) -> JSONResponse:
    # On the event loop: scoring one record takes about a millisecond of CPU, less than the
    # hand-off to a worker thread adds, and threads would not run it in parallel anyway.
    timings: dict[str, float] = {}
    payload = body.model_dump(exclude_unset=True)
    call = partial(
        request.app.state.engine.execute, company, asset_id, payload, timings, caller_of(request)
    )
    result = await run_in_threadpool(call) if _calls_a_model(payload) else call()
    server_timing = ", ".join(f"{name};dur={ms:.3f}" for name, ms in timings.items())
    # Returned as a response so the hot path skips a second validation of what the engine built.
    return JSONResponse({"data": result}, headers={"Server-Timing": server_timing})


@router.post(
    "/analytics/assets/{asset_id}/batch-execute",
    status_code=202,
    response_model=Envelope[BatchAccepted],
)
def batch_execute(
    request: Request, company: Company, asset_id: str, body: BatchRequest
) -> dict[str, object]:
    return {
        "data": request.app.state.engine.run_batch(
            company, asset_id, body.model_dump(exclude_unset=True), caller_of(request)
        )
    }


@router.get("/analytics/batches/{batch_id}/status", response_model=Envelope[BatchStatus])
def batch_status(request: Request, company: Company, batch_id: str) -> dict[str, object]:
    return {"data": request.app.state.engine.batch_status(company, batch_id)}


@router.get(
    "/analytics/batches/{batch_id}/results",
    response_model=Envelope[BatchResults],
    responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}}},
)
def batch_results(
    request: Request,
    company: Company,
    batch_id: str,
    format: Literal["json", "csv", "parquet"] = "json",
) -> Any:
    content, media_type = request.app.state.engine.batch_results(company, batch_id, format)
    if isinstance(content, bytes):
        name = f"{batch_id}.{format}"
        return Response(
            content,
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return {"data": content}


@router.post("/analytics/batches/{batch_id}/cancel", response_model=Envelope[JobCancelled])
def cancel_batch(request: Request, company: Company, batch_id: str) -> dict[str, object]:
    request.app.state.engine.batch_status(company, batch_id)  # 404 unless it is a batch
    return {"data": request.app.state.engine.cancel_job(company, batch_id)}
