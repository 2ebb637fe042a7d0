"""Snowflake emulator fixtures: one fakesnow server per test session, in a subprocess on a random
loopback port (a second `fakesnow.server()` in one process fails), spoken to by the real
snowflake-connector-python over HTTP.

The server creates no database or schema on login (see the launcher), so the session fixture
creates TEST_DB.PUBLIC, the source's schema, and TEST_DB.OTHER, a schema beside it that a
source's queries must never reach.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest

from tests.conftest import SMALL_FEATURES
from tests.warehouses.emulator_process import LAUNCHERS, start_launcher, stop

SNOWFLAKE_DATABASE = "TEST_DB"
SNOWFLAKE_SCHEMA = "PUBLIC"
OTHER_SCHEMA = "OTHER"

SNOWFLAKE_PEOPLE = pd.DataFrame(
    {
        "id": [1, 2, 3, 4, 5, 6],
        "Name": ["Ann", "Bob", "Cy", "Di", None, "x' OR '1'='1"],
        "score": [1.5, 2.5, 3.5, 4.5, 5.5, 6.5],
        "active": [True, False, True, True, False, True],
    }
)
"""Table PEOPLE: a row per filter case, one with no name and one whose name looks like SQL."""

_TYPES = {
    "i": "NUMBER(38,0)",
    "u": "NUMBER(38,0)",
    "f": "FLOAT",
    "b": "BOOLEAN",
    "M": "TIMESTAMP_NTZ",
}


@pytest.fixture(scope="session")
def snowflake_port() -> Iterator[int]:
    """The port of the session's fakesnow server, with the source's database and schemas."""
    environment = pytest.MonkeyPatch()
    # Otherwise the driver probes cloud metadata addresses at every login.
    environment.setenv("SNOWFLAKE_DISABLE_PLATFORM_DETECTION", "true")
    proc, ready = start_launcher(
        [sys.executable, str(LAUNCHERS / "fakesnow_launch.py")], r"FAKESNOW_READY port=(\d+)"
    )
    port = int(ready.group(1))
    try:
        with _client(port, database=None, schema=None) as conn:
            for statement in (
                f"CREATE DATABASE IF NOT EXISTS {SNOWFLAKE_DATABASE}",
                f"CREATE SCHEMA IF NOT EXISTS {SNOWFLAKE_DATABASE}.{SNOWFLAKE_SCHEMA}",
                f"CREATE SCHEMA IF NOT EXISTS {SNOWFLAKE_DATABASE}.{OTHER_SCHEMA}",
                f"CREATE OR REPLACE TABLE {SNOWFLAKE_DATABASE}.{OTHER_SCHEMA}.SECRET (S TEXT)",
                f"INSERT INTO {SNOWFLAKE_DATABASE}.{OTHER_SCHEMA}.SECRET VALUES ('not yours')",
            ):
                conn.cursor().execute(statement)
        yield port
    finally:
        stop(proc)
        environment.undo()


@pytest.fixture
def snowflake_source_config(snowflake_port: int) -> dict[str, Any]:
    """A connection_config for the session's server (any credentials pass there)."""
    return {
        "account": "fakesnow",
        "user": "fake",
        "password": "snow-password",
        "database": SNOWFLAKE_DATABASE,
        "schema": SNOWFLAKE_SCHEMA,
        "warehouse": "COMPUTE_WH",
        "role": "ANALYST",
        "host": "127.0.0.1",
        "port": snowflake_port,
        "protocol": "http",
        "login_timeout": 10,
    }


@pytest.fixture(scope="session")
def snowflake_client(snowflake_port: int) -> Iterator[Any]:
    """A plain driver connection to the source's schema, for setting up and inspecting data."""
    with _client(snowflake_port, SNOWFLAKE_DATABASE, SNOWFLAKE_SCHEMA) as conn:
        yield conn


@pytest.fixture(scope="session")
def load_snowflake_table(snowflake_client: Any) -> Callable[[str, pd.DataFrame], None]:
    """`load(name, frame)`: (re)create table `name` in the source's schema holding `frame`, with
    the real client's `write_pandas`. Table and column names are quoted, so they keep their case
    (a mixed-case name like `MonthlyCharges` stays that, where an unquoted one would be
    upper-cased)."""
    from snowflake.connector.pandas_tools import write_pandas

    def load(name: str, frame: pd.DataFrame) -> None:
        columns = ", ".join(
            f"{_quoted(str(c))} {_TYPES.get(frame[c].dtype.kind, 'TEXT')}" for c in frame.columns
        )
        snowflake_client.cursor().execute(f"CREATE OR REPLACE TABLE {_quoted(name)} ({columns})")
        if len(frame):
            ok, _, rows, _ = write_pandas(
                snowflake_client, frame, name, quote_identifiers=True, use_logical_type=True
            )
            assert ok
            assert rows == len(frame)

    return load


@pytest.fixture(scope="session")
def snowflake_people(load_snowflake_table: Callable[[str, pd.DataFrame], None]) -> str:
    load_snowflake_table("PEOPLE", SNOWFLAKE_PEOPLE)
    return "PEOPLE"


@pytest.fixture(scope="session")
def snowflake_customers(
    load_snowflake_table: Callable[[str, pd.DataFrame], None], telco_frame: pd.DataFrame
) -> pd.DataFrame:
    """Table CUSTOMERS: the small Telco frame, its mixed-case column names kept."""
    frame = telco_frame.iloc[:1200][["customerID", *SMALL_FEATURES, "Churn"]]
    load_snowflake_table("CUSTOMERS", frame)
    return frame


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _client(port: int, database: str | None, schema: str | None) -> Any:
    import snowflake.connector

    return snowflake.connector.connect(
        account="fakesnow",
        user="fake",
        password="snow",
        host="127.0.0.1",
        port=port,
        protocol="http",
        database=database,
        schema=schema,
        session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False},
        login_timeout=10,
    )
