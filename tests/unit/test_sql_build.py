"""The SELECT builder: identifiers quoted per dialect, every filter value bound in order."""

from __future__ import annotations

from engine.connectors.sql_build import Binding, bound_select, select_statement
from engine.ports import Between


def test_bindings_name_the_column_of_each_placeholder_in_order() -> None:
    where = {"n": [1, 2], "day": Between("2024-01-01", None), "id": "x' OR '1'='1", "gone": None}
    sql, bindings = bound_select("people", ["id", "n"], where, 10, "bigquery", schema="ds")
    assert sql == (
        "SELECT `id`, `n` FROM `ds`.`people` WHERE ((`n` IN (?, ?) AND `day` >= ?) "
        "AND `id` = ?) AND `gone` IS NULL LIMIT 10"
    )
    assert bindings == [
        Binding("n", 1),
        Binding("n", 2),
        Binding("day", "2024-01-01"),
        Binding("id", "x' OR '1'='1"),
    ]


def test_a_qualified_table_name_is_quoted_as_one_identifier_per_part() -> None:
    sql, _ = bound_select("my table", None, None, None, "bigquery", schema="the-data")
    assert sql == "SELECT * FROM `the-data`.`my table`"


def test_select_statement_keeps_its_plain_values() -> None:
    sql, params = select_statement("t", ["a"], {"a": Between(1, 2)}, None, "duckdb")
    assert sql == 'SELECT "a" FROM "t" WHERE "a" >= ? AND "a" <= ?'
    assert params == [1, 2]
