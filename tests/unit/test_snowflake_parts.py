"""The Snowflake connector's parts that need no server: its connection_config, the SQL it lets
through, and the words its driver errors are turned into."""

from __future__ import annotations

from typing import Any

import pytest

from engine.connectors.snowflake_config import settings_from, stored_name
from engine.connectors.snowflake_errors import connector_error
from engine.connectors.snowflake_sql import checked_query
from engine.errors import UnsafeQueryError, ValidationError

errors = pytest.importorskip("snowflake.connector.errors")

CONFIG = {
    "account": "xy12345",
    "user": "analyst",
    "password": "hunter2-secret",
    "database": "prod",
    "schema": "public",
}
TABLES = ["CUSTOMERS", "Orders"]


def checked(sql: str, max_rows: int | None = None) -> str:
    return checked_query(sql, TABLES, "PROD", "PUBLIC", max_rows)


# connection_config -----------------------------------------------------------------------------
def test_database_and_schema_follow_snowflakes_identifier_rule() -> None:
    settings = settings_from({**CONFIG, "schema": '"Sales ""EU"""'})
    assert (settings.database, settings.schema) == ("PROD", 'Sales "EU"')
    assert stored_name("public") == "PUBLIC"


@pytest.mark.parametrize(
    ("account", "identifier"),
    [
        ("xy12345", "xy12345"),
        ("xy12345.us-east-1", "xy12345.us-east-1"),
        ("xy12345.snowflakecomputing.com", "xy12345"),
        ("https://org-acct.snowflakecomputing.com/", "org-acct"),
    ],
)
def test_an_account_url_is_read_as_the_account_identifier(account: str, identifier: str) -> None:
    assert settings_from({**CONFIG, "account": account}).connect_args["account"] == identifier


def test_username_is_accepted_for_user() -> None:
    config = {k: v for k, v in CONFIG.items() if k != "user"}
    assert settings_from({**config, "username": "bob"}).connect_args["user"] == "bob"


@pytest.mark.parametrize(
    ("change", "field", "problem"),
    [
        ({"schema": None}, "connection_config.schema", "is required"),
        ({"user": None}, "connection_config.user", "is required"),
        ({"password": None}, "connection_config.password", "give either"),
        ({"private_key": "-----BEGIN"}, "connection_config.password", "give either"),
        ({"pasword": "x"}, "connection_config.pasword", "did you mean 'password'"),
        ({"port": "443"}, "connection_config.port", "whole number"),
        ({"max_rows": 0}, "connection_config.max_rows", "whole number"),
        ({"protocol": "ftp"}, "connection_config.protocol", "'https' or 'http'"),
    ],
)
def test_a_bad_field_is_named(change: dict[str, Any], field: str, problem: str) -> None:
    config = {k: v for k, v in {**CONFIG, **change}.items() if v is not None}
    with pytest.raises(ValidationError) as caught:
        settings_from(config)
    assert caught.value.details[0].field == field
    assert problem in caught.value.details[0].problem


def test_an_unreadable_private_key_is_named_without_quoting_it() -> None:
    pem = "-----BEGIN PRIVATE KEY-----\nnot-a-key-at-all\n-----END PRIVATE KEY-----\n"
    config = {**CONFIG, "password": None, "private_key": pem}
    with pytest.raises(ValidationError) as caught:
        settings_from({k: v for k, v in config.items() if v is not None})
    assert caught.value.details[0].field == "connection_config.private_key"
    assert "not-a-key-at-all" not in str(caught.value)


# driver errors ---------------------------------------------------------------------------------
def reason_of(exc: Exception, **config: Any) -> str:
    return connector_error(exc, settings_from({**CONFIG, **config}), "query").message


def test_an_unreachable_host_is_named_with_the_socket_error() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as refused:
            raise errors.OperationalError(msg="Could not connect", errno=250001) from refused
    except errors.Error as exc:
        reason = reason_of(exc, host="10.0.0.9", port=8443)
    assert reason == "could not reach Snowflake at 10.0.0.9:8443 — connection refused"


@pytest.mark.parametrize(
    ("errno", "config", "words"),
    [
        (390100, {}, "authentication failed for user 'analyst'"),
        (90105, {}, "database 'PROD' does not exist or the role cannot use it"),
        (90106, {}, "schema 'PUBLIC' does not exist in database 'PROD'"),
        (606, {"warehouse": "WH"}, "warehouse 'WH' does not exist"),
        (606, {}, "give connection_config.warehouse"),
        (630, {"query_timeout_seconds": 5}, "stopped after 5 s"),
        (2003, {}, "Snowflake query failed: SQL compilation error: Object 'X' does not exist"),
    ],
)
def test_driver_errors_are_said_in_plain_words(
    errno: int, config: dict[str, Any], words: str
) -> None:
    exc = errors.ProgrammingError(
        msg="SQL compilation error:\nObject 'X' does not exist", errno=errno
    )
    assert words in reason_of(exc, **config)


def test_no_credential_reaches_a_message() -> None:
    exc = errors.DatabaseError(msg="login refused for hunter2-secret", errno=250099)
    assert "hunter2-secret" not in reason_of(exc)


# SQL -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM customers",
        'SELECT * FROM "Orders"',
        "SELECT * FROM public.customers",
        'SELECT * FROM prod."PUBLIC".customers',
        "WITH c AS (SELECT * FROM customers) SELECT * FROM c",
        "SELECT f.value FROM customers, LATERAL FLATTEN(input => PARSE_JSON('[1]')) f",
        "SELECT seq4() FROM TABLE(GENERATOR(ROWCOUNT => 3))",
    ],
)
def test_reads_of_the_own_schema_pass(sql: str) -> None:
    checked(sql)


@pytest.mark.parametrize(
    ("sql", "words"),
    [
        ("SELECT * FROM other.customers", "outside the source's schema 'PUBLIC'"),
        ('SELECT * FROM "public".customers', "outside the source's schema 'PUBLIC'"),
        ("SELECT * FROM dev.public.customers", "outside the source's database 'PROD'"),
        ("SELECT * FROM @stage", "reads files from a stage"),
        ("SELECT * FROM @%customers", "reads files from a stage"),
        ("SELECT * FROM IDENTIFIER('other.t')", "not a plain table name"),
        ("SELECT * FROM TABLE(RESULT_SCAN(LAST_QUERY_ID()))", "table function"),
        ("SELECT * FROM TABLE(information_schema.query_history())", "table function"),
        ("SELECT other.sch.f(1) FROM customers", "function of another schema"),
        ("SELECT GET_DDL('table', 'customers') FROM customers", "get_ddl()"),
        ("SELECT s.NEXTVAL FROM customers", "NEXTVAL"),
        ("SELECT * FROM secrets", "not one of this source's tables"),
    ],
)
def test_reaching_past_the_schema_is_refused(sql: str, words: str) -> None:
    with pytest.raises(UnsafeQueryError, match=words):
        checked(sql)


@pytest.mark.parametrize(
    ("sql", "limit"),
    [
        ("SELECT * FROM customers", "LIMIT 10"),
        ("SELECT * FROM customers LIMIT 500", "LIMIT 10"),
        ("SELECT * FROM customers LIMIT 3", "LIMIT 3"),
        ("SELECT 1 FROM customers UNION ALL SELECT 2 FROM customers", "LIMIT 10"),
    ],
)
def test_max_rows_limits_the_outermost_query(sql: str, limit: str) -> None:
    assert checked(sql, max_rows=10).endswith(limit)
