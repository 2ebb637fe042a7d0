"""Training (run now, recorded as a job), its status, logs and report."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from engine.http.auth import Company
from engine.http.models import (
    Envelope,
    JobCancelled,
    TrainingJob,
    TrainingLogs,
    TrainingStarted,
)
from engine.service.jobs import duration_words
from engine.service.training_request import TrainRequest

router = APIRouter(tags=["training and versions"])


@router.post(
    "/analytics/assets/{asset_id}/train", status_code=202, response_model=Envelope[TrainingStarted]
)
def train(
    request: Request, company: Company, asset_id: str, body: TrainRequest | None = None
) -> dict[str, object]:
    engine = request.app.state.engine
    payload = body.model_dump(mode="json", exclude_unset=True) if body is not None else None
    job = engine.submit_training(company, asset_id, payload)
    completion = job["estimated_completion"]
    return {"data": {**job, "estimated_duration": duration_words(job["started_at"], completion)}}


@router.get("/analytics/training-jobs/{job_id}", response_model=Envelope[TrainingJob])
def training_job(request: Request, company: Company, job_id: str) -> dict[str, object]:
    return {"data": request.app.state.engine.training_job(company, job_id)}


@router.get("/analytics/training-jobs/{job_id}/logs", response_model=Envelope[TrainingLogs])
def training_logs(request: Request, company: Company, job_id: str) -> dict[str, object]:
    return {"data": request.app.state.engine.training_logs(company, job_id)}


@router.get(
    "/analytics/assets/{asset_id}/versions/{version}/report",
    response_model=None,
    # Errors keep the JSON error shape; only the report itself is HTML.
    responses={
        200: {"content": {"text/html": {"schema": {"type": "string"}}}, "description": "The report"}
    },
)
def training_report(
    request: Request, company: Company, asset_id: str, version: str
) -> HTMLResponse:
    return HTMLResponse(request.app.state.engine.training_report(company, asset_id, version))


@router.post("/analytics/training-jobs/{job_id}/cancel", response_model=Envelope[JobCancelled])
def cancel_training(request: Request, company: Company, job_id: str) -> dict[str, object]:
    request.app.state.engine.training_job(company, job_id)  # 404 unless it is a training job
    return {"data": request.app.state.engine.cancel_job(company, job_id)}
