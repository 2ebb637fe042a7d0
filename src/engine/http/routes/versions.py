"""Versions and their deployment: history, blue/green deploy, pointer changes, rollback, and the
usage ledger's report of requests and charges."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query, Request

from engine.errors import NotFoundError
from engine.http.auth import Company, caller_of
from engine.http.models import (
    Deployment,
    Envelope,
    ListEnvelope,
    PointerChange,
    RolledBack,
    Total,
    UsageReport,
    VersionItem,
    VersionsMeta,
)
from engine.service.deployments import DeployRequest

router = APIRouter(tags=["versions and usage"])


@router.get(
    "/analytics/assets/{asset_id}/versions", response_model=ListEnvelope[VersionItem, VersionsMeta]
)
def list_versions(request: Request, company: Company, asset_id: str) -> dict[str, object]:
    items, meta = request.app.state.engine.list_versions(company, asset_id)
    return {"data": items, "meta": meta}


@router.post(
    "/analytics/assets/{asset_id}/versions/{version}/deploy",
    status_code=202,
    response_model=Envelope[Deployment],
)
def deploy(
    request: Request,
    company: Company,
    asset_id: str,
    version: str,
    body: DeployRequest | None = None,
) -> dict[str, object]:
    """Accepted at once (status `deploying`); follow it at the deployment's own URL."""
    payload = body.model_dump(exclude_unset=True) if body is not None else None
    return {
        "data": request.app.state.engine.deploy(
            company, asset_id, version, payload, actor=caller_of(request), wait=False
        )
    }


@router.get(
    "/analytics/assets/{asset_id}/deployments", response_model=ListEnvelope[Deployment, Total]
)
def list_deployments(request: Request, company: Company, asset_id: str) -> dict[str, object]:
    items = request.app.state.engine.list_deployments(company, asset_id)
    return {"data": items, "meta": {"total": len(items)}}


@router.get(
    "/analytics/assets/{asset_id}/deployments/{deployment_id}",
    response_model=Envelope[Deployment],
)
def deployment(
    request: Request, company: Company, asset_id: str, deployment_id: str
) -> dict[str, object]:
    found = request.app.state.engine.deployment(company, deployment_id)
    if found["asset_id"] != asset_id:
        raise NotFoundError(f"Asset '{asset_id}' has no deployment '{deployment_id}'.")
    return {"data": found}


@router.get(
    "/analytics/assets/{asset_id}/versions/history",
    response_model=ListEnvelope[PointerChange, Total],
)
def version_history(request: Request, company: Company, asset_id: str) -> dict[str, object]:
    items = request.app.state.engine.version_history(company, asset_id)
    return {"data": items, "meta": {"total": len(items)}}


@router.post("/analytics/assets/{asset_id}/versions/rollback", response_model=Envelope[RolledBack])
def rollback(
    request: Request,
    company: Company,
    asset_id: str,
    reason: Annotated[str | None, Body(embed=True, max_length=500)] = None,
) -> dict[str, object]:
    """Point the asset back at the version that was active before the current one."""
    return {
        "data": request.app.state.engine.rollback(
            company, asset_id, reason, actor=caller_of(request)
        )
    }


@router.get("/analytics/assets/{asset_id}/usage", response_model=Envelope[UsageReport])
def usage(
    request: Request,
    company: Company,
    asset_id: str,
    customer_id: Annotated[str | None, Query(max_length=200)] = None,
    since: Annotated[str | None, Query(max_length=32, description="ISO 8601, inclusive")] = None,
    until: Annotated[str | None, Query(max_length=32, description="ISO 8601, exclusive")] = None,
) -> dict[str, object]:
    """Requests and charges per consumer and pricing period."""
    return {"data": request.app.state.engine.usage(company, asset_id, customer_id, since, until)}
