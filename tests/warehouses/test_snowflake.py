"""The Snowflake connector against fakesnow, through the real snowflake-connector-python.

Names are exact: the tables here are created with quoted names, so `PEOPLE` is listed and read
as `PEOPLE`, and the Telco columns keep their mixed case (`MonthlyCharges`). Where fakesnow
cannot show what Snowflake does, the test states Snowflake's behaviour and is marked xfail.
"""

from __future__ import annotations

import sys
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from engine.connectors.snowflake import SnowflakeConnector
from engine.errors import (
    ConnectorError,
    MissingDependencyError,
    NotFoundError,
    UnsafeQueryError,
    ValidationError,
)
from engine.ports import Between
from tests.warehouses.snowflake_fixtures import SNOWFLAKE_PEOPLE

INJECTION = "x' OR '1'='1"

Open = Callable[..., SnowflakeConnector]


@pytest.fixture
def open_snowflake(snowflake_source_config: dict[str, Any]) -> Iterator[Open]:
    """`open_snowflake(**overrides)`: a connector on the session's server, closed afterwards."""
    opened: list[SnowflakeConnector] = []

    def open_(**overrides: Any) -> SnowflakeConnector:
        opened.append(SnowflakeConnector({**snowflake_source_config, **overrides}))
        return opened[-1]

    yield open_
    for connector in opened:
        connector.close()


def ids(table: pa.Table) -> list[int]:
    return sorted(table.column("id").to_pylist())


# catalogue -----------------------------------------------------------------------------------
def test_lists_the_schemas_tables_by_their_stored_names(
    open_snowflake: Open, snowflake_people: str, snowflake_customers: pd.DataFrame
) -> None:
    tables = open_snowflake().list_tables()
    assert {"PEOPLE", "CUSTOMERS"} <= set(tables)
    assert "SECRET" not in tables  # a table of the schema beside the source's


def test_table_schema_maps_snowflake_types_to_arrow(
    open_snowflake: Open, snowflake_client: Any
) -> None:
    snowflake_client.cursor().execute(
        'CREATE OR REPLACE TABLE "TYPED" (N NUMBER(38,0), D NUMBER(10,2), F FLOAT, T TEXT, '
        "B BOOLEAN, DT DATE, TS TIMESTAMP_NTZ, V VARIANT)"
    )
    connector = open_snowflake()
    expected = pa.schema(
        [
            ("N", pa.int64()),
            ("D", pa.decimal128(10, 2)),
            ("F", pa.float64()),
            ("T", pa.string()),
            ("B", pa.bool_()),
            ("DT", pa.date32()),
            ("TS", pa.timestamp("ns")),
            ("V", pa.string()),
        ]
    )
    assert connector.table_schema("TYPED") == expected
    empty = connector.read_table("TYPED")  # no rows: the driver answers no Arrow table at all
    assert empty.num_rows == 0
    assert empty.schema.names == expected.names


def test_a_name_in_another_case_is_not_found_and_the_stored_one_is_suggested(
    open_snowflake: Open, snowflake_people: str
) -> None:
    with pytest.raises(NotFoundError, match="Did you mean 'PEOPLE'"):
        open_snowflake().read_table("people")


# reads ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ({"Name": "Bob"}, [2]),
        ({"id": [1, 3, 99]}, [1, 3]),
        ({"id": ()}, []),
        ({"score": Between(2.0, 4.0)}, [2, 3]),
        ({"score": Between(start=5.0)}, [5, 6]),
        ({"active": True, "id": Between(end=4)}, [1, 3, 4]),
        ({"Name": None}, [5]),
    ],
)
def test_read_table_filters_with_bound_values(
    open_snowflake: Open, snowflake_people: str, where: dict[str, Any], expected: list[int]
) -> None:
    assert ids(open_snowflake().read_table(snowflake_people, where=where)) == expected


def test_read_table_selects_columns_and_limits_rows(
    open_snowflake: Open, snowflake_people: str
) -> None:
    table = open_snowflake().read_table(snowflake_people, columns=["id", "Name"], limit=2)
    assert table.column_names == ["id", "Name"]
    assert table.num_rows == 2


def test_a_value_that_looks_like_sql_is_only_data(
    open_snowflake: Open, snowflake_people: str
) -> None:
    connector = open_snowflake()
    assert ids(connector.read_table(snowflake_people, where={"Name": INJECTION})) == [6]
    assert connector.read_table(snowflake_people, where={"Name": "Ann' --"}).num_rows == 0
    bound = connector.query('SELECT "id" FROM PEOPLE WHERE "Name" = ?', [INJECTION])
    assert ids(bound) == [6]


def test_query_binds_parameters_and_may_name_the_own_schema(
    open_snowflake: Open, snowflake_people: str
) -> None:
    connector = open_snowflake()
    named = connector.query(
        'SELECT "Name" FROM "PEOPLE" WHERE "id" IN (?, ?) ORDER BY "id"', [1, 2]
    )
    assert named.column("Name").to_pylist() == ["Ann", "Bob"]
    qualified = connector.query('SELECT COUNT(*) AS n FROM test_db.public."PEOPLE"')
    assert qualified.column("N").to_pylist() == [len(SNOWFLAKE_PEOPLE)]


@pytest.mark.parametrize(
    "sql",
    [
        "DROP TABLE PEOPLE",
        "DELETE FROM PEOPLE",
        'INSERT INTO PEOPLE ("id") VALUES (7)',
        'UPDATE PEOPLE SET "score" = 0',
        "CREATE TABLE STOLEN AS SELECT * FROM PEOPLE",
        "SELECT 1; DROP TABLE PEOPLE",
        "SELECT * FROM PEOPLE; DELETE FROM PEOPLE",
        "USE SCHEMA OTHER",
        "SELECT * FROM OTHER.SECRET",
        "SELECT * FROM TEST_DB.OTHER.SECRET",
        "SELECT * FROM OTHER.PEOPLE",
        "SELECT * FROM ELSEWHERE.PUBLIC.PEOPLE",
        "SELECT * FROM PEOPLE JOIN (SELECT * FROM OTHER.SECRET) ON TRUE",
        "SELECT * FROM IDENTIFIER('OTHER.SECRET')",
        "SELECT $1 FROM @OTHER.FILES",
        "SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))",
        "SELECT * FROM INFORMATION_SCHEMA.TABLES",
    ],
)
def test_query_refuses_anything_but_a_read_of_the_own_schema_before_sending_it(
    open_snowflake: Open, snowflake_people: str, snowflake_client: Any, sql: str
) -> None:
    def server_state() -> tuple[Any, ...]:
        cursor = snowflake_client.cursor()
        return (
            cursor.execute('SELECT * FROM "PEOPLE" ORDER BY "id"').fetchall(),
            cursor.execute("SHOW TABLES IN DATABASE TEST_DB").fetchall(),
            cursor.execute("SELECT * FROM TEST_DB.OTHER.SECRET").fetchall(),
        )

    before = server_state()
    with pytest.raises(UnsafeQueryError):
        open_snowflake().query(sql)
    assert server_state() == before


def test_max_rows_caps_every_read(open_snowflake: Open, snowflake_people: str) -> None:
    connector = open_snowflake(max_rows=4)
    assert connector.read_table(snowflake_people).num_rows == 4
    assert connector.read_table(snowflake_people, limit=2).num_rows == 2
    assert connector.query("SELECT * FROM PEOPLE").num_rows == 4
    assert connector.query("SELECT * FROM PEOPLE LIMIT 100").num_rows == 4
    assert connector.query("SELECT * FROM PEOPLE LIMIT ?", [100]).num_rows == 4
    assert sum(b.num_rows for b in connector.read_batches(snowflake_people, batch_size=3)) == 4


def test_read_batches_streams_the_whole_table(
    open_snowflake: Open, snowflake_customers: pd.DataFrame
) -> None:
    connector = open_snowflake()
    batches = list(connector.read_batches("CUSTOMERS", ["customerID", "tenure"], batch_size=500))
    assert [b.num_rows for b in batches] == [500, 500, 200]
    streamed = pa.Table.from_batches(batches)
    assert streamed.column_names == ["customerID", "tenure"]
    assert sorted(streamed.column("customerID").to_pylist()) == sorted(
        snowflake_customers["customerID"]
    )


def test_a_connector_logs_in_again_when_its_session_has_ended(
    open_snowflake: Open, snowflake_people: str, snowflake_port: int
) -> None:
    connector = open_snowflake()
    assert connector.read_table(snowflake_people, limit=1).num_rows == 1
    token = connector._connection().rest.token  # end the session on the server's side
    urllib.request.urlopen(
        urllib.request.Request(
            f"http://127.0.0.1:{snowflake_port}/session?delete=true",
            method="POST",
            headers={"Authorization": f'Snowflake Token="{token}"'},
        )
    ).close()
    assert connector.read_table(snowflake_people, limit=1).num_rows == 1


# credentials and failures --------------------------------------------------------------------
def test_key_pair_authentication_logs_in_with_an_encrypted_pem(
    open_snowflake: Open, snowflake_people: str
) -> None:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"key-passphrase"),
    ).decode()
    connector = open_snowflake(
        password=None, private_key=pem, private_key_passphrase="key-passphrase"
    )
    assert "PEOPLE" in connector.list_tables()
    with pytest.raises(ValidationError) as wrong:
        open_snowflake(
            password=None, private_key=pem, private_key_passphrase="not-the-passphrase"
        ).list_tables()
    assert wrong.value.details[0].field == "connection_config.private_key"
    assert "not-the-passphrase" not in str(wrong.value)
    assert "PRIVATE KEY" not in str(wrong.value)


def test_a_missing_driver_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch, snowflake_source_config: dict[str, Any]
) -> None:
    monkeypatch.setitem(sys.modules, "snowflake.connector", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'engine\[snowflake\]'"):
        SnowflakeConnector(snowflake_source_config).list_tables()


@pytest.mark.xfail(reason="fakesnow accepts any user name and password", strict=True)
def test_a_wrong_password_is_an_authentication_failure(open_snowflake: Open) -> None:
    with pytest.raises(ConnectorError, match="authentication failed for user 'fake'"):
        open_snowflake(password="wrong-password").list_tables()


@pytest.mark.xfail(reason="fakesnow has no warehouses and accepts any name", strict=True)
def test_a_missing_warehouse_fails_at_login(open_snowflake: Open) -> None:
    # With validate_default_parameters Snowflake refuses the login (390201).
    with pytest.raises(ConnectorError, match="warehouse"):
        open_snowflake(warehouse="NO_SUCH_WAREHOUSE").list_tables()


@pytest.mark.xfail(reason="fakesnow ignores query cancellation and timeouts", strict=True)
def test_a_query_past_its_timeout_is_stopped(open_snowflake: Open) -> None:
    # About 3 s on fakesnow, which runs it to the end; Snowflake stops it after 1 s (630).
    slow = (
        "SELECT COUNT(*) FROM TABLE(GENERATOR(ROWCOUNT => 20000)) a "
        "CROSS JOIN TABLE(GENERATOR(ROWCOUNT => 8000)) b WHERE RANDOM() < 0"
    )
    with pytest.raises(ConnectorError, match="query_timeout_seconds"):
        open_snowflake(query_timeout_seconds=1).query(slow)
