"""Batches over a whole source table: streamed from the connector in Arrow batches, scored
column-wise (no per-record Python), each chunk committed as a Parquet file."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from sqlglot import exp

from engine.errors import ValidationError
from engine.service import execution
from engine.service.context import Context
from engine.service.sources import cached_connector

TABLE_CHUNK_ROWS = 100_000


def table_rows(ctx: Context, company: str, asset_id: str, table: str) -> int:
    serve = execution.serving(ctx, company, asset_id)
    connector = cached_connector(ctx, company, serve.spec.data_sources[0].source_id)
    if table not in connector.list_tables():
        raise ValidationError.for_field(
            "source_table.table", f"'{table}' is not a table of the asset's source"
        )
    count = exp.select(exp.Count(this=exp.Star()).as_("n")).from_(exp.table_(table, quoted=True))
    counted = connector.query(count.sql(dialect=connector.dialect))
    return int(counted.column("n")[0].as_py())


def _stream(
    ctx: Context, company: str, serve: execution.Serving, table: str
) -> Iterator[pa.RecordBatch]:
    connector: Any = cached_connector(ctx, company, serve.spec.data_sources[0].source_id)
    entity = serve.config.entity_key
    columns = list(serve.resolver.features) + (
        [entity.column] if entity and entity.column not in serve.resolver.features else []
    )
    if hasattr(connector, "read_batches"):
        yield from connector.read_batches(table, columns, TABLE_CHUNK_ROWS)
    else:  # connectors without streaming: one read, sliced
        yield from connector.read_table(table, columns).to_batches(TABLE_CHUNK_ROWS)


_LEVELS = pa.array(execution.RISK_LEVELS)
_STATUSES = pa.array(["success", "failed"])


def _prefetched(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
    """Read the next batch from the source while the current one is scored (both release the
    GIL in their native code, so they overlap on two cores)."""
    with ThreadPoolExecutor(1) as reader:
        pending = reader.submit(next, batches, None)
        while (batch := pending.result()) is not None:
            pending = reader.submit(next, batches, None)
            yield batch


def score_chunk(serve: execution.Serving, batch: pa.RecordBatch, first_row: int) -> pa.Table:
    frame = batch.to_pandas()
    problems = serve.model.encoder.unreadable_rows(frame)
    p, lower, upper = serve.model.predict(serve.model.encoder.encode_frame(frame))
    failed = np.zeros(len(frame), dtype=bool)
    errors: list[str | None] = [None] * len(frame)
    for row, found in problems.items():
        failed[row] = True
        errors[row] = "; ".join(f"{f.field}: {f.problem}" for f in found)
    levels = serve.risk_codes(p)
    entity = serve.config.entity_key
    ids = (
        batch.column(entity.column).cast(pa.string())
        if entity
        else pa.array(np.arange(first_row, first_row + len(frame))).cast(pa.string())
    )
    missing = failed
    return pa.table(
        {
            "id": ids,
            "status": pa.DictionaryArray.from_arrays(pa.array(failed.astype(np.int8)), _STATUSES),
            serve.probability_field: pa.array(p, mask=missing),
            "risk_level": pa.DictionaryArray.from_arrays(pa.array(levels, mask=missing), _LEVELS),
            "lower": pa.array(lower, mask=missing),
            "upper": pa.array(upper, mask=missing),
            "errors": pa.array(errors, pa.string()),
        }
    )


def run_table(
    ctx: Context,
    company: str,
    asset_id: str,
    version: str,
    table: str,
    directory: Path,
    done: dict[int, Path],
    commit: Callable[[int, int, int], None],
    check: Callable[[], None],
    meter: Callable[[int, int, int, float], None] | None = None,
) -> None:
    """Score every chunk not committed yet; `commit(rows, ok, failed)` after each one, and
    `meter(chunk, rows, ok, milliseconds)` for the usage ledger."""
    serve = execution.serving(ctx, company, asset_id, version)
    first_row = 0
    for index, batch in enumerate(_prefetched(_stream(ctx, company, serve, table))):
        rows = batch.num_rows
        if index in done:
            first_row += rows
            continue
        check()
        started = time.perf_counter()
        scored = score_chunk(serve, batch, first_row)
        staged = directory / "chunks" / f".{index:06d}.parquet"
        pq.write_table(scored, staged)
        os.replace(staged, directory / "chunks" / f"{index:06d}.parquet")
        failed = int(
            np.sum(np.asarray(scored.column("status").to_numpy(zero_copy_only=False)) == "failed")
        )
        if meter is not None:
            meter(index, rows, rows - failed, (time.perf_counter() - started) * 1000)
        commit(rows, rows - failed, failed)
        first_row += rows
