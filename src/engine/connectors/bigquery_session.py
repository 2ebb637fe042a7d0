"""The open clients of one BigQuery source, and the calls every read makes through them.

Rows come through the Storage Read API as Arrow. When it cannot be used (its package is not
installed, no endpoint is given beside an `http://` REST endpoint, the endpoint does not answer,
or the credentials may not open read sessions), rows come through REST pages instead, which is
several times slower; that is logged once per dataset.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from engine.connectors import bigquery_clients as clients
from engine.connectors.bigquery_errors import (
    driver_errors,
    retryable,
    storage_unavailable,
    translate,
)
from engine.errors import EngineError

if TYPE_CHECKING:
    from google.cloud import bigquery, bigquery_storage_v1
    from google.cloud.bigquery.table import RowIterator

_log = logging.getLogger("engine.connectors.bigquery")
_told_rest_only: set[str] = set()

# A table's metadata is looked up once a minute at most: look-ups on the hot path need its
# column types to type their parameters.
_TABLE_SECONDS = 60.0
# Up to this many rows, a result comes in REST pages: opening a read session costs more.
SMALL_RESULT_ROWS = 1_000


class BigQuerySession:
    def __init__(self, settings: clients.BigQuerySettings) -> None:
        self.settings = settings
        self._credentials = clients.credentials(settings)
        self._lock = threading.Lock()
        self._client: bigquery.Client | None = None
        self._storage: bigquery_storage_v1.BigQueryReadClient | None = None
        self._storage_opened = False
        self._dataset_checked = False
        self._tables: dict[str, tuple[float, bigquery.Table]] = {}
        self._errors = driver_errors()

    def rest(self) -> bigquery.Client:
        with self._lock:
            if self._client is None:
                self._client = clients.rest_client(self.settings, self._credentials)
            client = self._client
        if not self._dataset_checked:
            self._check_dataset(client)
        return client

    def _check_dataset(self, client: bigquery.Client) -> None:
        """A missing dataset named as such (a bare table listing may just come back empty).
        Lacking the right to read the dataset's own metadata does not stop table reads."""
        from google.api_core.exceptions import Forbidden

        with self.translated(), contextlib.suppress(Forbidden):
            client.get_dataset(self.dataset_ref(), retry=self.retry(), timeout=self.timeout())
        self._dataset_checked = True

    def _storage_client(self) -> bigquery_storage_v1.BigQueryReadClient | None:
        """The Storage Read client, opened at the first read that can use it."""
        with self._lock:
            if not self._storage_opened:
                self._storage_opened = True
                try:
                    self._storage, reason = clients.storage_client(self.settings, self._credentials)
                except self._errors as exc:
                    self._storage, reason = None, translate(exc, self.settings).message
                if self._storage is None:
                    self._rest_only(reason)
            return self._storage

    def _rest_only(self, reason: str) -> None:
        self._storage = None
        key = f"{self.settings.api_endpoint or ''}/{self.settings.dataset_path}"
        if key not in _told_rest_only:
            _told_rest_only.add(key)
            _log.warning(
                "BigQuery %s: the Storage Read API is not available (%s); reading rows through "
                "REST pages instead, which is several times slower",
                self.settings.dataset_path,
                reason,
            )

    def retry(self) -> Any:
        from google.api_core.retry import Retry

        return Retry(predicate=retryable, timeout=self.timeout())

    def timeout(self) -> float:
        return self.settings.call_timeout_seconds

    def dataset_ref(self) -> bigquery.DatasetReference:
        from google.cloud import bigquery

        return bigquery.DatasetReference(self.settings.project, self.settings.dataset)

    @contextlib.contextmanager
    def translated(self, table: str | None = None) -> Iterator[None]:
        try:
            yield
        except EngineError:
            raise
        except self._errors as exc:
            raise translate(exc, self.settings, table) from exc

    def list_tables(self) -> list[str]:
        client = self.rest()
        with self.translated():
            listed = client.list_tables(
                self.dataset_ref(), retry=self.retry(), timeout=self.timeout()
            )
            return sorted(str(t.table_id) for t in listed)

    def table(self, table: str) -> bigquery.Table:
        cached = self._tables.get(table)
        if cached is not None and time.monotonic() - cached[0] < _TABLE_SECONDS:
            return cached[1]
        client = self.rest()
        with self.translated(table):
            found = client.get_table(
                self.dataset_ref().table(table), retry=self.retry(), timeout=self.timeout()
            )
        self._tables[table] = (time.monotonic(), found)
        return found

    def run_query(self, sql: str, parameters: list[Any], table: str | None) -> RowIterator:
        """Run a query job to completion; cancel it when it overruns the timeout."""
        from google.cloud import bigquery

        timeout = self.settings.query_timeout_seconds
        config = bigquery.QueryJobConfig(
            default_dataset=self.dataset_ref(),
            query_parameters=parameters,
            job_timeout_ms=int(timeout * 1000),
        )
        client = self.rest()
        with self.translated(table):
            job = client.query(sql, job_config=config, retry=self.retry(), timeout=self.timeout())
            try:
                return job.result(retry=self.retry(), timeout=timeout)
            except concurrent.futures.TimeoutError:
                with contextlib.suppress(*self._errors):
                    job.cancel(retry=self.retry(), timeout=self.timeout())
                raise

    def list_rows(self, meta: bigquery.Table, fields: list[Any], page: int | None) -> RowIterator:
        """A whole-table read, without a query job; `page` rows as one REST page."""
        return self.rest().list_rows(
            meta,
            selected_fields=fields,
            max_results=page,
            retry=self.retry(),
            timeout=self.timeout(),
        )

    def batches(
        self,
        rows: Callable[[], RowIterator],
        table: str | None,
        schema: list[Any],
        storage: bool = True,
    ) -> Iterator[pa.RecordBatch]:
        """Record batches of `rows()`: a small result from REST pages (a read session would
        cost more than it saves), a larger one through the Storage Read API. `schema` receives
        the result's BigQuery schema. A Storage Read failure found before the first batch asks
        for the rows again, through REST."""
        with self.translated(table):
            iterator = rows()
        schema[:] = iterator.schema
        small = iterator.total_rows is not None and iterator.total_rows <= SMALL_RESULT_ROWS
        reader = self._storage_client() if storage and not small else None
        if reader is not None:
            started = False
            try:
                for batch in iterator.to_arrow_iterable(bqstorage_client=reader):
                    started = True
                    yield batch
                return
            except self._errors as exc:
                if started or not storage_unavailable(exc):
                    raise translate(exc, self.settings, table) from exc
                with self._lock:
                    self._rest_only(translate(exc, self.settings, table).message)
            with self.translated(table):
                iterator = rows()
        with self.translated(table):
            yield from iterator.to_arrow_iterable()

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.close()  # type: ignore[no-untyped-call]
                self._client = None
            if self._storage is not None:
                self._storage.transport.close()  # type: ignore[no-untyped-call]
                self._storage = None
            self._storage_opened = False
