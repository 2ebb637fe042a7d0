"""The job path measured against in-process work, in one run.

1. Batch throughput: a batch job over a DuckDB table of N rows (default 1M) — streamed, scored,
   committed chunk by chunk — beside `Engine.score_frame` on the same rows already in memory.
   Target: the job path at least 0.8x the in-process rows/s.
2. Execution latency while training: p50/p99 of single executions with no job running, then while
   a training job runs in a worker process.
Run: python benchmarks/bench_jobs.py [--rows N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from engine import Engine, Settings, demo

COMPANY = "bench"


def prepare(root: Path, rows: int) -> Path:
    database = root / "warehouse.duckdb"
    frame = pd.read_csv(demo.DATA)  # noqa: F841 - read by DuckDB's replacement scan below
    with duckdb.connect(str(database)) as conn:
        conn.execute("CREATE TABLE customers AS SELECT * FROM frame")
        repeats = rows // len(pd.read_csv(demo.DATA)) + 1
        conn.execute(
            f"CREATE TABLE scoring AS SELECT c.* FROM customers c, range({repeats}) LIMIT {rows}"
        )
    return database


def latencies(
    engine: Engine, asset_id: str, request: dict[str, object], seconds: float
) -> np.ndarray:
    out = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        start = time.perf_counter()
        engine.execute(COMPANY, asset_id, request)
        out.append(time.perf_counter() - start)
    return np.asarray(out) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        database = prepare(root, args.rows)
        with Engine.open(Settings.for_home(root / "home")) as engine:
            source = engine.connect_source(
                COMPANY,
                {
                    "name": "warehouse",
                    "type": "duckdb",
                    "connection_config": {"database": str(database)},
                },
            )
            body = demo.asset_body(source["source_id"], ["xgboost"])
            body["data_sources"][0]["tables"] = ["customers", "scoring"]  # type: ignore[index]
            body["configuration"]["table"] = "customers"  # type: ignore[index]
            asset_id = engine.create_asset(COMPANY, body)["asset_id"]
            engine.train(COMPANY, asset_id)

            start = time.perf_counter()
            batch_id = engine.run_batch(COMPANY, asset_id, {"source_table": {"table": "scoring"}})[
                "batch_id"
            ]
            while (status := engine.batch_status(COMPANY, batch_id))["status"] not in (
                "completed",
                "failed",
            ):
                time.sleep(0.02)
            job_rows = status["progress"]["processed_records"] / (time.perf_counter() - start)

            with duckdb.connect(str(database), read_only=True) as conn:
                frame = conn.sql("SELECT * FROM scoring").df()
            start = time.perf_counter()
            engine.score_frame(COMPANY, asset_id, frame)
            in_process_rows = len(frame) / (time.perf_counter() - start)
            del frame

            request = {"input_data": pd.read_csv(demo.DATA).iloc[0][demo.FEATURES].to_dict()}
            latencies(engine, asset_id, request, 1.0)
            idle = latencies(engine, asset_id, request, 5.0)
            heavy = {
                "training_config": {
                    "algorithm": "random_forest",
                    "hyperparameters": {"n_estimators": 300},
                    "cross_validation_folds": 5,
                }
            }
            job = engine.submit_training(COMPANY, asset_id, heavy)
            while engine.training_job(COMPANY, job["training_job_id"])["status"] == "queued":
                time.sleep(0.05)
            busy = latencies(engine, asset_id, request, 5.0)
            training_status = engine.training_job(COMPANY, job["training_job_id"])["status"]
    print(
        json.dumps(
            {
                "rows": args.rows,
                "batch_job_rows_per_s": job_rows,
                "in_process_score_frame_rows_per_s": in_process_rows,
                "job_over_in_process": job_rows / in_process_rows,
                "target_ratio": 0.8,
                "execute_ms_idle": {
                    "p50": float(np.percentile(idle, 50)),
                    "p99": float(np.percentile(idle, 99)),
                },
                "execute_ms_while_training": {
                    "p50": float(np.percentile(busy, 50)),
                    "p99": float(np.percentile(busy, 99)),
                },
                "training_still_running_at_end_of_measurement": training_status == "running",
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
