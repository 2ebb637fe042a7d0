"""What SQL may be sent to a Snowflake source: the shared read-only check (`sql_guard`), and
then Snowflake's own ways of reading past the source's schema, which that check cannot know:
names qualified with another schema or database, stages (`@stage`), `IDENTIFIER('…')` (a name
known only at run time), functions of other schemas, table functions over query history or
earlier results, and sequences (whose NEXTVAL changes them).

The role's grants stay the real boundary; this refuses what a read of the source never needs.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlglot import exp

from engine.connectors.sql_guard import parse_read_only
from engine.errors import UnsafeQueryError

DIALECT = "snowflake"
_FORBIDDEN_FUNCTIONS = frozenset(
    {
        "dynamic_identifier",
        "identifier",
        "result_scan",
        "get_ddl",
        "infer_schema",
        "get_presigned_url",
        "build_scoped_file_url",
        "build_stage_file_url",
        "get_stage_location",
        "get_relative_path",
        "get_absolute_path",
    }
)
# Table functions that only generate or unnest values.
_TABLE_FUNCTIONS = (exp.Explode, exp.Generator)
_NAMED_TABLE_FUNCTIONS = frozenset({"split_to_table", "strtok_split_to_table"})


def checked_query(
    sql: str, tables: Collection[str], database: str, schema: str, max_rows: int | None
) -> str:
    """The statement to run for `sql`, re-rendered from the checked tree and, when `max_rows` is
    set, limited to that many rows; raises UnsafeQueryError otherwise."""
    tree = parse_read_only(sql, DIALECT, tables)
    for node in tree.walk():
        if isinstance(node, exp.Table):
            _check_reference(node, database, schema)
        elif isinstance(node, exp.TableFromRows):
            _check_table_function(node)
        elif isinstance(node, exp.Dot) and isinstance(node.expression, exp.Func):
            raise _refuse(f"{node.sql(dialect=DIALECT)} calls a function of another schema")
        elif isinstance(node, exp.Func) and _function_name(node) in _FORBIDDEN_FUNCTIONS:
            raise _refuse(f"the function {_function_name(node)}() reads outside the source")
        elif isinstance(node, exp.Column) and node.table and node.name.upper() == "NEXTVAL":
            raise _refuse("NEXTVAL advances a sequence")
    if max_rows is not None:
        tree = _capped(tree, max_rows)
    return tree.sql(dialect=DIALECT)


def stored(identifier: exp.Identifier) -> str:
    """The name Snowflake resolves an identifier to: exact when quoted, upper-cased if not."""
    return str(identifier.this) if identifier.quoted else str(identifier.this).upper()


def _check_reference(node: exp.Table, database: str, schema: str) -> None:
    if not isinstance(node.this, exp.Identifier):
        what = node.this.sql(dialect=DIALECT)
        if what.startswith("@"):
            raise _refuse(f"{what} reads files from a stage")
        raise _refuse(f"{what} is not a plain table name")
    for part, expected, kind in (
        (node.args.get("db"), schema, "schema"),
        (node.args.get("catalog"), database, "database"),
    ):
        if isinstance(part, exp.Identifier) and stored(part) != expected:
            raise _refuse(
                f"the table {node.sql(dialect=DIALECT)} is outside the source's {kind} '{expected}'"
            )


def _check_table_function(node: exp.TableFromRows) -> None:
    inner = node.this
    if isinstance(inner, _TABLE_FUNCTIONS):
        return
    if isinstance(inner, exp.Anonymous) and inner.name.lower() in _NAMED_TABLE_FUNCTIONS:
        return
    raise _refuse(f"the table function {inner.sql(dialect=DIALECT)} is not allowed")


def _function_name(node: exp.Func) -> str:
    return str(node.name).lower() if isinstance(node, exp.Anonymous) else node.sql_name().lower()


def _capped(tree: exp.Query, max_rows: int) -> exp.Query:
    """A LIMIT of `max_rows` on the outermost query unless it already has a smaller one (a
    limit given as a parameter is left alone: the read stops at `max_rows` anyway)."""
    limit = tree.args.get("limit")
    if limit is None:
        return tree.limit(max_rows)
    count = limit.args.get("expression")
    literal = isinstance(limit, exp.Limit) and isinstance(count, exp.Literal) and count.is_int
    if literal and int(count.this) > max_rows:
        count.replace(exp.Literal.number(max_rows))
    return tree


def _refuse(reason: str) -> UnsafeQueryError:
    return UnsafeQueryError(
        f"Query refused: {reason}. Only a single read-only SELECT over the source's own "
        "tables is allowed.",
    )
