"""HTTP execution speed of `python -m engine serve`, beside in-process execution, in one run.

Reports p50/p99 of POST /execute at concurrency 1 over one keep-alive connection, requests per
second at concurrency 32 (32 keep-alive connections), and the in-process `Engine.execute` p50 on
the same model. The load comes from wrk when it is installed (`apt-get install wrk`): a Python
client on the same two cores costs more CPU per request than the server and hides its speed;
without wrk, httpx is used and the figures are upper bounds on latency.
Run: python benchmarks/bench_http.py [--requests N] [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
import pandas as pd

from engine import Engine, Settings, demo
from engine.service import keys

COMPANY = "bench"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(home: Path) -> tuple[str, str, dict[str, object]]:
    (home / "data").mkdir(parents=True)
    csv = home / "data" / "customers.csv"
    shutil.copy(demo.DATA, csv)
    with Engine.open(Settings.for_home(home)) as engine:
        body = {**demo.source_body(), "connection_config": {"files": {"customers": str(csv)}}}
        source = engine.connect_source(COMPANY, body)
        asset_id = engine.create_asset(COMPANY, demo.asset_body(source["source_id"], ["xgboost"]))[
            "asset_id"
        ]
        engine.train(COMPANY, asset_id)
        key = keys.create_key(engine.context, COMPANY)["api_key"]
    record = pd.read_csv(demo.DATA).iloc[0][demo.FEATURES].to_dict()
    return asset_id, key, {"input_data": record, "parameters": {"max_key_factors": 5}}


def in_process_p50(home: Path, asset_id: str, request: dict[str, object], n: int) -> float:
    with Engine.open(Settings.for_home(home)) as engine:
        for _ in range(200):
            engine.execute(COMPANY, asset_id, request)
        times = []
        for _ in range(n):
            start = time.perf_counter()
            engine.execute(COMPANY, asset_id, request)
            times.append(time.perf_counter() - start)
    return float(np.percentile(times, 50) * 1000)


def sequential(url: str, key: str, request: dict[str, object], n: int) -> np.ndarray:
    with httpx.Client(headers={"X-API-Key": key}) as client:
        for _ in range(200):
            client.post(url, json=request).raise_for_status()
        times = np.empty(n)
        for i in range(n):
            start = time.perf_counter()
            client.post(url, json=request).raise_for_status()
            times[i] = time.perf_counter() - start
    return times * 1000


async def concurrent(url: str, key: str, request: dict[str, object], n: int, workers: int) -> float:
    limits = httpx.Limits(max_connections=workers, max_keepalive_connections=workers)
    async with httpx.AsyncClient(headers={"X-API-Key": key}, limits=limits) as client:

        async def worker(count: int) -> None:
            for _ in range(count):
                (await client.post(url, json=request)).raise_for_status()

        await asyncio.gather(*(worker(10) for _ in range(workers)))
        start = time.perf_counter()
        await asyncio.gather(*(worker(n // workers) for _ in range(workers)))
        return (n // workers) * workers / (time.perf_counter() - start)


def wrk(
    url: str, key: str, request: dict[str, object], connections: int, seconds: int
) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        body = json.dumps(json.dumps(request))
        script.write(
            f'wrk.method = "POST"\nwrk.body = {body}\n'
            f'wrk.headers["Content-Type"] = "application/json"\nwrk.headers["X-API-Key"] = "{key}"\n'
            "done = function(summary, latency, requests)\n"
            '  io.write(string.format("RESULT %f %f %f\\n", latency:percentile(50) / 1000, '
            "latency:percentile(99) / 1000, summary.requests / (summary.duration / 1e6)))\nend\n"
        )
    threads = min(2, connections)
    out = subprocess.run(
        ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", script.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    p50, p99, rps = (float(v) for v in out.split("RESULT ")[1].split())
    return {"p50": p50, "p99": p99, "rps": rps}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        asset_id, key, request = prepare(home)
        port = free_port()
        env = {**os.environ, "ENGINE_HOME": str(home), "ENGINE_RATE_LIMIT_PER_MINUTE": "100000000"}
        server = subprocess.Popen(
            [sys.executable, "-m", "engine", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            url = f"http://127.0.0.1:{port}/analytics/assets/{asset_id}/execute"
            deadline = time.monotonic() + 60
            while True:
                try:
                    httpx.get(f"http://127.0.0.1:{port}/openapi.json").raise_for_status()
                    break
                except httpx.HTTPError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            if shutil.which("wrk"):
                client = "wrk"
                wrk(url, key, request, 1, 2)  # warm-up
                one = wrk(url, key, request, 1, args.seconds)
                p50, p99 = one["p50"], one["p99"]
                rps = wrk(url, key, request, 32, args.seconds)["rps"]
            else:
                client = "httpx"
                single = sequential(url, key, request, args.requests)
                p50, p99 = float(np.percentile(single, 50)), float(np.percentile(single, 99))
                rps = asyncio.run(concurrent(url, key, request, args.requests, 32))
        finally:
            server.terminate()
            server.wait(timeout=20)
        in_process = in_process_p50(home, asset_id, request, args.requests)
    print(
        json.dumps(
            {
                "client": client,
                "http_execute_ms_concurrency_1": {"p50": p50, "p99": p99},
                "http_requests_per_second_concurrency_32": rps,
                "in_process_execute_p50_ms": in_process,
                "http_overhead_p50_ms": p50 - in_process,
                "target_http_p50_ms": 2.5,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
