"""The BigQuery connector against bqemulator, spoken to by the real client libraries."""

from __future__ import annotations

import datetime as dt
import logging
import socket
import sys
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from engine import Engine
from engine.connectors import open_connector
from engine.connectors.bigquery import BigQueryConnector
from engine.errors import (
    ConnectorError,
    MissingDependencyError,
    NotFoundError,
    UnsafeQueryError,
    ValidationError,
)
from engine.ports import Between
from tests.conftest import SMALL_FEATURES, asset_body
from tests.warehouses.bigquery_fixtures import BigQueryEmulator, bigquery_config

# The client library's own notices about a future pandas-gbq dependency, not ours to act on.
pytestmark = [
    pytest.mark.filterwarnings("ignore:.*pandas.gbq:PendingDeprecationWarning"),
    pytest.mark.filterwarnings("ignore:.*pandas.gbq:FutureWarning"),
]

Load = Callable[[str, pd.DataFrame], None]

PEOPLE = pd.DataFrame(
    {
        "id": ["a", "b", "c", "d", "x' OR '1'='1"],
        "n": [1, 2, 3, 4, 5],
        "score": [0.5, None, 2.5, 3.5, 4.5],
        "active": [True, False, True, False, True],
        "seen": pd.to_datetime(
            ["2024-01-01", "2024-01-02", "2024-01-03", "2024-01-04", "2024-01-05"], utc=True
        ),
        "day": [dt.date(2024, 1, d) for d in range(1, 6)],
    }
)


@pytest.fixture
def people(
    bigquery_source_config: dict[str, Any], load_bigquery_frame: Load
) -> Iterator[BigQueryConnector]:
    load_bigquery_frame("people", PEOPLE)
    connector = BigQueryConnector(bigquery_source_config)
    yield connector
    connector.close()


def _ids(table: pa.Table) -> list[str]:
    return sorted(table.column("id").to_pylist())


def test_tables_and_schemas_come_from_the_api(
    people: BigQueryConnector, load_bigquery_frame: Load
) -> None:
    load_bigquery_frame("other", PEOPLE[["id"]])
    assert people.list_tables() == ["other", "people"]
    schema = people.table_schema("people")
    assert schema.names == ["id", "n", "score", "active", "seen", "day"]
    assert schema.types == [
        pa.string(),
        pa.int64(),
        pa.float64(),
        pa.bool_(),
        pa.timestamp("us", tz="UTC"),
        pa.date32(),
    ]
    assert people.read_table("people").schema.remove_metadata().types == schema.types


def test_read_table_filters_are_bound_and_typed_by_column(people: BigQueryConnector) -> None:
    assert people.read_table("people").num_rows == 5
    assert _ids(people.read_table("people", where={"id": "b"})) == ["b"]
    assert _ids(people.read_table("people", where={"n": [1, 3]})) == ["a", "c"]
    assert _ids(people.read_table("people", where={"n": Between(4, None)})) == ["d", "x' OR '1'='1"]
    assert _ids(people.read_table("people", where={"score": Between(None, 1.0)})) == ["a"]
    assert _ids(people.read_table("people", where={"active": False})) == ["b", "d"]
    assert _ids(people.read_table("people", where={"score": None})) == ["b"]
    # A value of another type is sent as the column's type: "2" for INT64, a str for DATE.
    assert _ids(people.read_table("people", where={"n": "2"})) == ["b"]
    assert _ids(
        people.read_table("people", where={"day": Between("2024-01-02", dt.date(2024, 1, 3))})
    ) == ["b", "c"]
    assert _ids(
        people.read_table("people", where={"seen": Between(dt.datetime(2024, 1, 4), None)})
    ) == ["d", "x' OR '1'='1"]


def test_read_table_columns_and_limit(people: BigQueryConnector) -> None:
    picked = people.read_table("people", columns=["n", "id"], limit=2)
    assert picked.column_names == ["n", "id"]
    assert picked.num_rows == 2
    assert people.read_table("people", columns=["ID"]).column_names == ["id"]
    assert people.read_table("people", limit=0).num_rows == 0
    filtered = people.read_table("people", ["id"], where={"n": Between(2, None)}, limit=1)
    assert filtered.num_rows == 1
    with pytest.raises(ConnectorError, match="no column 'nope'"):
        people.read_table("people", columns=["nope"])
    with pytest.raises(ValidationError):
        people.read_table("people", limit=-1)


def test_a_quoted_value_is_data_not_sql(people: BigQueryConnector) -> None:
    assert _ids(people.read_table("people", where={"id": "x' OR '1'='1"})) == ["x' OR '1'='1"]
    assert people.read_table("people", where={"id": "a' OR '1'='1"}).num_rows == 0
    assert people.query("SELECT id FROM people WHERE id = ?", ["a' OR '1'='1"]).num_rows == 0


def test_query_runs_a_checked_select_with_positional_parameters(
    people: BigQueryConnector, bigquery_dataset: str
) -> None:
    counted = people.query("SELECT COUNT(*) AS rows FROM people WHERE n > ?", [2])
    assert counted.column("rows").to_pylist() == [3]
    joined = people.query(
        "WITH big AS (SELECT id FROM people WHERE n >= ?) SELECT COUNT(*) AS k FROM big", [4]
    )
    assert joined.column("k").to_pylist() == [2]
    qualified = people.query(f"SELECT COUNT(*) AS k FROM `{bigquery_dataset}.people`")
    assert qualified.column("k").to_pylist() == [5]


@pytest.mark.xfail(
    reason="bqemulator 1.3 does not bind array parameters (`IN UNNEST(?)`)", strict=True
)
def test_query_binds_a_list_as_an_array_parameter(people: BigQueryConnector) -> None:
    assert _ids(people.query("SELECT id FROM people WHERE n IN UNNEST(?)", [[1, 3]])) == ["a", "c"]


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE people",
        "DELETE FROM people WHERE TRUE",
        "INSERT INTO people (id) VALUES ('z')",
        "UPDATE people SET n = 0 WHERE TRUE",
        "CREATE TABLE copy AS SELECT * FROM people",
        "SELECT 1; DROP TABLE people",
        "SELECT * FROM {other}.people",
        "SELECT * FROM `test-project.{other}.people`",
        "SELECT * FROM `elsewhere`.{dataset}.people",
        "SELECT * FROM {dataset}.INFORMATION_SCHEMA.TABLES",
    ],
)
def test_query_refuses_anything_but_a_select_of_the_datasets_tables_before_sending_it(
    people: BigQueryConnector, bigquery_client: Any, bigquery_dataset: str, sql: str
) -> None:
    other = f"{bigquery_dataset}_other"
    bigquery_client.create_dataset(other, exists_ok=True)
    bigquery_client.query(f"CREATE TABLE {other}.people AS SELECT 1 AS n").result()
    jobs_before = len(list(bigquery_client.list_jobs()))
    with pytest.raises(UnsafeQueryError):
        people.query(sql.format(other=other, dataset=bigquery_dataset))
    assert len(list(bigquery_client.list_jobs())) == jobs_before
    assert [t.table_id for t in bigquery_client.list_tables(bigquery_dataset)] == ["people"]
    assert bigquery_client.get_table(f"{bigquery_dataset}.people").num_rows == 5
    bigquery_client.delete_dataset(other, delete_contents=True)


def test_max_rows_caps_every_read(
    bigquery_emulator: BigQueryEmulator, bigquery_dataset: str, load_bigquery_frame: Load
) -> None:
    load_bigquery_frame("people", PEOPLE)
    connector = BigQueryConnector(bigquery_config(bigquery_emulator, bigquery_dataset, max_rows=2))
    try:
        assert connector.read_table("people").num_rows == 2
        assert connector.read_table("people", limit=4).num_rows == 2
        assert connector.read_table("people", where={"n": Between(2, None)}).num_rows == 2
        assert connector.query("SELECT id FROM people").num_rows == 2
        assert sum(b.num_rows for b in connector.read_batches("people", ["id"], 1)) == 2
    finally:
        connector.close()


def test_read_batches_streams_bounded_batches_in_column_order(people: BigQueryConnector) -> None:
    batches = list(people.read_batches("people", ["n", "id"], 2))
    assert all(b.num_rows <= 2 for b in batches)
    assert all(b.schema.names == ["n", "id"] for b in batches)
    assert sorted(n for b in batches for n in b.column("n").to_pylist()) == [1, 2, 3, 4, 5]


def _numbers(rows: int) -> pd.DataFrame:
    """More rows than a REST page is used for, so reads open Storage Read sessions."""
    return pd.DataFrame({"n": range(rows), "label": [f"row {i}" for i in range(rows)]})


def test_large_reads_stream_through_the_storage_read_api(
    bigquery_source_config: dict[str, Any],
    load_bigquery_frame: Load,
    caplog: pytest.LogCaptureFixture,
) -> None:
    load_bigquery_frame("numbers", _numbers(3000))
    connector = BigQueryConnector(bigquery_source_config)
    with caplog.at_level(logging.WARNING, logger="engine.connectors.bigquery"):
        try:
            whole = connector.read_table("numbers", columns=["label", "n"])
            assert whole.column_names == ["label", "n"]
            assert sorted(whole.column("n").to_pylist()) == list(range(3000))
            filtered = connector.read_table("numbers", where={"n": Between(1000, None)})
            assert filtered.num_rows == 2000
            batches = list(connector.read_batches("numbers", ["n"], 700))
            assert max(b.num_rows for b in batches) <= 700
            assert sum(b.num_rows for b in batches) == 3000
            assert connector.read_table("numbers", limit=2500).num_rows == 2500
        finally:
            connector.close()
    assert not [r for r in caplog.records if "Storage Read API" in r.getMessage()]


def test_without_the_storage_api_reads_fall_back_to_rest_and_say_so_once(
    bigquery_emulator: BigQueryEmulator,
    bigquery_dataset: str,
    load_bigquery_frame: Load,
    caplog: pytest.LogCaptureFixture,
) -> None:
    load_bigquery_frame("numbers", _numbers(1500))
    config = bigquery_config(bigquery_emulator, bigquery_dataset)
    del config["storage_api_endpoint"]
    connector = BigQueryConnector(config)
    with caplog.at_level(logging.WARNING, logger="engine.connectors.bigquery"):
        try:
            assert connector.read_table("numbers").num_rows == 1500
            assert sum(b.num_rows for b in connector.read_batches("numbers")) == 1500
            assert connector.read_table("numbers", where={"n": Between(1, None)}).num_rows == 1499
        finally:
            connector.close()
    told = [r.getMessage() for r in caplog.records if "Storage Read API" in r.getMessage()]
    assert len(told) == 1
    assert "REST" in told[0]
    assert "storage_api_endpoint" in told[0]


def test_a_query_bigquery_refuses_is_a_connector_error_in_its_words(
    people: BigQueryConnector,
) -> None:
    with pytest.raises(ConnectorError, match="BigQuery refused the query: No matching signature"):
        people.query("SELECT id FROM people WHERE n = 'abc'")


def test_a_call_that_overruns_the_timeout_is_a_connector_error(
    bigquery_emulator: BigQueryEmulator, bigquery_dataset: str
) -> None:
    config = bigquery_config(bigquery_emulator, bigquery_dataset, query_timeout_seconds=0.001)
    connector = BigQueryConnector(config)
    address = bigquery_emulator.rest_url.removeprefix("http://")
    try:
        with pytest.raises(ConnectorError, match=f"no answer from BigQuery at {address} within"):
            connector.query("SELECT 1 AS k")
    finally:
        connector.close()


def test_a_missing_table_is_not_found(people: BigQueryConnector) -> None:
    with pytest.raises(NotFoundError, match="table 'nope' does not exist in dataset"):
        people.read_table("nope")
    with pytest.raises(NotFoundError):
        people.table_schema("nope")


def test_an_asset_trains_and_executes_from_a_bigquery_table(
    engine: Engine,
    bigquery_source_config: dict[str, Any],
    bigquery_client: Any,
    bigquery_dataset: str,
    load_bigquery_frame: Load,
    telco_frame: pd.DataFrame,
) -> None:
    frame = telco_frame.iloc[:1200][["customerID", *SMALL_FEATURES, "Churn"]]
    load_bigquery_frame("customers", frame)
    source = engine.connect_source(
        "acme",
        {
            "name": "warehouse",
            "type": "bigquery",
            "connection_config": bigquery_source_config,
            "validation_query": "SELECT 1",
        },
    )
    assert source["status"] == "connected", source["connection_test"]
    assert source["tables"] == ["customers"]
    asset = engine.create_asset("acme", asset_body(source["source_id"]))
    engine.train("acme", asset["asset_id"])
    assert engine.get_asset("acme", asset["asset_id"])["performance_metrics"]["auc_roc"] > 0.6
    row = frame.iloc[7]
    flat = {name: row[name] for name in SMALL_FEATURES}
    by_features = engine.execute("acme", asset["asset_id"], {"input_data": flat})
    by_key = engine.execute(
        "acme", asset["asset_id"], {"input_data": {"customer_id": row["customerID"]}}
    )
    assert by_key["customer_id"] == row["customerID"]
    assert by_key["results"] == by_features["results"]
    assert 0.0 <= by_key["results"]["churn_probability"] <= 1.0

    tested = engine.test_source("acme", source["source_id"])
    assert tested["test_results"]["connectivity"]["status"] == "passed"
    assert tested["test_results"]["data_validation"]["row_count_available"]
    assert tested["problems"] == {}

    bigquery_client.delete_table(f"{bigquery_dataset}.customers")
    tested = engine.test_source("acme", source["source_id"])
    assert "customers" in tested["problems"]["schema_consistency"]
    with pytest.raises(NotFoundError, match="customers"):
        engine.execute("acme", asset["asset_id"], {"input_data": {"customer_id": "c1"}})


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _connect(engine: Engine, config: dict[str, Any]) -> dict[str, Any]:
    body = {"name": "warehouse", "type": "bigquery", "connection_config": config}
    return engine.connect_source("acme", body)


def test_connect_and_test_report_an_unreachable_endpoint(
    engine: Engine, bigquery_emulator: BigQueryEmulator, bigquery_dataset: str
) -> None:
    port = _free_port()
    config = {**bigquery_config(bigquery_emulator, bigquery_dataset)}
    config["api_endpoint"] = f"http://127.0.0.1:{port}"
    source = _connect(engine, config)
    assert source["status"] == "failed"
    reason = f"could not reach 127.0.0.1:{port} — connection refused"
    assert source["connection_test"]["reason"] == reason
    tested = engine.test_source("acme", source["source_id"])
    assert tested["test_results"]["connectivity"]["status"] == "failed"
    assert reason in tested["recommendations"][0]


def test_connect_and_test_report_a_missing_dataset(
    engine: Engine, bigquery_emulator: BigQueryEmulator
) -> None:
    source = _connect(engine, bigquery_config(bigquery_emulator, "no_such_dataset"))
    assert source["status"] == "failed"
    reason = "dataset 'no_such_dataset' not found in project 'test-project'"
    assert source["connection_test"]["reason"] == reason
    tested = engine.test_source("acme", source["source_id"])
    assert tested["test_results"]["connectivity"]["status"] == "failed"
    assert reason in tested["recommendations"][0]


def test_connect_fails_clearly_on_a_validation_query_over_a_missing_table(
    engine: Engine, bigquery_source_config: dict[str, Any]
) -> None:
    body = {
        "name": "warehouse",
        "type": "bigquery",
        "connection_config": bigquery_source_config,
        "validation_query": "SELECT * FROM customers",
    }
    # Safe SQL over a table the dataset does not have: the source is recorded as failed with
    # the reason (nothing was sent to BigQuery for it).
    source = engine.connect_source("acme", body)
    assert source["status"] == "failed"
    assert "'customers' is not one of this source's tables" in source["connection_test"]["reason"]


def test_a_missing_driver_names_the_extra(
    monkeypatch: pytest.MonkeyPatch, engine: Engine, bigquery_source_config: dict[str, Any]
) -> None:
    monkeypatch.setitem(sys.modules, "google.cloud.bigquery", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'engine\[bigquery\]'"):
        open_connector("bigquery", bigquery_source_config)
    with pytest.raises(MissingDependencyError, match=r"engine\[bigquery\]"):
        _connect(engine, bigquery_source_config)


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"dataset": "d"}, "connection_config.project"),
        ({"project": "p"}, "connection_config.dataset"),
        ({"project": "p", "dataset": "d", "max_rows": 0}, "connection_config.max_rows"),
        (
            {"project": "p", "dataset": "d", "api_endpoint": "localhost"},
            "connection_config.api_endpoint",
        ),
        (
            {"project": "p", "dataset": "d", "credentials_json": "{not json"},
            "connection_config.credentials_json",
        ),
    ],
)
def test_a_bad_config_names_its_field(config: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        BigQueryConnector(config)
    assert [d.field for d in caught.value.details] == [field]


def test_a_broken_key_is_refused_without_quoting_it() -> None:
    secret = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ"
    key = {
        "type": "service_account",
        "client_email": "reader@p.iam.gserviceaccount.com",
        "private_key": f"-----BEGIN PRIVATE KEY-----\n{secret}\n-----END PRIVATE KEY-----\n",
        "token_uri": "https://oauth2.example.invalid/token",
    }
    with pytest.raises(ValidationError) as caught:
        BigQueryConnector({"project": "p", "dataset": "d", "credentials_json": key})
    assert caught.value.details[0].field == "connection_config.credentials_json"
    assert secret not in str(caught.value)
