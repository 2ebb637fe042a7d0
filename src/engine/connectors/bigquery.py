"""Google BigQuery: one dataset's tables, read into Arrow through the Storage Read API.

`connection_config` is described in `engine.connectors.bigquery_clients`. A whole-table read
opens a read session on the table itself (no query job, no query bytes billed); a filtered read
and `query()` run a query job with positional parameters and read its result the same way.
Every query passes the read-only guard and may name only the dataset's own tables.
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from sqlglot import exp

from engine.connectors.bigquery_clients import read_settings
from engine.connectors.bigquery_session import SMALL_RESULT_ROWS, BigQuerySession
from engine.connectors.bigquery_types import (
    arrow_schema,
    parameter_type,
    query_parameter,
    scalar_parameter,
)
from engine.connectors.sql_build import bound_select
from engine.connectors.sql_guard import parse_read_only
from engine.errors import ConnectorError, MissingDependencyError, UnsafeQueryError, ValidationError
from engine.ports import RowFilter

if TYPE_CHECKING:
    from google.cloud import bigquery
    from google.cloud.bigquery.table import RowIterator


class BigQueryConnector:
    dialect = "bigquery"

    def __init__(self, connection_config: Mapping[str, Any]) -> None:
        try:
            importlib.import_module("google.cloud.bigquery")
        except ImportError as exc:
            raise MissingDependencyError(
                "BigQuery sources need the BigQuery client libraries, which are not installed. "
                "Install them with: pip install 'engine[bigquery]'"
            ) from exc
        self._session = BigQuerySession(read_settings(connection_config))
        self._settings = self._session.settings

    def list_tables(self) -> list[str]:
        return self._session.list_tables()

    def table_schema(self, table: str) -> pa.Schema:
        return arrow_schema(self._session.table(table).schema)

    def read_table(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        where: RowFilter | None = None,
        limit: int | None = None,
    ) -> pa.Table:
        if limit is not None and limit < 0:
            raise ValidationError.for_field("limit", "must be 0 or more")
        meta = self._session.table(table)
        fields = _fields(meta, columns)
        cap = _smallest(limit, self._settings.max_rows)
        if where or meta.table_type != "TABLE":  # views are read through a query
            sql, parameters = self._select(meta, fields, where, cap)
            return self._collect(lambda: self._session.run_query(sql, parameters, table), table)
        if cap == 0:
            return arrow_schema(fields).empty_table()
        if cap is not None and cap <= SMALL_RESULT_ROWS:
            rows = lambda: self._session.list_rows(meta, fields, cap)  # noqa: E731
            return self._collect(rows, table, storage=False)
        rows = lambda: self._session.list_rows(meta, fields, None)  # noqa: E731
        # The Storage Read API answers in the table's column order.
        return self._collect(rows, table, cap).select([f.name for f in fields])

    def read_batches(
        self, table: str, columns: Sequence[str] | None = None, batch_size: int = 50_000
    ) -> Iterator[pa.RecordBatch]:
        """Stream a table in Arrow record batches of at most `batch_size` rows."""
        meta = self._session.table(table)
        fields = _fields(meta, columns)
        names = [f.name for f in fields]
        cap = self._settings.max_rows
        rows: Callable[[], RowIterator]
        if meta.table_type == "TABLE":
            rows = lambda: self._session.list_rows(meta, fields, None)  # noqa: E731
        else:
            sql, parameters = self._select(meta, fields, None, cap)
            rows = lambda: self._session.run_query(sql, parameters, table)  # noqa: E731
        for batch in _capped(self._session.batches(rows, table, []), cap):
            ordered = batch.select(names)
            for start in range(0, ordered.num_rows, batch_size):
                yield ordered.slice(start, batch_size)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        tree = parse_read_only(sql, self.dialect, self.list_tables())
        self._check_qualifiers(tree)
        checked = tree.sql(dialect=self.dialect)
        parameters = [query_parameter(v) for v in params or []]
        rows = lambda: self._session.run_query(checked, parameters, None)  # noqa: E731
        return self._collect(rows, None, self._settings.max_rows)

    def _check_qualifiers(self, tree: exp.Query) -> None:
        """The guard knows table names only: a qualified name must be this source's dataset."""
        for node in tree.find_all(exp.Table):
            if not isinstance(node.this, exp.Identifier):
                continue
            if (node.catalog and node.catalog != self._settings.project) or (
                node.db and node.db != self._settings.dataset
            ):
                raise UnsafeQueryError(
                    f"Query refused: the table '{node.sql(dialect=self.dialect)}' is outside "
                    f"this source's dataset '{self._settings.dataset_path}'. Only a single "
                    "read-only SELECT (or WITH … SELECT) over the source's tables is allowed."
                )

    def _select(
        self, meta: bigquery.Table, fields: list[Any], where: RowFilter | None, limit: int | None
    ) -> tuple[str, list[Any]]:
        """The SELECT and its parameters, each typed after the column it is compared with."""
        sql, bindings = bound_select(
            str(meta.table_id),
            [f.name for f in fields],
            where,
            limit,
            self.dialect,
            schema=self._settings.dataset,
        )
        types = {f.name.lower(): parameter_type(f.field_type) for f in meta.schema}
        return sql, [scalar_parameter(b.value, types.get(b.column.lower())) for b in bindings]

    def _collect(
        self,
        rows: Callable[[], RowIterator],
        table: str | None,
        cap: int | None = None,
        storage: bool = True,
    ) -> pa.Table:
        schema: list[Any] = []
        batches = list(_capped(self._session.batches(rows, table, schema, storage), cap))
        return pa.Table.from_batches(batches) if batches else arrow_schema(schema).empty_table()

    def close(self) -> None:
        self._session.close()


def _fields(meta: bigquery.Table, columns: Sequence[str] | None) -> list[Any]:
    """The schema fields of `columns` (all when None), matched ignoring case as BigQuery does."""
    if not columns:
        return list(meta.schema)
    by_name = {f.name.lower(): f for f in meta.schema}
    missing = [c for c in columns if c.lower() not in by_name]
    if missing:
        raise ConnectorError(
            f"table '{meta.table_id}' has no column {', '.join(map(repr, missing))}; "
            f"its columns: {', '.join(f.name for f in meta.schema)}"
        )
    return [by_name[c.lower()] for c in columns]


def _smallest(*limits: int | None) -> int | None:
    given = [n for n in limits if n is not None]
    return min(given) if given else None


def _capped(batches: Iterator[pa.RecordBatch], cap: int | None) -> Iterator[pa.RecordBatch]:
    """At most `cap` rows of `batches`; stops reading (and downloading) once it has them."""
    if cap is None:
        yield from batches
        return
    left = cap
    with contextlib.closing(batches):  # type: ignore[type-var]
        for batch in batches if left > 0 else ():
            yield batch.slice(0, left)
            left -= batch.num_rows
            if left <= 0:
                return
