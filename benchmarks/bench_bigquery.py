"""What the BigQuery connector costs over the client library: a table of 20 columns of mixed
types (8 INT64, 6 FLOAT64, 4 STRING, a BOOL, a TIMESTAMP) read into pandas through
`BigQueryConnector.read_table(...).to_pandas()`, beside the library's own fastest documented
path on the same server, `client.list_rows(table).to_arrow(bqstorage_client=...)` (then
`.to_pandas()`), and its `.to_dataframe(bqstorage_client=...)`. The paths are measured in
alternating rounds in one run (every other round in reverse order), so the machine's noise
falls on all alike; the medians are compared. Target: the connector within 1.2× of
`list_rows(...).to_arrow(...).to_pandas()`.

The server is bqemulator (started from the tests' launcher on loopback ports), read through its
Storage Read gRPC port as BigQuery's Storage Read API would be; the absolute times are the
emulator's, the ratio is the connector's overhead. The table is loaded with the real
`load_table_from_dataframe` (4–9 s for the full 1M rows here, so nothing is scaled down);
one full read takes 1–2 s, so the default is 8 rounds after one warm-up read per path.

Run: python benchmarks/bench_bigquery.py [--rows N] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' emulator helpers, from this checkout

from engine.connectors.bigquery import BigQueryConnector  # noqa: E402
from tests.warehouses.emulator_process import LAUNCHERS, start_launcher, stop  # noqa: E402

PROJECT, DATASET, TABLE = "bench-project", "bench", "wide"


def load_wide_table(client: Any, rows: int) -> None:
    """The table, loaded from pandas with the client library's `load_table_from_dataframe`."""
    from google.cloud import bigquery

    rng = np.random.default_rng(0)
    frame = pd.DataFrame({f"int_{i}": rng.integers(0, 1_000_000, rows) for i in range(8)})
    for i in range(6):
        frame[f"float_{i}"] = rng.random(rows)
    words = np.array(["alpha", "bravo", "charlie", "delta"], dtype=object)
    for i in range(4):
        frame[f"text_{i}"] = words[rng.integers(0, 4, rows)]
    frame["flag"] = rng.random(rows) < 0.5
    frame["seen_at"] = pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(
        np.arange(rows), unit="s"
    )
    config = bigquery.LoadJobConfig(write_disposition="WRITE_TRUNCATE")
    client.load_table_from_dataframe(frame, f"{DATASET}.{TABLE}", job_config=config).result()


def seconds(call: Callable[[], pd.DataFrame], rows: int) -> float:
    start = time.perf_counter()
    frame = call()
    elapsed = time.perf_counter() - start
    assert frame.shape == (rows, 20), frame.shape
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=8)
    args = parser.parse_args()
    # The client library's notices about a future pandas-gbq dependency.
    warnings.filterwarnings("ignore", message=".*pandas.gbq")
    import grpc
    from google.api_core.client_options import ClientOptions
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery, bigquery_storage_v1
    from google.cloud.bigquery_storage_v1.services.big_query_read.transports import (
        BigQueryReadGrpcTransport,
    )

    proc, ready = start_launcher(
        [sys.executable, str(LAUNCHERS / "bqemu_launch.py"), "--project", PROJECT],
        r"BQEMU_READY rest=(\d+) grpc=(\d+)",
    )
    rest, grpc_address = f"http://127.0.0.1:{ready[1]}", f"127.0.0.1:{ready[2]}"
    try:
        client = bigquery.Client(
            project=PROJECT,
            credentials=AnonymousCredentials(),
            client_options=ClientOptions(api_endpoint=rest),
        )
        channel = grpc.insecure_channel(
            grpc_address, options=[("grpc.max_receive_message_length", 512 * 1024 * 1024)]
        )
        storage = bigquery_storage_v1.BigQueryReadClient(
            transport=BigQueryReadGrpcTransport(channel=channel)
        )
        client.create_dataset(DATASET)
        started = time.perf_counter()
        load_wide_table(client, args.rows)
        loaded = time.perf_counter() - started
        config = {
            "project": PROJECT,
            "dataset": DATASET,
            "api_endpoint": rest,
            "storage_api_endpoint": grpc_address,
        }
        connector = BigQueryConnector(config)
        table = client.get_table(f"{DATASET}.{TABLE}")
        paths: dict[str, Callable[[], pd.DataFrame]] = {
            "connector read_table().to_pandas()": lambda: connector.read_table(TABLE).to_pandas(),
            "list_rows().to_arrow(bqstorage).to_pandas()": lambda: (
                client.list_rows(table).to_arrow(bqstorage_client=storage).to_pandas()
            ),
            "list_rows().to_dataframe(bqstorage)": lambda: client.list_rows(table).to_dataframe(
                bqstorage_client=storage
            ),
        }
        for call in paths.values():  # warm-up: connections, the table's metadata
            seconds(call, args.rows)
        times: dict[str, list[float]] = {name: [] for name in paths}
        for round_ in range(args.rounds):
            # Every other round in reverse, so no path always follows the same one.
            order = list(paths) if round_ % 2 == 0 else list(reversed(paths))
            for name in order:
                times[name].append(seconds(paths[name], args.rows))
        connector.close()
        client.close()
    finally:
        stop(proc)
    medians = {name: statistics.median(t) for name, t in times.items()}
    baseline = medians["list_rows().to_arrow(bqstorage).to_pandas()"]
    report = {
        "rows": args.rows,
        "columns": 20,
        "load_seconds": round(loaded, 2),
        "rounds": args.rounds,
        "median_seconds": {name: round(m, 3) for name, m in medians.items()},
        "connector_over_to_arrow": round(
            medians["connector read_table().to_pandas()"] / baseline, 3
        ),
        "connector_over_to_dataframe": round(
            medians["connector read_table().to_pandas()"]
            / medians["list_rows().to_dataframe(bqstorage)"],
            3,
        ),
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
