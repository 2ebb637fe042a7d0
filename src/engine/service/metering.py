"""Metering: what each execution is recorded as in the usage ledger, and what the ledger says.

Every execution — single, or each consumer's records in a batch — becomes one ledger row with its
caller, consumer, outcome, latency and the asset's pricing as it stood at that moment; charges are
assigned when the rows are written (see `LedgerStore.add`). The figures shown on assets and
versions are computed here from those rows and nothing else.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any, Protocol

from engine.clock import iso, new_id
from engine.domain.asset_config import Pricing
from engine.domain.pricing import from_micros, to_micros
from engine.errors import (
    ConflictError,
    DataValidationError,
    EngineError,
    NotFoundError,
    UnsafeQueryError,
    ValidationError,
)
from engine.service.context import Context
from engine.service.jobs import parse_time

LOCAL_CALLER = "local"  # in-process calls through the Python API
RECENT_DAYS = 30
_CLIENT_ERRORS = (
    ValidationError,
    DataValidationError,
    NotFoundError,
    ConflictError,
    UnsafeQueryError,
)


@dataclass(frozen=True)
class PriceSnapshot:
    unit_price_micros: int
    currency: str
    free_limit: int
    free_period: str

    @classmethod
    def of(cls, pricing: Pricing) -> PriceSnapshot:
        return cls(
            to_micros(pricing.price),
            pricing.currency,
            pricing.free_tier.requests,
            pricing.free_tier.period,
        )


def outcome_of(error: BaseException) -> tuple[str, str]:
    """(outcome, error code): the caller's fault, or the engine's (which counts against uptime
    and against a freshly deployed version)."""
    if isinstance(error, _CLIENT_ERRORS):
        return "client_error", error.code
    if isinstance(error, EngineError):
        return "server_error", error.code
    return "server_error", type(error).__name__


def entry(
    ctx: Context,
    *,
    company: str,
    asset_id: str,
    version: str | None,
    caller: str,
    consumer: Any,
    kind: str,
    outcome: str,
    latency_ms: float,
    requests: int,
    succeeded: int,
    price: PriceSnapshot,
    error_code: str | None = None,
    entry_id: str | None = None,
) -> dict[str, Any]:
    """One ledger row as the ledger's writer expects it."""
    return {
        "entry_id": entry_id or new_id("exec"),
        "company": company,
        "asset_id": asset_id,
        "version": version,
        "caller": caller,
        "consumer": caller if consumer is None else str(consumer)[:200],
        "kind": kind,
        "outcome": outcome,
        "error_code": error_code,
        "latency_ms": latency_ms,
        "requests": requests,
        "succeeded": succeeded,
        "unit_price_micros": price.unit_price_micros,
        "currency": price.currency,
        "free_limit": price.free_limit,
        "free_period": price.free_period,
        "created_at": ctx.now_iso(),
    }


class Served(Protocol):
    """What the ledger needs of a serving state, classifier or forecast."""

    asset_id: str
    version: str
    price: PriceSnapshot


def record_execution(
    ctx: Context,
    company: str,
    serve: Served,
    caller: str,
    consumer: Any,
    latency_ms: float,
    *,
    outcome: str = "success",
    error_code: str | None = None,
    entry_id: str | None = None,
) -> None:
    """Put one single execution (`POST …/execute`), succeeded or failed, in the ledger."""
    ctx.executions.record(
        entry(
            ctx,
            company=company,
            asset_id=serve.asset_id,
            version=serve.version,
            caller=caller,
            consumer=consumer,
            kind="execute",
            outcome=outcome,
            error_code=error_code,
            latency_ms=latency_ms,
            requests=1,
            succeeded=int(outcome == "success"),
            price=serve.price,
            entry_id=entry_id,
        )
    )


def chunk_entry_id(prefix: str, consumer: str) -> str:
    """A stable id for one consumer's records in one chunk of a batch job, so that a chunk
    scored again after a crash is not charged twice."""
    digest = hashlib.sha256(consumer.encode()).hexdigest()[:16]
    return f"{prefix}:{digest}"


def _instant(value: str | None, field: str) -> str | None:
    """An ISO 8601 date or time as the ledger stamps them (UTC, milliseconds, Z)."""
    if value is None:
        return None
    try:
        moment = parse_time(value)
    except ValueError as exc:
        raise ValidationError.for_field(field, "must be an ISO 8601 date or time") from exc
    return iso(moment if moment.tzinfo else moment.replace(tzinfo=UTC))


def _money(micros: int) -> float:
    return round(from_micros(micros), 6)


def _since(ctx: Context, days: int = RECENT_DAYS) -> str:
    return iso(ctx.clock() - timedelta(days=days))


def asset_figures(ctx: Context, company: str, asset_id: str) -> dict[str, Any]:
    """performance_metrics, usage_statistics and revenue_metrics of an asset, from the ledger.

    Windows are the last 30 days. avg_response_time is the mean latency (ms) of successful
    single executions; uptime_percentage is the share of requests not failed by the engine
    (a caller's invalid input does not count against it); monthly_revenue is what was charged
    over the window; total_customers counts distinct consumers ever."""
    figures = ctx.store.ledger.asset_figures(company, asset_id, _since(ctx))
    recent = figures["recent_requests"]
    consumers = figures["consumers"]
    latency = figures["recent_avg_latency_ms"]
    return {
        "performance": {
            "avg_response_time": None if latency is None else round(latency, 3),
            "requests_last_30d": recent,
            "uptime_percentage": None
            if recent == 0
            else round(100.0 * (recent - figures["recent_server_errors"]) / recent, 3),
        },
        "usage": {
            "total_requests": figures["total_requests"],
            "requests_last_30d": recent,
            "unique_customers": consumers,
            "avg_requests_per_customer": None
            if consumers == 0
            else round(figures["total_requests"] / consumers, 3),
        },
        "revenue": {
            "monthly_revenue": _money(figures["recent_charge_micros"]),
            "total_revenue": _money(figures["total_charge_micros"]),
            "currency": figures["currency"],
            "total_customers": consumers,
        },
    }


def usage_report(
    ctx: Context,
    company: str,
    asset_id: str,
    consumer: str | None = None,
    since: str | None = None,
    until: str | None = None,
) -> dict[str, Any]:
    """Requests and charges per consumer and pricing period, with totals."""
    since, until = _instant(since, "since"), _instant(until, "until")
    asset = ctx.store.get_asset(company, asset_id)
    pricing = Pricing.model_validate(asset["spec"].get("pricing") or {})
    rows = ctx.store.ledger.usage(company, asset_id, consumer, since, until)
    lines = [
        {
            "consumer": r["consumer"],
            "period": r["period"],
            "requests": r["requests"],
            "successful_requests": r["successful_requests"],
            "free_requests": r["free_requests"],
            "billable_requests": r["successful_requests"] - r["free_requests"],
            "charges": _money(r["charge_micros"]),
            "currency": r["currency"],
        }
        for r in rows
    ]
    by_currency: dict[str, int] = {}
    for r in rows:
        by_currency[r["currency"]] = by_currency.get(r["currency"], 0) + r["charge_micros"]
    return {
        "asset_id": asset_id,
        "pricing": pricing.model_dump(mode="json"),
        "usage": lines,
        "totals": {
            "requests": sum(r["requests"] for r in rows),
            "successful_requests": sum(r["successful_requests"] for r in rows),
            "free_requests": sum(r["free_requests"] for r in rows),
            "billable_requests": sum(r["successful_requests"] - r["free_requests"] for r in rows),
            "consumers": len({r["consumer"] for r in rows}),
            "charges": {currency: _money(m) for currency, m in sorted(by_currency.items())},
        },
    }
