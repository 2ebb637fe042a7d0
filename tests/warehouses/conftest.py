"""Warehouse emulators on random loopback ports, started once per test session: bqemulator for
BigQuery and fakesnow for Snowflake, spoken to by the real client libraries over the wire."""

from tests.warehouses.bigquery_fixtures import *  # noqa: F403
from tests.warehouses.snowflake_fixtures import *  # noqa: F403
