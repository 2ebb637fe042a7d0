"""Tables of the metadata store. Every row carries its company (tenant)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

data_sources = Table(
    "data_sources",
    metadata,
    Column("company", String(128), primary_key=True),
    Column("source_id", String(128), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("type", String(64), nullable=False),
    Column("connection_config", JSON, nullable=False),
    Column("access_level", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("tables", JSON, nullable=False),
    Column("connection_test", JSON),
    Column("last_validated", String(32)),
    Column("created_at", String(32), nullable=False),
)

assets = Table(
    "assets",
    metadata,
    Column("asset_id", String(64), primary_key=True),
    Column("company", String(128), nullable=False, index=True),
    Column("name", String(200), nullable=False),
    Column("status", String(32), nullable=False),
    Column("category", String(64), nullable=False),
    Column("version", String(32), nullable=False),
    Column("spec", JSON, nullable=False),
    Column("active_version", String(32)),
    Column("created_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

asset_sources = Table(
    "asset_sources",
    metadata,
    Column("company", String(128), primary_key=True),
    Column("asset_id", String(64), primary_key=True),
    Column("source_id", String(128), primary_key=True),
)

versions = Table(
    "versions",
    metadata,
    Column("asset_id", String(64), primary_key=True),
    Column("version", String(32), primary_key=True),
    Column("company", String(128), nullable=False),
    Column("status", String(32), nullable=False),
    Column("algorithm", String(64), nullable=False),
    Column("metrics", JSON, nullable=False),
    Column("changes", JSON, nullable=False),
    Column("manifest_sha256", String(64), nullable=False),
    Column("created_at", String(32), nullable=False),
    Column("deployment_date", String(32)),
)

jobs = Table(
    "jobs",
    metadata,
    Column("job_id", String(64), primary_key=True),
    Column("company", String(128), nullable=False, index=True),
    Column("asset_id", String(64), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("progress", JSON, nullable=False),
    Column("result", JSON),
    Column("error", Text),
    Column("logs", JSON, nullable=False),
    Column("started_at", String(32), nullable=False),
    Column("completed_at", String(32)),
)

ledger = Table(
    "ledger",
    metadata,
    Column("entry_id", String(96), primary_key=True),
    Column("company", String(128), nullable=False),
    Column("asset_id", String(64), nullable=False),
    Column("version", String(32)),
    Column("caller", String(64), nullable=False),  # the API key's id, or "local" in-process
    Column("consumer", String(200), nullable=False),  # customer_id when given, else the caller
    Column("kind", String(16), nullable=False),  # execute | batch
    Column(
        "outcome", String(16), nullable=False
    ),  # success | partial | client_error | server_error
    Column("error_code", String(64)),
    Column("latency_ms", Float, nullable=False),
    Column("requests", Integer, nullable=False),
    Column("succeeded", Integer, nullable=False),
    Column("free_requests", Integer, nullable=False),
    Column("unit_price_micros", BigInteger, nullable=False),
    Column("charge_micros", BigInteger, nullable=False),  # exact: millionths of the currency
    Column("currency", String(3), nullable=False),
    Column(
        "period", String(16), nullable=False
    ),  # the free tier's period: 2026, 2026-11, 2026-11-27
    Column("created_at", String(32), nullable=False),
)
Index("ix_ledger_asset_time", ledger.c.asset_id, ledger.c.created_at)
Index("ix_ledger_version", ledger.c.asset_id, ledger.c.version, ledger.c.created_at)

usage_counters = Table(
    "usage_counters",
    metadata,
    Column("company", String(128), primary_key=True),
    Column("asset_id", String(64), primary_key=True),
    Column("consumer", String(200), primary_key=True),
    Column("period", String(16), primary_key=True),
    Column("succeeded", Integer, nullable=False),
)

deployments = Table(
    "deployments",
    metadata,
    Column("deployment_id", String(64), primary_key=True),
    Column("company", String(128), nullable=False),
    Column("asset_id", String(64), nullable=False, index=True),
    Column("version", String(32), nullable=False),
    Column("previous_version", String(32)),
    Column("strategy", String(32), nullable=False),
    Column("status", String(16), nullable=False),  # deploying | active | rolled_back | failed
    Column("phase", String(16), nullable=False),  # warming | switching | watching | done
    Column("requested_by", String(64), nullable=False),
    Column("rollback_threshold", JSON),
    Column("watch_seconds", Float, nullable=False),
    Column("min_requests", Integer, nullable=False),
    Column("notification_webhooks", JSON, nullable=False),
    Column("reason", Text),
    Column("measurements", JSON),
    Column("contract_check", JSON),
    Column("coordinator", String(200), nullable=False),
    Column("started_at", String(32), nullable=False),
    Column("switched_at", String(32)),
    Column("watch_until", String(32)),
    Column("completed_at", String(32)),
)

deployment_acks = Table(
    "deployment_acks",
    metadata,
    Column("deployment_id", String(64), primary_key=True),
    Column("worker", String(200), primary_key=True),
    Column("phase", String(16), primary_key=True),  # warm | switched
    Column("error", Text),
    Column("at", String(32), nullable=False),
)

pointer_changes = Table(
    "pointer_changes",
    metadata,
    Column("change_id", String(64), primary_key=True),
    Column("company", String(128), nullable=False),
    Column("asset_id", String(64), nullable=False, index=True),
    Column("from_version", String(32)),
    Column("to_version", String(32), nullable=False),
    Column("actor", String(200), nullable=False),
    Column("reason", Text, nullable=False),
    Column("deployment_id", String(64)),
    Column("at", String(32), nullable=False),
)

serving_processes = Table(
    "serving_processes",
    metadata,
    Column("worker", String(200), primary_key=True),
    Column("started_at", String(32), nullable=False),
    Column("heartbeat_at", String(32), nullable=False),
)

api_keys = Table(
    "api_keys",
    metadata,
    Column("key_id", String(32), primary_key=True),
    Column("company", String(128), nullable=False, index=True),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),
    Column("name", String(200)),
    Column("created_at", String(32), nullable=False),
    Column("revoked_at", String(32)),
)

job_runs = Table(
    "job_runs",
    metadata,
    Column("job_id", String(64), primary_key=True),
    Column("company", String(128), nullable=False),
    Column("worker", String(200), nullable=False),
    Column("request", JSON),
    Column("callback_urls", JSON, nullable=False),
    Column("heartbeat_at", String(32), nullable=False),
)

deliveries = Table(
    "deliveries",
    metadata,
    Column("delivery_id", String(64), primary_key=True),
    Column("company", String(128), nullable=False),
    Column("job_id", String(64), nullable=False, index=True),
    Column("url", Text, nullable=False),
    Column("event", String(64), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("delivered", Integer, nullable=False),
    Column("at", String(32), nullable=False),
)

company_secrets = Table(
    "company_secrets",
    metadata,
    Column("company", String(128), primary_key=True),
    Column("webhook_secret", Text, nullable=False),  # sealed: "fernet:<token>"
    Column("created_at", String(32), nullable=False),
)
