"""What the usage ledger costs on the hot path: p50/p99 of in-process `Engine.execute` with the
ledger recording (and its writer thread charging and writing rows in the background, as in
production, with a priced asset and a free tier) beside the same calls with recording turned
off, in one run on one model. The two are measured in alternating rounds so that the machine's
noise falls on both alike. Target: the ledger costs at most 10% of the p50.

Run: python benchmarks/bench_ledger.py [--rounds N] [--calls N]
"""

from __future__ import annotations

import argparse
import json
import tempfile

import numpy as np
import pandas as pd

from bench_execute import timings  # this folder is on the path when run as a script
from engine import Engine, Settings, demo

COMPANY = "bench"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=500)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home, Engine.open(Settings.for_home(home)) as engine:
        source = engine.connect_source(COMPANY, demo.source_body())
        body = demo.asset_body(source["source_id"], ["xgboost"])
        body["pricing"] = {"price": 0.02, "free_tier": {"requests": 100, "period": "daily"}}
        asset_id = engine.create_asset(COMPANY, body)["asset_id"]
        engine.train(COMPANY, asset_id)
        frame = pd.read_csv(demo.DATA)
        records = frame[demo.FEATURES].iloc[:200].to_dict("records")
        customers = [f"customer-{i % 50}" for i in range(len(records))]
        counter = iter(range(10**9))

        def call() -> object:
            i = next(counter) % len(records)
            request = {"input_data": {**records[i], "customer_id": customers[i]}}
            return engine.execute(COMPANY, asset_id, request)

        log = engine.context.executions
        on: list[np.ndarray] = []
        off: list[np.ndarray] = []
        for _ in range(args.rounds):
            log.enabled = True
            on.append(timings(call, args.calls, warmup=50))
            log.enabled = False
            off.append(timings(call, args.calls, warmup=50))
        log.enabled = True
        log.flush()
        rows = engine.usage(COMPANY, asset_id)["totals"]["requests"]
        with_ledger, without = np.concatenate(on), np.concatenate(off)
        p50_on, p50_off = float(np.percentile(with_ledger, 50)), float(np.percentile(without, 50))
        print(
            json.dumps(
                {
                    "calls_each": len(with_ledger),
                    "ledger_rows_written": rows,
                    "p50_ms": {"ledger_on": round(p50_on, 4), "ledger_off": round(p50_off, 4)},
                    "p99_ms": {
                        "ledger_on": round(float(np.percentile(with_ledger, 99)), 4),
                        "ledger_off": round(float(np.percentile(without, 99)), 4),
                    },
                    "p50_cost": round(p50_on / p50_off - 1, 4),
                    "target_cost": 0.10,
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
