"""Snowflake sources, read through snowflake-connector-python into Arrow.

The source's tables are the tables and views of one schema (`connection_config.schema`, see
`engine.connectors.snowflake_config` for every field). Table and column names are exact, as
`list_tables` and `table_schema` show them: a table created unquoted is listed upper-cased
(`CUSTOMERS`) and is read under that name; a name that only differs in case is not found, with
the right spelling suggested.

Values are bound with the `qmark` parameter style: Snowflake binds them on the server, so they
never become SQL text (the default `pyformat` style escapes them into the statement on the
client). Every query passes the read-only check before it is sent; results come back as Arrow
batches, streamed by `read_batches`.
"""

from __future__ import annotations

import difflib
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from engine.connectors.snowflake_config import SnowflakeSettings, settings_from
from engine.connectors.snowflake_errors import connector_error, missing_schema
from engine.connectors.snowflake_sql import DIALECT, checked_query
from engine.connectors.snowflake_types import arrow_type, schema_of_description
from engine.connectors.sql_build import bound_select
from engine.errors import ConnectorError, MissingDependencyError, NotFoundError
from engine.ports import RowFilter

if TYPE_CHECKING:
    from snowflake.connector import SnowflakeConnection
    from snowflake.connector.cursor import SnowflakeCursor

# The session is gone (expired, or ended on the server; 290401 is an HTTP 401): a connector kept
# open for the process's lifetime logs in again and runs the statement once more.
_SESSION_GONE = {290401, 390104, 390111, 390112, 390114}


class SnowflakeConnector:
    dialect = DIALECT

    def __init__(self, connection_config: Mapping[str, Any]) -> None:
        self._config = dict(connection_config)
        self._settings: SnowflakeSettings | None = None
        self._conn: SnowflakeConnection | None = None
        self._lock = threading.Lock()
        self._tables: list[str] | None = None

    # connection ---------------------------------------------------------------------------------
    def _connection(self) -> SnowflakeConnection:
        with self._lock:
            if self._conn is None or self._conn.is_closed():
                self._conn = self._open()
            return self._conn

    def _open(self) -> SnowflakeConnection:
        connector = _driver()
        settings = self.settings
        session: dict[str, Any] = {"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False}
        if settings.query_timeout_seconds:
            session["STATEMENT_TIMEOUT_IN_SECONDS"] = settings.query_timeout_seconds
        try:
            conn: SnowflakeConnection = connector.connect(
                **settings.connect_args,
                paramstyle="qmark",
                session_parameters=session,
                # Snowflake checks at login that the database, schema and warehouse exist.
                validate_default_parameters=True,
                application="engine",
            )
        except connector.errors.Error as exc:
            raise connector_error(exc, settings, "login") from exc
        try:
            self._check_schema(conn, settings)
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _check_schema(conn: SnowflakeConnection, settings: SnowflakeSettings) -> None:
        """A login naming a schema that does not exist succeeds (the session simply has none),
        and listing its tables would answer an empty list instead of the mistake."""
        cursor = conn.cursor()
        try:
            cursor.execute(
                "SELECT COUNT(*) FROM INFORMATION_SCHEMA.SCHEMATA WHERE SCHEMA_NAME = ?",
                [settings.schema],
            )
            found = cursor.fetchone()
        except _driver().errors.Error as exc:
            raise connector_error(exc, settings, "login") from exc
        finally:
            cursor.close()
        if not found or not found[0]:
            raise ConnectorError(missing_schema(settings))

    @property
    def settings(self) -> SnowflakeSettings:
        """The checked connection_config (checked on first use, not on construction)."""
        if self._settings is None:
            self._settings = settings_from(self._config)
        return self._settings

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # catalogue ----------------------------------------------------------------------------------
    def list_tables(self) -> list[str]:
        if self._tables is None:
            self._tables = self._list_tables()
        return list(self._tables)

    def _list_tables(self) -> list[str]:
        rows = self._rows(
            "SELECT TABLE_NAME FROM INFORMATION_SCHEMA.TABLES WHERE TABLE_SCHEMA = ? "
            "ORDER BY TABLE_NAME",
            [self.settings.schema],
        )
        return [str(r[0]) for r in rows]

    def table_schema(self, table: str) -> pa.Schema:
        self._known(table)
        rows = self._rows(
            "SELECT COLUMN_NAME, DATA_TYPE, NUMERIC_PRECISION, NUMERIC_SCALE "
            "FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? "
            "ORDER BY ORDINAL_POSITION",
            [self.settings.schema, table],
        )
        return pa.schema([pa.field(str(n), arrow_type(str(t), p, s)) for n, t, p, s in rows])

    def _known(self, table: str) -> None:
        """Refuse a table that is not the schema's, looking again before refusing (a table may
        have been created since the last look)."""
        if table in self.list_tables():
            return
        self._tables = self._list_tables()
        if table in self._tables:
            return
        close = [t for t in self._tables if t.lower() == table.lower()] or (
            difflib.get_close_matches(table, self._tables, n=1)
        )
        hint = f" Did you mean '{close[0]}'? (names are case-sensitive)" if close else ""
        raise NotFoundError(
            f"Table '{table}' is not in schema '{self.settings.schema}' of this source.{hint} "
            f"Its tables: {', '.join(self._tables) or 'none'}."
        )

    # reads --------------------------------------------------------------------------------------
    def read_table(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        where: RowFilter | None = None,
        limit: int | None = None,
    ) -> pa.Table:
        sql, params = self._select(table, columns, where, limit)
        return self._run(sql, params)

    def read_batches(
        self, table: str, columns: Sequence[str] | None = None, batch_size: int = 50_000
    ) -> Iterator[pa.RecordBatch]:
        """Stream a table in Arrow record batches of at most `batch_size` rows."""
        sql, params = self._select(table, columns, None, None)
        cursor = self._execute(sql, params)
        try:
            for chunk in self._capped(self._fetched(cursor)):
                yield from chunk.to_batches(max_chunksize=batch_size)
        finally:
            cursor.close()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        settings = self.settings
        checked = checked_query(
            sql, self.list_tables(), settings.database, settings.schema, settings.max_rows
        )
        return self._run(checked, [_bindable(p) for p in params or []])

    def _select(
        self,
        table: str,
        columns: Sequence[str] | None,
        where: RowFilter | None,
        limit: int | None,
    ) -> tuple[str, list[Any]]:
        self._known(table)
        cap = self.settings.max_rows
        if cap is not None:
            limit = cap if limit is None else min(limit, cap)
        sql, bindings = bound_select(
            table, columns, where, limit, self.dialect, schema=self.settings.schema
        )
        return sql, [_bindable(b.value) for b in bindings]

    def _run(self, sql: str, params: list[Any]) -> pa.Table:
        cursor = self._execute(sql, params)
        try:
            chunks = list(self._capped(self._fetched(cursor)))
            if not chunks:
                return schema_of_description(cursor.description).empty_table()
            return pa.concat_tables(chunks) if len(chunks) > 1 else chunks[0]
        finally:
            cursor.close()

    def _capped(self, chunks: Iterator[pa.Table]) -> Iterator[pa.Table]:
        """At most `max_rows` rows, whatever the statement asked for."""
        left = self.settings.max_rows
        for chunk in chunks:
            if left is not None:
                if left <= 0:
                    return
                chunk = chunk.slice(0, left)
                left -= chunk.num_rows
            yield chunk

    def _fetched(self, cursor: SnowflakeCursor) -> Iterator[pa.Table]:
        try:
            yield from cursor.fetch_arrow_batches()
        except _driver().errors.Error as exc:
            raise connector_error(exc, self.settings, "read") from exc

    def _rows(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        cursor = self._execute(sql, params)
        try:
            return [tuple(r) for r in cursor.fetchall()]
        finally:
            cursor.close()

    def _execute(self, sql: str, params: list[Any], retry: bool = True) -> SnowflakeCursor:
        errors = _driver().errors
        cursor = self._connection().cursor()
        try:
            cursor.execute(sql, params or None, timeout=self.settings.query_timeout_seconds)
        except errors.Error as exc:
            cursor.close()
            if retry and getattr(exc, "errno", None) in _SESSION_GONE:
                self.close()
                return self._execute(sql, params, retry=False)
            raise connector_error(exc, self.settings, "query") from exc
        return cursor


def _driver() -> Any:
    try:
        import snowflake.connector
        import snowflake.connector.errors
    except ImportError:
        raise MissingDependencyError(
            "Snowflake sources need snowflake-connector-python, which is not installed. "
            "Install it with: pip install 'engine[snowflake]'"
        ) from None
    return snowflake.connector


def _bindable(value: Any) -> Any:
    """A value the driver can bind: numpy scalars (from pandas frames) as Python scalars."""
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return item()
    return value
