"""What the Snowflake connector costs over the driver: a table of 1M rows × 20 columns of mixed
types (8 integer, 6 float, 4 text, a boolean, a timestamp) read into pandas through
`SnowflakeConnector.read_table(...).to_pandas()`, beside the driver's own fastest documented
paths on the same server, `cursor.execute("select * …").fetch_pandas_all()` and
`fetch_arrow_all().to_pandas()`. The three are measured in alternating rounds in one run, so the
machine's noise falls on all alike. Target: the connector within 1.2× of `fetch_pandas_all`.

The server is fakesnow (started from the tests' launcher on a loopback port), which answers a
query with one Arrow IPC message, base64-encoded inside the JSON response, where Snowflake
sends a first chunk inline and the rest as compressed Arrow files from cloud storage, fetched in
parallel. The absolute times are therefore fakesnow's; the ratio is the connector's overhead.
The table is generated on the server (see `create_wide_table`): loading 1M rows with the real
`write_pandas` would take over a minute. Each full read takes about 15 s on fakesnow, so the
default is 3 rounds after one warm-up read per path.

Run: python benchmarks/bench_snowflake.py [--rows N] [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the tests' emulator helpers, from this checkout

from engine.connectors.snowflake import SnowflakeConnector  # noqa: E402
from tests.warehouses.emulator_process import LAUNCHERS, start_launcher, stop  # noqa: E402

TABLE = "WIDE"


def create_wide_table(conn: Any, rows: int) -> None:
    """The table, generated on the server: about 1.5 s for 1M rows, where the real
    `write_pandas` into fakesnow took about 8 s per 100k rows of this shape here."""
    columns = [f"UNIFORM(0, 1000000, RANDOM()) AS INT_{i}" for i in range(8)]
    columns += [f"UNIFORM(0::FLOAT, 1::FLOAT, RANDOM()) AS FLOAT_{i}" for i in range(6)]
    words = " ".join(f"WHEN {i} THEN '{w}'" for i, w in enumerate(["alpha", "bravo", "charlie"]))
    columns += [
        f"CASE UNIFORM(0, 3, RANDOM()) {words} ELSE 'delta' END AS TEXT_{i}" for i in range(4)
    ]
    columns += [
        "UNIFORM(0, 1, RANDOM()) = 1 AS FLAG",
        "DATEADD(second, UNIFORM(0, 31536000, RANDOM()), '2024-01-01'::TIMESTAMP_NTZ) AS SEEN_AT",
    ]
    conn.cursor().execute(
        f"CREATE OR REPLACE TABLE {TABLE} AS SELECT {', '.join(columns)} "
        f"FROM TABLE(GENERATOR(ROWCOUNT => {int(rows)}))"
    )


def seconds(call: Callable[[], pd.DataFrame], rows: int) -> float:
    start = time.perf_counter()
    frame = call()
    elapsed = time.perf_counter() - start
    assert frame.shape == (rows, 20)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ["SNOWFLAKE_DISABLE_PLATFORM_DETECTION"] = "true"  # no cloud metadata probes
    import snowflake.connector

    proc, ready = start_launcher(
        [sys.executable, str(LAUNCHERS / "fakesnow_launch.py")], r"FAKESNOW_READY port=(\d+)"
    )
    config = {
        "account": "bench",
        "user": "bench",
        "password": "bench",
        "database": "BENCH",
        "schema": "PUBLIC",
        "host": "127.0.0.1",
        "port": int(ready.group(1)),
        "protocol": "http",
    }
    try:
        driver_args = {k: v for k, v in config.items() if k not in ("database", "schema")}
        setup = snowflake.connector.connect(
            **driver_args, session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False}
        )
        setup.cursor().execute("CREATE DATABASE IF NOT EXISTS BENCH")
        setup.cursor().execute("CREATE SCHEMA IF NOT EXISTS BENCH.PUBLIC")
        setup.close()
        client = snowflake.connector.connect(
            **config, session_parameters={"CLIENT_OUT_OF_BAND_TELEMETRY_ENABLED": False}
        )
        started = time.perf_counter()
        create_wide_table(client, args.rows)
        load_seconds = time.perf_counter() - started
        connector = SnowflakeConnector(config)
        paths: dict[str, Callable[[], pd.DataFrame]] = {
            "connector": lambda: connector.read_table(TABLE).to_pandas(),
            "fetch_pandas_all": lambda: (
                client.cursor().execute(f"select * from {TABLE}").fetch_pandas_all()
            ),
            "fetch_arrow_all": lambda: (
                client.cursor().execute(f"select * from {TABLE}").fetch_arrow_all().to_pandas()
            ),
        }
        times: dict[str, list[float]] = {name: [] for name in paths}
        for call in paths.values():  # warm-up: first logins, imports, caches
            seconds(call, args.rows)
        for _ in range(args.rounds):
            for name, call in paths.items():
                times[name].append(seconds(call, args.rows))
        connector.close()
        client.close()
    finally:
        stop(proc)
    median = {name: statistics.median(values) for name, values in times.items()}
    print(
        json.dumps(
            {
                "rows": args.rows,
                "columns": 20,
                "rounds": args.rounds,
                "load_seconds": round(load_seconds, 2),
                "median_seconds": {k: round(v, 3) for k, v in median.items()},
                "all_seconds": {k: [round(v, 3) for v in vs] for k, vs in times.items()},
                "ratio_connector_to_fetch_pandas_all": round(
                    median["connector"] / median["fetch_pandas_all"], 3
                ),
                "ratio_connector_to_fetch_arrow_all": round(
                    median["connector"] / median["fetch_arrow_all"], 3
                ),
                "target_ratio": 1.2,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
