"""The read-only SQL guard: what passes, what is refused, and what is actually rendered."""

from __future__ import annotations

import duckdb
import pytest
import sqlglot
from sqlglot import exp

from engine.connectors.sql_guard import parse_read_only, render_read_only
from engine.errors import UnsafeQueryError, ValidationError

DIALECT = "duckdb"
ALLOWED = ["customers"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM customers",
        "select id, name from customers where id > 3 order by id limit 5",
        "WITH c AS (SELECT id FROM customers) SELECT * FROM c",
        "WITH a AS (SELECT 1 AS x), b AS (SELECT x FROM a) SELECT * FROM b",
        "SELECT id FROM customers UNION SELECT id FROM customers",
        "SELECT id FROM customers UNION ALL SELECT 1 EXCEPT SELECT 2",
        "SELECT /* inline */ id FROM customers -- trailing comment",
        "SELECT id FROM customers;",
        "SELECT count(*) FROM customers c JOIN customers d ON c.id = d.id",
        "SELECT * FROM customers WHERE id IN (SELECT id FROM customers)",
        "SELECT * FROM CUSTOMERS",
    ],
)
def test_read_only_queries_are_accepted(sql: str) -> None:
    query = parse_read_only(sql, DIALECT, ALLOWED)
    assert isinstance(query, exp.Query)
    rendered = render_read_only(sql, DIALECT, ALLOWED)
    # The rendered text is itself one read-only query that passes the guard again.
    reparsed = [s for s in sqlglot.parse(rendered, read=DIALECT) if s is not None]
    assert len(reparsed) == 1
    assert isinstance(reparsed[0], exp.Query)
    assert render_read_only(rendered, DIALECT, ALLOWED) == rendered


@pytest.mark.parametrize(
    "sql",
    [
        # DDL
        "CREATE TABLE t (a INT)",
        "CREATE VIEW v AS SELECT * FROM customers",
        "DROP TABLE customers",
        "ALTER TABLE customers ADD COLUMN x INT",
        "TRUNCATE customers",
        # DML
        "INSERT INTO customers VALUES (1)",
        "INSERT INTO customers SELECT * FROM customers",
        "UPDATE customers SET id = 1",
        "DELETE FROM customers",
        "MERGE INTO customers USING customers AS s ON customers.id = s.id WHEN MATCHED THEN DELETE",
        "WITH x AS (DELETE FROM customers RETURNING *) SELECT * FROM x",
        # several statements, with and without comment tricks
        "SELECT 1; DROP TABLE customers",
        "SELECT * FROM customers; SELECT * FROM customers",
        "SELECT 1 -- x\n; DROP TABLE customers",
        "SELECT 1 /* */; DELETE FROM customers",
        "/* SELECT */ DROP TABLE customers",
        # writing or locking SELECTs
        "SELECT * INTO t2 FROM customers",
        "SELECT * FROM customers FOR UPDATE",
        # session, file and database commands
        "COPY customers TO '/tmp/out.csv'",
        "ATTACH 'other.db' AS other",
        "DETACH other",
        "PRAGMA table_info('customers')",
        "SET memory_limit = '1GB'",
        "INSTALL httpfs",
        "LOAD httpfs",
        "USE other",
        "BEGIN",
        "DESCRIBE customers",
        "SUMMARIZE customers",
        # file- and system-reading functions, wherever they hide
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_csv_auto('/etc/passwd')",
        "SELECT * FROM read_parquet('x.parquet')",
        "SELECT * FROM parquet_scan('x.parquet')",
        "SELECT * FROM glob('/*')",
        "SELECT * FROM customers, read_csv('x.csv')",
        "SELECT * FROM customers WHERE id IN (SELECT id FROM read_csv('/etc/passwd'))",
        "WITH f AS (SELECT * FROM read_json_auto('x.json')) SELECT * FROM f",
        "SELECT getenv('HOME')",
        "SELECT * FROM duckdb_settings()",
        "SELECT * FROM query('DROP TABLE customers')",
        # a string used as a table is a file read
        "SELECT * FROM '/etc/passwd'",
        "SELECT * FROM 'data.csv'",
        # tables outside the source
        "SELECT * FROM orders",
        "SELECT * FROM main.orders",
        "SELECT * FROM customers c JOIN orders o ON c.id = o.id",
        "SELECT (SELECT count(*) FROM orders)",
        "SELECT * FROM information_schema.tables",
        # empty and unparseable
        "",
        "   \n\t ",
        "-- only a comment",
        "SELEC FROM WHERE (",
        "SELECT * FROM customers WHERE (",
        "SELECT 'unterminated",
    ],
)
def test_unsafe_queries_are_refused(sql: str) -> None:
    with pytest.raises(UnsafeQueryError, match="Query refused"):
        parse_read_only(sql, DIALECT, ALLOWED)
    with pytest.raises(UnsafeQueryError):
        render_read_only(sql, DIALECT, ALLOWED)


def test_unsafe_query_error_is_a_validation_error_with_a_stable_code() -> None:
    with pytest.raises(ValidationError) as info:
        render_read_only("DROP TABLE customers", DIALECT, ALLOWED)
    assert info.value.code == "unsafe_query"
    assert "DROP" in info.value.message


def test_a_commented_out_statement_is_rendered_as_a_comment() -> None:
    rendered = render_read_only("SELECT 1 -- ; DROP TABLE x", DIALECT, ALLOWED)
    parsed = [s for s in sqlglot.parse(rendered, read=DIALECT) if s is not None]
    assert len(parsed) == 1
    assert isinstance(parsed[0], exp.Select)
    assert not list(parsed[0].find_all(exp.Drop))
    # Whatever survives of the DROP is inside a block comment, not after a statement end.
    position = rendered.find("DROP")
    if position != -1:
        assert rendered.rfind("/*", 0, position) != -1
        assert rendered.find("*/", position) != -1
        assert ";" not in rendered[: rendered.rfind("/*", 0, position)]


def test_a_line_comment_cannot_swallow_the_rest_of_the_rendered_query() -> None:
    rendered = render_read_only("SELECT id -- hide\nFROM customers WHERE id = 1", DIALECT, ALLOWED)
    assert "--" not in rendered
    parsed = sqlglot.parse_one(rendered, read=DIALECT)
    assert parsed.find(exp.Where) is not None
    table = parsed.find(exp.Table)
    assert table is not None
    assert table.name == "customers"


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT 1 -- ; DROP TABLE customers", [(1,)]),
        ("SELECT 1 -- */ ; DROP TABLE customers", [(1,)]),
        ("SELECT 1 AS x -- */ , 2 AS y", [(1,)]),
        ("SELECT 1 /* /* */ ; DROP TABLE customers */", [(1,)]),
        ("SELECT count(*) FROM customers -- \n", [(2,)]),
    ],
)
def test_rendered_comment_tricks_run_as_one_harmless_statement_in_duckdb(
    sql: str, expected: list[tuple[int]]
) -> None:
    rendered = render_read_only(sql, DIALECT, ALLOWED)
    conn = duckdb.connect(":memory:")
    try:
        conn.execute("CREATE TABLE customers (id INTEGER)")
        conn.execute("INSERT INTO customers VALUES (1), (2)")
        assert conn.execute(rendered).fetchall() == expected
        assert conn.execute("SELECT count(*) FROM customers").fetchall() == [(2,)]
    finally:
        conn.close()


def test_ctes_may_be_referenced_and_tables_are_matched_case_insensitively() -> None:
    sql = "WITH recent AS (SELECT * FROM Customers) SELECT * FROM recent"
    assert "recent" in render_read_only(sql, DIALECT, ["CUSTOMERS"])


def test_without_a_table_list_any_table_name_is_accepted() -> None:
    assert render_read_only("SELECT * FROM orders", DIALECT, None) == "SELECT * FROM orders"
    with pytest.raises(UnsafeQueryError):
        render_read_only("SELECT * FROM read_csv('x.csv')", DIALECT, None)


def test_string_as_table_is_refused_even_without_a_table_list() -> None:
    with pytest.raises(UnsafeQueryError):
        render_read_only("SELECT * FROM '/etc/passwd'", DIALECT, None)


def test_a_cte_in_a_subquery_does_not_exempt_an_outer_table_of_the_same_name() -> None:
    sql = "SELECT * FROM (WITH orders AS (SELECT 1) SELECT * FROM orders) AS a, orders"
    with pytest.raises(UnsafeQueryError):
        render_read_only(sql, DIALECT, ALLOWED)
