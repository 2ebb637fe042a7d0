"""A batch's committed chunks, read back as JSON, CSV or Parquet."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

CHUNK_SIZE = 5000


def chunk_files(directory: Path) -> dict[int, Path]:
    """Committed chunks by index: JSON (records sent in the request) or Parquet (a table)."""
    chunks = directory / "chunks"
    if not chunks.is_dir():
        return {}
    return {
        int(p.stem): p
        for p in chunks.iterdir()
        if p.suffix in (".json", ".parquet") and p.stem.isdigit()
    }


def chunk_summary(path: Path) -> dict[str, int]:
    if path.suffix == ".json":
        summary: dict[str, int] = json.loads(path.read_text())["summary"]
        return summary
    import pyarrow.parquet as pq

    statuses = pq.read_table(path, columns=["status"]).column("status").to_pylist()
    failed = statuses.count("failed")
    return {"total": len(statuses), "successful": len(statuses) - failed, "failed": failed}


def _from_table_row(row: dict[str, Any]) -> dict[str, Any]:
    item: dict[str, Any] = {"id": row.pop("id"), "status": row.pop("status")}
    errors = row.pop("errors")
    if item["status"] == "failed":
        item["errors"] = [
            {"field": part.split(": ", 1)[0], "problem": part.split(": ", 1)[-1]}
            for part in errors.split("; ")
        ]
        return item
    lower, upper = row.pop("lower"), row.pop("upper")
    item["results"] = {**row, "confidence_interval": {"lower": lower, "upper": upper}}
    return item


def _records(directory: Path) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for _, path in sorted(chunk_files(directory).items()):
        if path.suffix == ".json":
            out.extend(json.loads(path.read_text())["results"])
        else:
            import pyarrow.parquet as pq

            out.extend(_from_table_row(r) for r in pq.read_table(path).to_pylist())
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
