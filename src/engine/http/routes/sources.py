"""/analytics/data-sources: list, connect, test."""

from __future__ import annotations

from fastapi import APIRouter, Request

from engine.http.auth import Company
from engine.http.models import DataSource, DataSourceListMeta, Envelope, ListEnvelope, SourceTest
from engine.service.sources import ConnectRequest

router = APIRouter(prefix="/analytics/data-sources", tags=["data sources"])


@router.get("", response_model=ListEnvelope[DataSource, DataSourceListMeta])
def list_sources(
    request: Request,
    company: Company,
    type: str | None = None,
    status: str | None = None,
    asset_id: str | None = None,
) -> dict[str, object]:
    items, meta = request.app.state.engine.list_sources(
        company, type=type, status=status, asset_id=asset_id
    )
    return {"data": items, "meta": meta}


@router.post("", status_code=201, response_model=Envelope[DataSource])
def connect_source(request: Request, company: Company, body: ConnectRequest) -> dict[str, object]:
    return {
        "data": request.app.state.engine.connect_source(
            company, body.model_dump(exclude_unset=True)
        )
    }


@router.post("/{source_id}/test", response_model=Envelope[SourceTest])
def test_source(request: Request, company: Company, source_id: str) -> dict[str, object]:
    return {"data": request.app.state.engine.test_source(company, source_id)}
