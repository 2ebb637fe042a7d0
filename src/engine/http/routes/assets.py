"""/analytics/assets: list, create, details, update, delete."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from engine.domain.asset_config import AssetSpec
from engine.http.auth import Company
from engine.http.models import (
    AssetCreated,
    AssetDetails,
    AssetListMeta,
    AssetPatch,
    AssetSummary,
    AssetUpdated,
    Envelope,
    ListEnvelope,
)

router = APIRouter(prefix="/analytics/assets", tags=["assets"])


@router.get("", response_model=ListEnvelope[AssetSummary, AssetListMeta])
def list_assets(
    request: Request,
    company: Company,
    status: Annotated[Literal["draft", "published", "archived"] | None, Query()] = None,
    category: str | None = None,
    data_source: str | None = None,
    sort: Literal["created_at", "updated_at", "name"] = "created_at",
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000_000)] = 0,
) -> dict[str, object]:
    items, meta = request.app.state.engine.list_assets(
        company,
        status=status,
        category=category,
        data_source=data_source,
        sort=sort,
        limit=limit,
        offset=offset,
    )
    return {"data": items, "meta": meta}


@router.post("", status_code=201, response_model=Envelope[AssetCreated])
def create_asset(request: Request, company: Company, body: AssetSpec) -> dict[str, object]:
    created = request.app.state.engine.create_asset(
        company, body.model_dump(mode="json", exclude_unset=True)
    )
    return {"data": created}


@router.get("/{asset_id}", response_model=Envelope[AssetDetails])
def get_asset(request: Request, company: Company, asset_id: str) -> dict[str, object]:
    return {"data": request.app.state.engine.get_asset(company, asset_id)}


@router.patch("/{asset_id}", response_model=Envelope[AssetUpdated])
def update_asset(
    request: Request, company: Company, asset_id: str, body: AssetPatch
) -> dict[str, object]:
    updated = request.app.state.engine.update_asset(
        company, asset_id, body.model_dump(exclude_unset=True)
    )
    return {"data": {**updated, "requires_retaining": updated["requires_retraining"]}}


@router.delete("/{asset_id}", status_code=204, response_class=Response)
def delete_asset(
    request: Request, company: Company, asset_id: str, permanent: bool = False
) -> Response:
    request.app.state.engine.delete_asset(company, asset_id, permanent)
    return Response(status_code=204)
