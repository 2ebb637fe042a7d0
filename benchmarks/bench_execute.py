"""Execution speed of the engine against xgboost itself, measured in one run on one model.

Single: p50/p99 of in-process `Engine.execute` (probability + interval + top-5 key factors) beside
xgboost's own single-row `XGBClassifier.predict_proba` on the same booster and encoded row.
Batch: rows/s of `Engine.score_frame` (probability, interval, risk level) beside the booster's
`inplace_predict` on the already-encoded matrix. Ratios matter, not absolute times: the machines
are shared. Run: python benchmarks/bench_execute.py [--single N] [--batch-rows N]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import xgboost

from engine import Engine, Settings, demo

COMPANY = "bench"


def timings(call: Callable[[], object], repeat: int, warmup: int = 200) -> np.ndarray:
    for _ in range(warmup):
        call()
    out = np.empty(repeat)
    for i in range(repeat):
        start = time.perf_counter()
        call()
        out[i] = time.perf_counter() - start
    return out * 1000.0


def throughput(call: Callable[[], object], rows: int, rounds: int = 5) -> float:
    call()
    best = min(_once(call) for _ in range(rounds))
    return rows / best


def _once(call: Callable[[], object]) -> float:
    start = time.perf_counter()
    call()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--single", type=int, default=3000)
    parser.add_argument("--batch-rows", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as home, Engine.open(Settings.for_home(home)) as engine:
        source = engine.connect_source(COMPANY, demo.source_body())
        asset = engine.create_asset(COMPANY, demo.asset_body(source["source_id"], ["xgboost"]))
        asset_id = asset["asset_id"]
        trained = engine.train(COMPANY, asset_id)
        frame = pd.read_csv(demo.DATA)
        record = frame.iloc[0][demo.FEATURES].to_dict()
        request = {"input_data": record, "parameters": {"max_key_factors": 5}}

        model, _ = engine.context.models.get(asset_id, trained["model_version"])
        encoded_row = model.encoder.encode_frame(frame.iloc[:1])
        classifier = xgboost.XGBClassifier()
        classifier.load_model(
            str(Path(home) / "models" / asset_id / trained["model_version"] / "model.ubj")
        )

        engine_ms = timings(lambda: engine.execute(COMPANY, asset_id, request), args.single)
        xgb_ms = timings(lambda: classifier.predict_proba(encoded_row), args.single)

        big = pd.concat([frame] * (args.batch_rows // len(frame) + 1), ignore_index=True).iloc[
            : args.batch_rows
        ]
        matrix = model.encoder.encode_frame(big)
        booster = classifier.get_booster()
        engine_rows = throughput(lambda: engine.score_frame(COMPANY, asset_id, big), len(big))
        inplace_rows = throughput(lambda: booster.inplace_predict(matrix), len(big))
        records = [
            {"id": i, "input_data": r}
            for i, r in enumerate(big.iloc[:5000][demo.FEATURES].to_dict("records"))
        ]
        records_rows = throughput(
            lambda: engine.execute_batch(COMPANY, asset_id, records), len(records), rounds=2
        )

    report = {
        "single_execute_ms": {
            "p50": float(np.percentile(engine_ms, 50)),
            "p99": float(np.percentile(engine_ms, 99)),
        },
        "xgboost_predict_proba_ms": {
            "p50": float(np.percentile(xgb_ms, 50)),
            "p99": float(np.percentile(xgb_ms, 99)),
        },
        "single_p50_ratio_engine_over_xgboost": float(
            np.percentile(engine_ms, 50) / np.percentile(xgb_ms, 50)
        ),
        "batch_rows_per_s": {
            "engine_score_frame": engine_rows,
            "xgboost_inplace_predict": inplace_rows,
            "engine_execute_batch_records_with_key_factors": records_rows,
        },
        "batch_ratio_engine_over_inplace": engine_rows / inplace_rows,
        "targets": {"single_p50_ms": 1.0, "batch_ratio": 0.7},
    }
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
