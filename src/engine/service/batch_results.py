"""A batch's committed chunks, read back as JSON, CSV or Parquet."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

CHUNK_SIZE = 5000


def chunk_files(directory: Path) -> dict[int, Path]:
    chunks = directory / "chunks"
    if not chunks.is_dir():
        return {}
    return {int(p.stem): p for p in chunks.glob("[0-9]*.json")}


def _records(directory: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for _, path in sorted(chunk_files(directory).items()):
        out.extend(json.loads(path.read_text())["results"])
    return out


def _flat(item: dict[str, Any]) -> dict[str, Any]:
    results = item.get("results", {})
    interval = results.get("confidence_interval") or {}
    probability = next((v for k, v in results.items() if k.endswith("_probability")), None)
    return {
        "id": str(item.get("id")),
        "status": item["status"],
        "customer_id": item.get("customer_id"),
        "probability": probability,
        "risk_level": results.get("risk_level"),
        "lower": interval.get("lower"),
        "upper": interval.get("upper"),
        "errors": "; ".join(f"{e['field']}: {e['problem']}" for e in item.get("errors", []))
        or None,
    }


def read_results(
    directory: Path, fmt: str, batch_id: str, asset_id: str, version: str | None, status: str
) -> tuple[bytes | dict[str, Any], str]:
    records = _records(directory)
    if fmt == "json":
        body = {
            "batch_id": batch_id,
            "asset_id": asset_id,
            "model_version": version,
            "status": status,
            "results": records,
        }
        return body, "application/json"
    import pyarrow as pa

    table = (
        pa.Table.from_pylist([_flat(r) for r in records])
        if records
        else pa.table({"id": pa.array([], pa.string())})
    )
    if fmt == "csv":
        import pyarrow.csv as pacsv

        sink = io.BytesIO()
        pacsv.write_csv(table, sink)
        return sink.getvalue(), "text/csv"
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue(), "application/vnd.apache.parquet"
