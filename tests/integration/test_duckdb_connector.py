"""The DuckDB connector over real CSV, Parquet and .duckdb files written in a temporary folder."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from engine.connectors import open_connector
from engine.errors import (
    ConfigurationError,
    ConnectorError,
    NotFoundError,
    UnsafeQueryError,
    ValidationError,
)
from engine.ports import Between, Connector


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    csv = tmp_path / "customers.csv"
    csv.write_text(
        "customer_id,plan,monthly\n1,basic,10.5\n2,pro,30.0\n3,basic,12.0\n4,team,55.0\n5,pro,31.5\n"
    )
    parquet = tmp_path / "usage.parquet"
    pq.write_table(
        pa.table({"customer_id": [1, 2, 3, 4], "minutes": [100, 250, 75, 600]}), str(parquet)
    )
    database = tmp_path / "billing.duckdb"
    conn = duckdb.connect(str(database))
    conn.execute("CREATE TABLE invoices (invoice_id INTEGER, customer_id INTEGER, amount DOUBLE)")
    conn.execute("INSERT INTO invoices VALUES (10, 1, 10.5), (11, 2, 30.0), (12, 2, 30.0)")
    conn.close()
    return {"csv": csv, "parquet": parquet, "database": database}


@pytest.fixture
def connector(files: dict[str, Path]) -> Iterator[Connector]:
    config = {
        "database": str(files["database"]),
        "files": {"customers": str(files["csv"]), "usage": str(files["parquet"])},
    }
    conn = open_connector("duckdb", config)
    yield conn
    conn.close()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_lists_tables_from_files_and_database(connector: Connector) -> None:
    assert connector.list_tables() == ["customers", "invoices", "usage"]
    assert connector.dialect == "duckdb"


def test_table_schema_has_the_columns_and_no_rows(connector: Connector) -> None:
    schema = connector.table_schema("customers")
    assert schema.names == ["customer_id", "plan", "monthly"]
    assert pa.types.is_integer(schema.field("customer_id").type)
    assert pa.types.is_floating(schema.field("monthly").type)
    assert connector.table_schema("usage").names == ["customer_id", "minutes"]


def test_read_table_whole_and_by_columns(connector: Connector) -> None:
    whole = connector.read_table("customers")
    assert whole.num_rows == 5
    assert whole.column("plan").to_pylist() == ["basic", "pro", "basic", "team", "pro"]
    picked = connector.read_table("usage", columns=["minutes"])
    assert picked.column_names == ["minutes"]
    assert sorted(picked.column("minutes").to_pylist()) == [75, 100, 250, 600]


def test_read_table_filters(connector: Connector) -> None:
    equal = connector.read_table("customers", columns=["customer_id"], where={"plan": "pro"})
    assert sorted(equal.column("customer_id").to_pylist()) == [2, 5]

    inside = connector.read_table("customers", where={"plan": ["basic", "team"]})
    assert sorted(inside.column("customer_id").to_pylist()) == [1, 3, 4]
    assert connector.read_table("customers", where={"plan": []}).num_rows == 0

    ranged = connector.read_table("usage", where={"minutes": Between(100, 600)})
    assert sorted(ranged.column("customer_id").to_pylist()) == [1, 2, 4]
    open_end = connector.read_table("usage", where={"minutes": Between(start=250)})
    assert sorted(open_end.column("minutes").to_pylist()) == [250, 600]
    open_start = connector.read_table("customers", where={"monthly": Between(end=12.0)})
    assert sorted(open_start.column("customer_id").to_pylist()) == [1, 3]

    both = connector.read_table("customers", where={"plan": "pro", "monthly": Between(31, 40)})
    assert both.column("customer_id").to_pylist() == [5]


def test_filter_values_are_bound_not_spliced(connector: Connector) -> None:
    hostile = "x' OR '1'='1"
    assert connector.read_table("customers", where={"plan": hostile}).num_rows == 0


def test_read_table_limit(connector: Connector) -> None:
    assert connector.read_table("customers", limit=2).num_rows == 2
    assert connector.read_table("customers", limit=0).num_rows == 0
    with pytest.raises(ValidationError):
        connector.read_table("customers", limit=-1)


def test_unknown_table_is_not_found(connector: Connector) -> None:
    with pytest.raises(NotFoundError, match="nope"):
        connector.read_table("nope")
    with pytest.raises(NotFoundError):
        connector.table_schema("nope")


def test_query_runs_a_checked_select_across_the_source(connector: Connector) -> None:
    result = connector.query(
        "SELECT c.plan, sum(u.minutes) AS total FROM customers c "
        "JOIN usage u ON c.customer_id = u.customer_id GROUP BY 1 ORDER BY 1"
    )
    assert result.to_pylist() == [
        {"plan": "basic", "total": 175},
        {"plan": "pro", "total": 250},
        {"plan": "team", "total": 600},
    ]
    bound = connector.query("SELECT plan FROM customers WHERE customer_id = ?", [4])
    assert bound.to_pylist() == [{"plan": "team"}]


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE invoices",
        "SELECT 1; DROP TABLE invoices",
        "SELECT 1 -- x\n; DROP TABLE invoices",
        "DELETE FROM invoices",
        "INSERT INTO invoices VALUES (99, 9, 9.0)",
        "UPDATE invoices SET amount = 0",
        "CREATE TABLE evil AS SELECT * FROM invoices",
        "DROP VIEW customers",
        "SELECT * FROM read_csv_auto('/etc/passwd')",
        "SELECT * FROM '/etc/passwd'",
        "ATTACH ':memory:' AS other",
    ],
)
def test_unsafe_queries_are_refused_and_change_nothing(
    connector: Connector, files: dict[str, Path], sql: str
) -> None:
    before = _digest(files["database"])
    with pytest.raises(UnsafeQueryError):
        connector.query(sql)
    assert connector.list_tables() == ["customers", "invoices", "usage"]
    assert connector.read_table("customers").num_rows == 5
    assert connector.read_table("usage").num_rows == 4
    count = connector.query("SELECT count(*) AS n FROM source.main.invoices")
    assert count.to_pylist() == [{"n": 3}]
    assert _digest(files["database"]) == before


def test_tables_of_the_database_file_are_readable_by_name(connector: Connector) -> None:
    assert connector.table_schema("invoices").names == ["invoice_id", "customer_id", "amount"]
    rows = connector.read_table("invoices", where={"customer_id": 2, "amount": Between(30, 30)})
    assert sorted(rows.column("invoice_id").to_pylist()) == [11, 12]
    assert connector.query("SELECT count(*) AS n FROM invoices").to_pylist() == [{"n": 3}]


def test_the_database_is_attached_read_only(connector: Connector, files: dict[str, Path]) -> None:
    before = _digest(files["database"])
    # Even a statement that slipped past the guard could not write: the file is attached
    # READ_ONLY. `_run` is the connector's unguarded executor, used here only to prove that.
    runner = connector._run  # type: ignore[attr-defined]
    with pytest.raises(ConnectorError, match=r"(?i)read.only"):
        runner("INSERT INTO source.main.invoices VALUES (99, 9, 9.0)", [])
    with pytest.raises(ConnectorError):
        runner("DROP TABLE source.main.invoices", [])
    connector.close()
    assert _digest(files["database"]) == before
    check = duckdb.connect(str(files["database"]), read_only=True)
    try:
        assert check.execute("SELECT count(*) FROM invoices").fetchall() == [(3,)]
    finally:
        check.close()


def test_missing_file_names_the_config_field(tmp_path: Path) -> None:
    connector = open_connector("duckdb", {"files": {"customers": str(tmp_path / "gone.csv")}})
    with pytest.raises(ValidationError) as info:
        connector.list_tables()
    assert [d.field for d in info.value.details] == ["connection_config.files.customers"]


def test_missing_database_and_unsupported_file_are_validation_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError) as info:
        open_connector("duckdb", {"database": str(tmp_path / "none.duckdb")}).list_tables()
    assert info.value.details[0].field == "connection_config.database"

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(ValidationError) as info:
        open_connector("duckdb", {"files": {"notes": str(text)}}).list_tables()
    assert info.value.details[0].field == "connection_config.files.notes"

    with pytest.raises(ValidationError) as info:
        open_connector("duckdb", {}).list_tables()
    assert info.value.details[0].field == "connection_config"


def test_unknown_connector_type_suggests_the_close_name() -> None:
    with pytest.raises(ConfigurationError, match="Did you mean 'duckdb'"):
        open_connector("duckbd", {})
