"""The contract every connector keeps, run on each one: DuckDB over a file, BigQuery on its
emulator, Snowflake on fakesnow — the same table, the same calls, the same answers. Sources are
connected through the engine, so credentials go through sealing at rest on the way."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from engine.api import Engine
from engine.errors import EngineError, UnsafeQueryError
from engine.ports import Between, Connector
from engine.service.source_connections import open_source

TABLE = "contract_items"
FRAME = pd.DataFrame(
    {
        "item_id": [f"i{n:02d}" for n in range(12)],
        "quantity": [n * 3 for n in range(12)],
        "price": [round(1.25 * n, 2) for n in range(12)],
        "active": [n % 3 != 0 for n in range(12)],
        "segment": ["a", "b", "c", "a", "b", "c", "a", "b", "c", "a", "b", "it's"],
        "joined": [dt.date(2024, 1, 1) + dt.timedelta(days=n) for n in range(12)],
    }
)


def _duckdb(tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    path = tmp_path / f"{TABLE}.parquet"
    FRAME.to_parquet(path, index=False)
    return {"type": "duckdb", "connection_config": {"files": {TABLE: str(path)}}}


def _bigquery(tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    load: Callable[[str, pd.DataFrame], None] = request.getfixturevalue("load_bigquery_frame")
    load(TABLE, FRAME)
    config = request.getfixturevalue("bigquery_source_config")
    return {"type": "bigquery", "connection_config": config}


def _snowflake(tmp_path: Path, request: pytest.FixtureRequest) -> dict[str, Any]:
    from snowflake.connector.pandas_tools import write_pandas

    client = request.getfixturevalue("snowflake_client")
    client.cursor().execute(  # declared types, as a warehouse table has them
        f'CREATE OR REPLACE TABLE "{TABLE}" ("item_id" TEXT, "quantity" NUMBER(38,0), '
        '"price" FLOAT, "active" BOOLEAN, "segment" TEXT, "joined" DATE)'
    )
    assert write_pandas(client, FRAME, TABLE, quote_identifiers=True, use_logical_type=True)[0]
    config = request.getfixturevalue("snowflake_source_config")
    return {"type": "snowflake", "connection_config": config}


SOURCES = {"duckdb": _duckdb, "bigquery": _bigquery, "snowflake": _snowflake}


@pytest.fixture(params=sorted(SOURCES))
def connector(
    request: pytest.FixtureRequest, engine: Engine, tmp_path: Path
) -> Iterator[Connector]:
    body = SOURCES[request.param](tmp_path, request)
    source = engine.connect_source(
        "acme", {"name": f"contract {request.param}", "validation_query": "SELECT 1", **body}
    )
    assert source["status"] == "connected", source
    opened = open_source(engine.context, "acme", source["source_id"])
    yield opened
    opened.close()


def _rows(table: pa.Table) -> list[dict[str, Any]]:
    return sorted(table.to_pylist(), key=lambda r: r["item_id"])


def _expected(
    mask: pd.Series | None = None, columns: list[str] | None = None
) -> list[dict[str, Any]]:
    frame = FRAME if mask is None else FRAME[mask]
    records = frame[columns or list(FRAME.columns)].to_dict("records")
    return sorted(records, key=lambda r: r["item_id"])


def test_tables_and_schema(connector: Connector) -> None:
    assert TABLE in connector.list_tables()
    schema = connector.table_schema(TABLE)
    assert schema.names == list(FRAME.columns)
    assert pa.types.is_string(schema.field("item_id").type) or pa.types.is_large_string(
        schema.field("item_id").type
    )
    assert pa.types.is_integer(schema.field("quantity").type) or pa.types.is_decimal(
        schema.field("quantity").type
    )
    assert pa.types.is_floating(schema.field("price").type)
    assert pa.types.is_boolean(schema.field("active").type)
    assert pa.types.is_date(schema.field("joined").type)


def test_reads_every_row_and_value(connector: Connector) -> None:
    got = _rows(connector.read_table(TABLE))
    assert [r["item_id"] for r in got] == sorted(FRAME["item_id"])
    for row, want in zip(got, _expected(), strict=True):
        assert int(row["quantity"]) == want["quantity"]
        assert float(row["price"]) == pytest.approx(want["price"])
        assert row["active"] is want["active"]
        assert row["segment"] == want["segment"]
        assert row["joined"] == want["joined"]


def test_reads_chosen_columns_in_order(connector: Connector) -> None:
    table = connector.read_table(TABLE, ["segment", "item_id"])
    assert table.column_names == ["segment", "item_id"]
    assert table.num_rows == len(FRAME)


def test_filters_are_bound(connector: Connector) -> None:
    equal = connector.read_table(TABLE, ["item_id"], {"segment": "a"})
    assert sorted(equal.column("item_id").to_pylist()) == sorted(
        FRAME.loc[FRAME["segment"] == "a", "item_id"]
    )
    listed = connector.read_table(TABLE, ["item_id"], {"item_id": ["i01", "i05", "nope"]})
    assert sorted(listed.column("item_id").to_pylist()) == ["i01", "i05"]
    ranged = connector.read_table(
        TABLE, ["item_id"], {"quantity": Between(6, 15), "segment": ["a", "b", "c"]}
    )
    assert sorted(ranged.column("item_id").to_pylist()) == ["i02", "i03", "i04", "i05"]
    open_ended = connector.read_table(TABLE, ["item_id"], {"quantity": Between(start=30)})
    assert sorted(open_ended.column("item_id").to_pylist()) == ["i10", "i11"]
    quoted = connector.read_table(TABLE, ["item_id"], {"segment": "it's"})
    assert quoted.column("item_id").to_pylist() == ["i11"]
    injected = connector.read_table(TABLE, ["item_id"], {"segment": "x' OR '1'='1"})
    assert injected.num_rows == 0


def test_limit(connector: Connector) -> None:
    assert connector.read_table(TABLE, limit=5).num_rows == 5


def test_read_only_queries_with_parameters(connector: Connector) -> None:
    result = connector.query(f"SELECT item_id FROM {TABLE} WHERE quantity >= ?", [30])
    assert sorted(result.column(0).to_pylist()) == ["i10", "i11"]
    for statement in (
        f"DELETE FROM {TABLE}",
        f"DROP TABLE {TABLE}",
        f"SELECT 1; DELETE FROM {TABLE}",
        "SELECT * FROM some_other_table",
    ):
        with pytest.raises(UnsafeQueryError):
            connector.query(statement)
    assert connector.read_table(TABLE).num_rows == len(FRAME)  # nothing reached the source


def test_streaming_matches_reading(connector: Connector) -> None:
    read_batches = getattr(connector, "read_batches", None)
    if read_batches is None:
        pytest.fail(f"{type(connector).__name__} has no read_batches")
    batches = list(read_batches(TABLE, ["item_id", "price"], 5))
    assert sum(b.num_rows for b in batches) == len(FRAME)
    streamed = pa.Table.from_batches(batches)
    assert sorted(streamed.column("item_id").to_pylist()) == sorted(FRAME["item_id"])


def test_unknown_table_is_a_clear_error(connector: Connector) -> None:
    with pytest.raises(EngineError, match="no_such_table"):
        connector.read_table("no_such_table")
