"""Connectors to data sources, by type name. See `engine.ports.Connector`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.ports import Connector
from engine.registry import Registry

CONNECTORS: Registry[Connector] = Registry(
    "data source type",
    "engine.connectors",
    {
        "duckdb": "engine.connectors.duckdb:DuckDBConnector",
        "bigquery": "engine.connectors.bigquery:BigQueryConnector",
        "snowflake": "engine.connectors.snowflake:SnowflakeConnector",
    },
)


def open_connector(source_type: str, connection_config: Mapping[str, Any]) -> Connector:
    factory: Any = CONNECTORS.load(source_type)
    connector: Connector = factory(connection_config)
    return connector


__all__ = ["CONNECTORS", "open_connector"]
