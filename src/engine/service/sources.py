"""Data sources: connect (with a real connection test), list, test, and open for reading."""

from __future__ import annotations

import re
import time
from typing import Any, Literal

from pydantic import Field
from sqlglot import exp

from engine.clock import now_iso
from engine.connectors import CONNECTORS, open_connector
from engine.domain.asset_config import AssetSpec, Strict
from engine.domain.parsing import parse
from engine.errors import ConfigurationError, EngineError, UnknownTableError, ValidationError
from engine.ports import Connector
from engine.service import contract_check
from engine.service.context import Context
from engine.service.source_connections import cached_connector as cached_connector
from engine.service.source_connections import check_paths
from engine.service.source_connections import open_source as open_source


class ConnectRequest(Strict):
    name: str = Field(min_length=1, max_length=200)
    type: str = Field(min_length=1)
    connection_config: dict[str, Any]
    access_level: Literal["read_only"] = "read_only"
    validation_query: str | None = None
    source_id: str | None = Field(default=None, pattern=r"^[a-z0-9][a-z0-9_\-]{0,127}$")


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:100] or "source"


def connect(ctx: Context, company: str, body: dict[str, Any]) -> dict[str, Any]:
    request = parse(ConnectRequest, body, "data source")
    if request.type not in CONNECTORS:
        raise ValidationError.for_field("type", CONNECTORS.unknown_message(request.type))
    check_paths(ctx, request.type, request.connection_config)
    source_id = request.source_id or _free_id(ctx, company, slug(request.name))
    test = _connection_test(request.type, request.connection_config, request.validation_query)
    created = now_iso()
    ctx.store.add_source(
        {
            "company": company,
            "source_id": source_id,
            "name": request.name,
            "type": request.type,
            "connection_config": ctx.cipher.seal_config(request.connection_config),
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
    except UnknownTableError as exc:  # safe SQL over a table that is not there: a failed test
        return _failed(exc.message, started)
    except (ValidationError, ConfigurationError):
        raise
    except EngineError as exc:
        return _failed(exc.message, started)
    return {
        "status": "passed",
        "latency_ms": _ms(started),
        "tables": tables,
        "tables_discovered": len(tables),
    }


def _failed(reason: str, started: float) -> dict[str, Any]:
    return {
        "status": "failed",
        "reason": reason,
        "latency_ms": _ms(started),
        "tables": [],
        "tables_discovered": 0,
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
    config = row["connection_config"]
    out["connection_details"].update(
        {k: v for k, v in ctx.cipher.redact_config(config).items() if k in _SHOWN_DETAILS}
    )
    if row["type"] == "bigquery":  # the contract's list item names these at the top level
        out["project_id"] = config.get("project")
        out["dataset"] = config.get("dataset")
        if config.get("location"):
            out["connection_details"]["region"] = config["location"]
    if include_test:
        out["connection_test"] = row["connection_test"]
        sealed = ctx.cipher.sealed_fields(config)
        out["security"] = {
            # The truth about what is stored: credentials sealed with Fernet, or none at all
            # (a DuckDB source over local files has no credentials to encrypt).
            "encrypted": bool(sealed),
            "encrypted_fields": sealed,
            "access_level": row["access_level"],
            "read_only_enforcement": "sql parsed and checked before execution",
        }
    return out


# Connection settings worth showing (never credentials): where the data is.
_SHOWN_DETAILS = frozenset(
    {"project", "dataset", "location", "account", "database", "schema", "warehouse", "role"}
)


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


def test(ctx: Context, company: str, source_id: str) -> dict[str, Any]:
    """Try what an asset will do with the source: connect, discover, read, count, and check the
    tables against the data contracts of the active versions of the assets that read it."""
    ctx.store.get_source(company, source_id)
    started = time.perf_counter()
    checks = SourceChecks()
    try:
        connector = open_source(ctx, company, source_id)
        try:
            tables = checks.attempt("table_discovery", connector.list_tables) or []
            checks.connected = "table_discovery" not in checks.failures
            latency = _ms(started)
            for table in tables:
                checks.attempt("schema_access", lambda t=table: connector.table_schema(t))
            if tables:
                checks.attempt("read_access", lambda: connector.read_table(tables[0], limit=5))
                count = exp.select(exp.Count(this=exp.Star())).from_(
                    exp.table_(tables[0], quoted=True)
                )
                checks.attempt(
                    "row_count", lambda: connector.query(count.sql(dialect=connector.dialect))
                )
            if checks.connected:
                _check_contracts(ctx, company, source_id, connector, checks)
        finally:
            connector.close()
    except EngineError as exc:
        checks.failures["connectivity"] = exc.message
        latency = _ms(started)
    now = now_iso()
    status = "connected" if checks.connected else "failed"
    ctx.store.update_source(company, source_id, {"status": status, "last_validated": now})
    errors = [
        f"asset {c['asset_id']}: {d['message']}"
        for c in checks.contracts
        for d in contract_check.errors_of(c)
    ]
    return {
        "source_id": source_id,
        "test_results": {
            "connectivity": {
                "status": "passed" if checks.connected else "failed",
                "latency_ms": latency,
                "timestamp": now,
            },
            "permissions": {
                "read_access": checks.passed("read_access"),
                "table_discovery": checks.passed("table_discovery"),
                "schema_access": checks.passed("schema_access"),
            },
            "data_validation": {
                "sample_query_success": checks.passed("read_access"),
                "row_count_available": checks.passed("row_count"),
                "schema_consistency": not errors,
                "contract_checks": checks.contracts,
            },
        },
        "problems": {
            **checks.failures,
            **({"schema_consistency": "; ".join(errors)} if errors else {}),
        },
        "recommendations": _recommendations(checks, latency),
    }


class SourceChecks:
    def __init__(self) -> None:
        self.connected = False
        self.failures: dict[str, str] = {}
        self.contracts: list[dict[str, Any]] = []
        self.tried: set[str] = set()

    def attempt(self, name: str, call: Any) -> Any:
        self.tried.add(name)
        try:
            return call()
        except EngineError as exc:
            self.failures.setdefault(name, exc.message)
            return None

    def passed(self, name: str) -> bool:
        return self.connected and name in self.tried and name not in self.failures


def _check_contracts(
    ctx: Context, company: str, source_id: str, connector: Connector, checks: SourceChecks
) -> None:
    """The contract check of the active version of every asset that reads this source."""
    for asset_id in ctx.store.assets_of_source(company, source_id):
        asset = ctx.store.get_asset(company, asset_id)
        reads = AssetSpec.model_validate(asset["spec"]).data_sources[0].source_id == source_id
        if not asset["active_version"] or not reads:
            continue
        try:
            checks.contracts.append(
                contract_check.check_with_connector(
                    ctx, company, asset_id, asset["active_version"], source_id, connector
                )
            )
        except EngineError as exc:
            checks.failures.setdefault("contract_check", f"asset {asset_id}: {exc.message}")


def _recommendations(checks: SourceChecks, latency_ms: float) -> list[str]:
    out = []
    if not checks.connected:
        out.append(
            f"Fix the connection: {checks.failures.get('connectivity') or checks.failures.get('table_discovery')}"
        )
        return out
    for name, problem in checks.failures.items():
        out.append(f"{name.replace('_', ' ').capitalize()} failed: {problem}")
    for check in checks.contracts:
        out.extend(contract_check.advice(check))
    if latency_ms > 1000:
        out.append(
            f"Connecting took {latency_ms:.0f} ms; expect slow training loads and entity look-ups"
        )
    if not out:
        out.append(
            "All checks passed: the source is reachable, readable and consistent with its assets"
        )
    return out
