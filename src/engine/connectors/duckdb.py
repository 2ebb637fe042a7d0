"""The embedded default source: DuckDB over a database file and/or CSV and Parquet files.

`connection_config` takes `{"database": "<file.duckdb>"}` (opened read-only), and/or
`{"files": {"<table>": "<file.csv|file.parquet>"}}` (Parquet exposed as a view, CSV loaded
once into memory unless `"materialize_csv": false`). Every query
passes the read-only guard and may reference only the source's own tables.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from engine.connectors.sql_build import select_statement
from engine.connectors.sql_guard import render_read_only
from engine.errors import ConnectorError, NotFoundError, ValidationError
from engine.ports import RowFilter

_RECHECK_SECONDS = 1.0
_READERS = {".csv": "read_csv_auto", ".tsv": "read_csv_auto", ".parquet": "read_parquet"}


class DuckDBConnector:
    dialect = "duckdb"

    def __init__(self, connection_config: Mapping[str, Any]) -> None:
        self._config = dict(connection_config)
        self._conn: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._tables: list[str] = []
        self._signature: tuple[tuple[str, int, int], ...] = ()
        self._checked_at = time.monotonic()
        self._retired: list[duckdb.DuckDBPyConnection] = []

    @staticmethod
    def file_paths(connection_config: Mapping[str, Any]) -> list[tuple[str, Path]]:
        """(field, path) of every file a config would read, for the server's path policy."""
        paths = []
        if connection_config.get("database"):
            paths.append(("connection_config.database", Path(str(connection_config["database"]))))
        files = connection_config.get("files") or {}
        if isinstance(files, Mapping):
            paths += [(f"connection_config.files.{t}", Path(str(f))) for t, f in files.items()]
        return paths

    def _connection(self) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._conn is not None and self._files_changed():
                # CSV files are loaded once, and views read what the files were: a source kept
                # open (entity look-ups, table batches) must see a rewritten file. The old
                # connection is retired, not closed, so a read still running on it finishes;
                # the one retired before it (a second or more ago) is closed now.
                for retired in self._retired:
                    retired.close()
                self._retired = [self._conn]
                self._conn = None
            if self._conn is None:
                self._signature = self._file_signature()
                self._conn = self._open()
            return self._conn

    def _files_changed(self) -> bool:
        """Whether a file of the source changed since it was opened (checked once a second)."""
        now = time.monotonic()
        if now - self._checked_at < _RECHECK_SECONDS:
            return False
        self._checked_at = now
        return self._file_signature() != self._signature

    def _file_signature(self) -> tuple[tuple[str, int, int], ...]:
        signature = []
        for _, path in self.file_paths(self._config):
            try:
                status = path.expanduser().stat()
            except OSError:
                signature.append((str(path), -1, -1))
                continue
            signature.append((str(path), status.st_mtime_ns, status.st_size))
        return tuple(signature)

    def _open(self) -> duckdb.DuckDBPyConnection:
        database = self._config.get("database")
        files = self._config.get("files") or {}
        if not database and not files:
            raise ValidationError.for_field(
                "connection_config", "give 'database' (a .duckdb file) and/or 'files'"
            )
        if not isinstance(files, Mapping):
            raise ValidationError.for_field("connection_config.files", "must map table → path")
        conn = duckdb.connect(":memory:")
        try:
            if database:
                path = _existing(Path(str(database)), "connection_config.database")
                conn.execute("ATTACH ? AS source (READ_ONLY)", [str(path)])
                self._expose_database_tables(conn)
            materialize = bool(self._config.get("materialize_csv", True))
            for table, file in files.items():
                self._create_view(conn, str(table), Path(str(file)), materialize)
            self._tables = self._discover(conn)
        except duckdb.Error as exc:
            conn.close()
            raise ConnectorError(f"DuckDB could not open the source: {exc}") from exc
        except BaseException:
            conn.close()
            raise
        return conn

    @staticmethod
    def _expose_database_tables(conn: duckdb.DuckDBPyConnection) -> None:
        """Views in the in-memory catalog over the read-only file's tables, so queries name them
        plainly on any cursor (a cursor does not inherit the connection's search_path)."""
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_catalog = 'source' AND table_schema = 'main'"
        ).fetchall()
        for (name,) in rows:
            quoted = str(name).replace('"', '""')
            conn.execute(
                f'CREATE VIEW memory.main."{quoted}" AS SELECT * FROM source.main."{quoted}"'
            )

    @staticmethod
    def _create_view(
        conn: duckdb.DuckDBPyConnection, table: str, file: Path, materialize: bool
    ) -> None:
        """Expose a file as a table. CSV is parsed once into memory (re-parsing it for every
        look-up costs ~100 ms on a 1 MB file) unless `materialize_csv` is false."""
        path = _existing(file, f"connection_config.files.{table}")
        reader = _READERS.get(path.suffix.lower())
        if reader is None:
            raise ValidationError.for_field(
                f"connection_config.files.{table}", "only .csv, .tsv and .parquet files are read"
            )
        quoted = table.replace('"', '""')
        literal = str(path).replace("'", "''")
        kind = "TABLE" if materialize and reader == "read_csv_auto" else "VIEW"
        conn.execute(
            f"CREATE {kind} memory.main.\"{quoted}\" AS SELECT * FROM {reader}('{literal}')"
        )

    @staticmethod
    def _discover(conn: duckdb.DuckDBPyConnection) -> list[str]:
        rows = conn.execute(
            "SELECT DISTINCT table_name FROM information_schema.tables "
            "WHERE table_catalog = 'memory' AND table_schema = 'main' ORDER BY table_name"
        ).fetchall()
        return [str(r[0]) for r in rows]

    def list_tables(self) -> list[str]:
        self._connection()
        return list(self._tables)

    def table_schema(self, table: str) -> pa.Schema:
        return self.read_table(table, limit=0).schema

    def read_table(
        self,
        table: str,
        columns: Sequence[str] | None = None,
        where: RowFilter | None = None,
        limit: int | None = None,
    ) -> pa.Table:
        if table not in self.list_tables():
            raise NotFoundError(f"Table '{table}' is not in this source; it has: {self._tables}")
        sql, params = select_statement(table, columns, where, limit, self.dialect)
        return self._run(sql, params)

    def read_batches(
        self, table: str, columns: Sequence[str] | None = None, batch_size: int = 50_000
    ) -> Iterator[pa.RecordBatch]:
        """Stream a table in Arrow record batches, without holding it whole in memory."""
        if table not in self.list_tables():
            raise NotFoundError(f"Table '{table}' is not in this source; it has: {self._tables}")
        sql, params = select_statement(table, columns, None, None, self.dialect)
        cursor = self._connection().cursor()
        try:
            yield from cursor.sql(sql, params=params or None).to_arrow_reader(batch_size=batch_size)
        except duckdb.Error as exc:
            raise ConnectorError(f"DuckDB query failed: {exc}") from exc
        finally:
            cursor.close()

    def query(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        checked = render_read_only(sql, self.dialect, self.list_tables())
        return self._run(checked, list(params or []))

    def _run(self, sql: str, params: list[Any]) -> pa.Table:
        cursor = self._connection().cursor()
        try:
            result: pa.Table = cursor.sql(sql, params=params or None).to_arrow_table()
            return result
        except duckdb.Error as exc:
            raise ConnectorError(f"DuckDB query failed: {exc}") from exc
        finally:
            cursor.close()

    def close(self) -> None:
        with self._lock:
            for conn in [*self._retired, *([self._conn] if self._conn is not None else [])]:
                conn.close()
            self._retired.clear()
            self._conn = None


def _existing(path: Path, field: str) -> Path:
    resolved = path.expanduser().resolve()
    if not resolved.is_file():
        raise ValidationError.for_field(field, f"no such file: {path}")
    return resolved
