"""Data sources: connect (with a real connection test), list, test, and open for reading."""

from __future__ import annotations

import re
import time
from typing import Any, Literal

from pydantic import Field

from engine.clock import now_iso
from engine.connectors import CONNECTORS, open_connector
from engine.domain.asset_config import Strict
from engine.domain.parsing import parse
from engine.errors import ConfigurationError, EngineError, ValidationError
from engine.ports import Connector
from engine.service.context import Context


class ConnectRequest(Strict):
    name: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1)
    connection_config: dict[str, Any]
    access_level: Literal["read_only"] = "read_only"
    validation_query: str | None = None
    source_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_\-]{0,127}$")


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:100] or "source"


def open_source(ctx: Context, company: str, source_id: str) -> Connector:
    row = ctx.store.get_source(company, source_id)
    return open_connector(row["type"], row["connection_config"])


def connect(ctx: Context, company: str, body: dict[str, Any]) -> dict[str, Any]:
    request = parse(ConnectRequest, body, "data source")
    if request.type not in CONNECTORS:
        raise ValidationError.for_field("type", CONNECTORS.unknown_message(request.type))
    source_id = request.source_id or _free_id(ctx, company, slug(request.name))
    test = _connection_test(request.type, request.connection_config, request.validation_query)
    created = now_iso()
    ctx.store.add_source(
        {
            "company": company,
            "source_id": source_id,
            "name": request.name,
            "type": request.type,
            "connection_config": request.connection_config,
            "access_level": request.access_level,
            "status": "connected" if test["status"] == "passed" else "failed",
            "tables": test.pop("tables"),
            "connection_test": test,
            "last_validated": created,
            "created_at": created,
        }
    )
    return describe(ctx, company, source_id, include_test=True)


def _free_id(ctx: Context, company: str, base: str) -> str:
    taken = {r["source_id"] for r in ctx.store.list_sources(company)}
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    return candidate


def _connection_test(
    source_type: str, config: dict[str, Any], validation_query: str | None
) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        connector = open_connector(source_type, config)
        try:
            tables = connector.list_tables()
            if validation_query:
                connector.query(validation_query)
        finally:
            connector.close()
    except ValidationError:
        raise
    except ConfigurationError:
        raise
    except EngineError as exc:
        return {
            "status": "failed",
            "reason": exc.message,
            "latency_ms": _ms(started),
            "tables": [],
            "tables_discovered": 0,
        }
    return {
        "status": "passed",
        "latency_ms": _ms(started),
        "tables": tables,
        "tables_discovered": len(tables),
    }


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


def describe(
    ctx: Context, company: str, source_id: str, include_test: bool = False
) -> dict[str, Any]:
    row = ctx.store.get_source(company, source_id)
    out: dict[str, Any] = {
        "source_id": row["source_id"],
        "name": row["name"],
        "type": row["type"],
        "status": row["status"],
        "tables": row["tables"],
        "connection_details": {
            "last_validated": row["last_validated"],
            "permissions": row["access_level"],
        },
        "associated_assets": ctx.store.assets_of_source(company, source_id),
        "created_at": row["created_at"],
    }
    if include_test:
        out["connection_test"] = row["connection_test"]
        out["security"] = {
            # DuckDB configs hold file paths, no secrets; warehouse credentials are encrypted
            # at rest by their connectors' issue and reported here truthfully then.
            "encrypted": False,
            "access_level": row["access_level"],
            "read_only_enforcement": "sql parsed and checked before execution",
        }
    return out


def list_sources(
    ctx: Context,
    company: str,
    *,
    type: str | None = None,
    status: str | None = None,
    asset_id: str | None = None,
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    rows = ctx.store.list_sources(company, type=type, status=status)
    if asset_id is not None:
        linked = set(ctx.store.source_ids_of_asset(company, asset_id))
        rows = [r for r in rows if r["source_id"] in linked]
    items = [describe(ctx, company, r["source_id"]) for r in rows]
    meta = {"total": len(items), "connected": sum(1 for r in rows if r["status"] == "connected")}
    meta["disconnected"] = meta["total"] - meta["connected"]
    return items, meta


def cached_connector(ctx: Context, company: str, source_id: str) -> Connector:
    """An open connector kept for the process's lifetime (entity look-ups on the hot path)."""
    key = (company, source_id)
    connector = ctx.connectors.get(key)
    if connector is None:
        connector = ctx.connectors[key] = open_source(ctx, company, source_id)
    return connector
