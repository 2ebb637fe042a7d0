"""Tables of the metadata store. Every row carries its company (tenant)."""

from __future__ import annotations

from sqlalchemy import JSON, Column, Float, Index, Integer, MetaData, String, Table, Text

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

executions = Table(
    "executions",
    metadata,
    Column("execution_id", String(64), primary_key=True),
    Column("company", String(128), nullable=False),
    Column("asset_id", String(64), nullable=False),
    Column("version", String(32)),
    Column("customer_id", String(200)),
    Column("outcome", String(32), nullable=False),
    Column("error_code", String(64)),
    Column("latency_ms", Float, nullable=False),
    Column("records", Integer, nullable=False, default=1),
    Column("created_at", String(32), nullable=False),
)
Index("ix_executions_asset_time", executions.c.asset_id, executions.c.created_at)

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
    Column("webhook_secret", String(128), nullable=False),
    Column("created_at", String(32), nullable=False),
)
