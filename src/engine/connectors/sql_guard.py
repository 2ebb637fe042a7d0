"""Read-only SQL, enforced by parsing before anything reaches a database.

A statement passes only if it parses (in the source's dialect) to exactly one query — a SELECT,
a WITH … SELECT, or a set operation of those — with no data-changing, DDL, session or locking
node anywhere inside, no file- or network-reading function, and (when the caller knows them) no
table outside the source's own tables. What is sent to the database is the statement re-rendered
from the checked tree, never the caller's text, so the parser and the database cannot disagree
about what runs.
"""

from __future__ import annotations

import re
from collections.abc import Collection

import sqlglot
from sqlglot import exp
from sqlglot.errors import ParseError, TokenError

from engine.errors import UnknownTableError, UnsafeQueryError

_WRITE_NODES: tuple[type[exp.Expression], ...] = (
    exp.Insert,
    exp.Update,
    exp.Delete,
    exp.Merge,
    exp.Create,
    exp.Drop,
    exp.Alter,
    exp.TruncateTable,
    exp.Command,
    exp.Copy,
    exp.Set,
    exp.Pragma,
    exp.Into,
    exp.Lock,
    exp.Use,
    exp.Transaction,
    exp.Commit,
    exp.Rollback,
    exp.LoadData,
    exp.Attach,
    exp.Detach,
    exp.Install,
    exp.Summarize,
    exp.Describe,
)

# Functions that read files, URLs or other databases: a read-only query of a source's tables
# never needs them, and they would let a tenant read the server's disk.
_FORBIDDEN_FUNCTIONS = frozenset(
    {
        "glob",
        "parquet_scan",
        "parquet_metadata",
        "parquet_schema",
        "sniff_csv",
        "query",
        "query_table",
        "sqlite_scan",
        "postgres_scan",
        "mysql_scan",
        "iceberg_scan",
        "delta_scan",
        "getenv",
        "current_setting",
        "load_aws_credentials",
    }
)
_FORBIDDEN_PREFIXES = ("read_", "pg_", "duckdb_", "system$")


def _function_name(node: exp.Func) -> str:
    if isinstance(node, exp.Anonymous):
        return str(node.name).lower()
    return node.sql_name().lower()


def _refuse(reason: str) -> UnsafeQueryError:
    return UnsafeQueryError(
        f"Query refused: {reason}. Only a single read-only SELECT (or WITH … SELECT) over the "
        "source's tables is allowed.",
    )


def parse_read_only(
    sql: str, dialect: str, allowed_tables: Collection[str] | None = None
) -> exp.Query:
    """Return the parsed query if it is a single read-only SELECT, else raise UnsafeQueryError."""
    if not sql or not sql.strip():
        raise _refuse("the query is empty")
    try:
        statements = [s for s in sqlglot.parse(sql, read=dialect) if s is not None]
    except (ParseError, TokenError) as exc:
        raise _refuse(f"it could not be parsed as {dialect} SQL ({exc})") from exc
    if len(statements) != 1:
        raise _refuse(f"it holds {len(statements)} statements")
    statement = statements[0]
    if not isinstance(statement, exp.Query):
        raise _refuse(f"it is not a query but {statement.key.upper()}")
    ctes = _top_level_ctes(statement)
    allowed = {t.lower() for t in allowed_tables} if allowed_tables is not None else None
    for node in statement.walk():
        if isinstance(node, _WRITE_NODES):
            raise _refuse(f"it contains {node.key.upper()}")
        if isinstance(node, exp.Func):
            name = _function_name(node)
            if name in _FORBIDDEN_FUNCTIONS or name.startswith(_FORBIDDEN_PREFIXES):
                raise _refuse(f"the function {name}() reads outside the source")
        if isinstance(node, exp.Table):
            _check_table(node, ctes, allowed)
    return statement


def _top_level_ctes(statement: exp.Query) -> set[str]:
    """Names of the statement's own WITH, which are in scope everywhere in it. A WITH nested
    deeper is refused: its names are in scope only inside it, and outside they would name a
    file or a system view instead."""
    top = statement.args.get("with_") or statement.args.get("with")
    own = set(top.expressions) if top is not None else set()
    for cte in statement.find_all(exp.CTE):
        if cte not in own:
            raise _refuse("a WITH is nested inside the query (put every CTE in the top-level WITH)")
    return {cte.alias_or_name.lower() for cte in own}


_FILE_LIKE = re.compile(
    r"[/\\:]|\.(csv|tsv|txt|parquet|json|ndjson|jsonl|gz|zst|xlsx?)$", re.IGNORECASE
)


def _check_table(node: exp.Table, ctes: set[str], allowed: set[str] | None) -> None:
    if not isinstance(node.this, exp.Identifier):
        if isinstance(node.this, exp.Literal):
            raise _refuse("a string used as a table reads a file")
        return  # table functions are checked as functions
    if _FILE_LIKE.search(node.name):
        raise _refuse(f"the table name '{node.name}' is a file path")
    name = node.name.lower()
    if not node.db and name in ctes:
        return
    if allowed is not None and name not in allowed:
        raise UnknownTableError(
            f"Query refused: the table '{node.name}' is not one of this source's tables "
            f"({', '.join(sorted(allowed)) or 'it has none'})."
        )


def render_read_only(sql: str, dialect: str, allowed_tables: Collection[str] | None = None) -> str:
    """Check `sql` and return the statement re-rendered from the checked tree."""
    return parse_read_only(sql, dialect, allowed_tables).sql(dialect=dialect)
