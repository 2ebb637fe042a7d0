"""The engine over a Snowflake source on fakesnow: connecting and testing it (and what they say
when it is out of reach), and an asset trained from one of its tables and executed, its features
looked up by entity key."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest

from engine import Engine
from engine.errors import NotFoundError
from tests.conftest import SMALL_FEATURES, asset_body


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"port": 1}, "could not reach Snowflake at 127.0.0.1:1 — connection refused"),
        ({"schema": "NO_SUCH_SCHEMA"}, "schema 'NO_SUCH_SCHEMA' does not exist"),
        ({"database": "no_such_db"}, "database 'NO_SUCH_DB' does not exist"),
    ],
)
def test_connect_and_test_record_the_failure_with_its_reason(
    engine: Engine, snowflake_source_config: dict[str, Any], overrides: dict[str, Any], reason: str
) -> None:
    config = {**snowflake_source_config, **overrides}
    source = engine.connect_source(
        "acme",
        {
            "name": "wh",
            "type": "snowflake",
            "connection_config": config,
            "validation_query": "SELECT 1",
        },
    )
    assert source["status"] == "failed"
    assert reason in source["connection_test"]["reason"]
    assert config["password"] not in source["connection_test"]["reason"]
    tested = engine.test_source("acme", source["source_id"])
    assert tested["test_results"]["connectivity"]["status"] == "failed"
    # The connector logs in on first use, so the reason lands under table discovery.
    assert reason in tested["problems"]["table_discovery"]
    assert tested["recommendations"] == [
        f"Fix the connection: {tested['problems']['table_discovery']}"
    ]


def test_a_validation_query_over_a_missing_table_records_a_failed_source(
    engine: Engine, snowflake_source_config: dict[str, Any], snowflake_people: str
) -> None:
    # The guard knows the schema's tables, so the query never reaches Snowflake.
    source = engine.connect_source(
        "acme",
        {
            "name": "wh",
            "type": "snowflake",
            "connection_config": snowflake_source_config,
            "validation_query": "SELECT COUNT(*) FROM NO_SUCH_TABLE",
        },
    )
    assert source["status"] == "failed"
    reason = source["connection_test"]["reason"]
    assert "the table 'NO_SUCH_TABLE' is not one of this source's tables" in reason


def test_an_asset_trains_on_a_snowflake_table_and_looks_up_entities(
    engine: Engine, snowflake_source_config: dict[str, Any], snowflake_customers: pd.DataFrame
) -> None:
    source = engine.connect_source(
        "acme",
        {
            "name": "warehouse",
            "type": "snowflake",
            "connection_config": snowflake_source_config,
            # Unquoted in SQL, as Snowflake users write it: the name resolves to CUSTOMERS.
            "validation_query": "SELECT COUNT(*) FROM customers",
        },
    )
    assert source["status"] == "connected", source["connection_test"]
    body = asset_body(source["source_id"])
    # Names given to the engine are exact: the table as listed, the columns (features, entity
    # key) as created, here with quotes so that the Telco names keep their case.
    body["data_sources"][0]["tables"] = ["CUSTOMERS"]
    asset = engine.create_asset("acme", body)
    trained = engine.train("acme", asset["asset_id"])
    assert trained["model_version"] == "1.0.0"

    row = snowflake_customers.iloc[7]
    flat = {name: row[name] for name in SMALL_FEATURES}
    by_record = engine.execute("acme", asset["asset_id"], {"input_data": flat})
    by_key = engine.execute(
        "acme", asset["asset_id"], {"input_data": {"customer_id": row["customerID"]}}
    )
    assert by_key["results"] == by_record["results"]
    assert by_key["customer_id"] == row["customerID"]
    with pytest.raises(NotFoundError):
        engine.execute(
            "acme", asset["asset_id"], {"input_data": {"customer_id": "no-such-customer"}}
        )

    tested = engine.test_source("acme", source["source_id"])
    assert tested["test_results"]["connectivity"]["status"] == "passed"
    assert tested["test_results"]["data_validation"]["schema_consistency"], tested["problems"]


def test_test_source_reports_a_table_that_an_asset_reads_and_that_is_gone(
    engine: Engine,
    snowflake_source_config: dict[str, Any],
    load_snowflake_table: Callable[[str, pd.DataFrame], None],
    snowflake_client: Any,
    snowflake_customers: pd.DataFrame,
) -> None:
    load_snowflake_table("CHURN_GONE", snowflake_customers)
    source = engine.connect_source(
        "acme",
        {"name": "wh", "type": "snowflake", "connection_config": snowflake_source_config},
    )
    body = asset_body(source["source_id"])
    body["data_sources"][0]["tables"] = ["CHURN_GONE"]
    asset = engine.create_asset("acme", body)
    engine.train("acme", asset["asset_id"])
    snowflake_client.cursor().execute('DROP TABLE "CHURN_GONE"')

    tested = engine.test_source("acme", source["source_id"])
    assert tested["test_results"]["connectivity"]["status"] == "passed"
    assert tested["test_results"]["data_validation"]["schema_consistency"] is False
    assert "Table 'CHURN_GONE' is not in the source" in tested["problems"]["schema_consistency"]
