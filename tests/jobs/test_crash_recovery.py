"""A server killed with SIGKILL mid-training and mid-batch, then restarted: the training job is
failed with its reason and no version appears; the batch resumes after its committed chunks and
completes; the store stays readable throughout."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from engine import Engine, Settings, demo
from engine.service import keys
from engine.service.batch_results import CHUNK_SIZE, chunk_files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(home: Path) -> Iterator[tuple[subprocess.Popen[bytes], str]]:
    port = free_port()
    env = {
        **os.environ,
        "ENGINE_HOME": str(home),
        "ENGINE_JOB_MODE": "thread",
        "ENGINE_RATE_LIMIT_PER_MINUTE": "1000000",
        "ENGINE_MAX_BODY_BYTES": str(64 << 20),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "engine", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(base + "/openapi.json")
            break
        except httpx.TransportError:
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.2)
    try:
        yield process, base
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=30)


def wait_until(check: Callable[[], Any], timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.1)
    return value


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str, str]]:
    root = tmp_path_factory.mktemp("crash") / "home"
    (root / "data").mkdir(parents=True)
    csv = root / "data" / "customers.csv"
    shutil.copy(demo.DATA, csv)
    with Engine.open(Settings.for_home(root)) as engine:
        source = engine.connect_source(
            "acme", {**demo.source_body(), "connection_config": {"files": {"customers": str(csv)}}}
        )
        asset_id = engine.create_asset(
            "acme", demo.asset_body(source["source_id"], ["logistic_regression"])
        )["asset_id"]
        engine.train("acme", asset_id)
        key = keys.create_key(engine.context, "acme")["api_key"]
    return root, asset_id, key


def test_training_killed_mid_way_is_failed_with_its_reason_after_restart(
    home: tuple[Path, str, str],
) -> None:
    root, asset_id, key = home
    headers = {"X-API-Key": key}
    slow = {
        "training_config": {
            "algorithm": "random_forest",
            "hyperparameters": {"n_estimators": 400},
            "cross_validation_folds": 10,
        }
    }
    with server(root) as (process, base):
        job = httpx.post(
            f"{base}/analytics/assets/{asset_id}/train", json=slow, headers=headers
        ).json()["data"]
        url = f"{base}/analytics/training-jobs/{job['training_job_id']}"
        wait_until(
            lambda: (
                httpx.get(url, headers=headers).json()["data"]["progress"]["steps_completed"] >= 2
            )
        )
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    with server(root) as (_, base):
        url = f"{base}/analytics/training-jobs/{job['training_job_id']}"
        status = wait_until(
            lambda: (
                (s := httpx.get(url, headers=headers).json()["data"])["status"] == "failed" and s
            )
        )
        assert "stopped during training" in status["error"]
        versions = httpx.get(f"{base}/analytics/assets/{asset_id}/versions", headers=headers).json()
        assert [v["version"] for v in versions["data"]] == ["1.0.0"]
        assert versions["meta"]["current_version"] == "1.0.0"
    assert sorted(
        p.name for p in (root / "models" / asset_id).iterdir() if not p.name.startswith(".")
    ) == ["1.0.0"]


def test_batch_killed_mid_way_resumes_after_its_committed_chunks(
    home: tuple[Path, str, str], telco_frame: pd.DataFrame
) -> None:
    root, asset_id, key = home
    headers = {"X-API-Key": key}
    rows = telco_frame[demo.FEATURES].head(1000).to_dict("records")
    records = [{"id": i, "input_data": rows[i % len(rows)]} for i in range(CHUNK_SIZE * 8)]
    records[7]["input_data"] = {**records[7]["input_data"], "tenure": "seven"}
    with server(root) as (process, base):
        response = httpx.post(
            f"{base}/analytics/assets/{asset_id}/batch-execute",
            json={"batch_data": records},
            headers=headers,
            timeout=120,
        )
        assert response.status_code == 202, response.text[:500]
        batch = response.json()["data"]
        directory = root / "jobs" / batch["batch_id"]
        wait_until(lambda: len(chunk_files(directory)) >= 2)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
    committed_before = {i: p.stat().st_mtime_ns for i, p in chunk_files(directory).items()}
    assert 2 <= len(committed_before) < 8
    with server(root) as (_, base):
        url = f"{base}/analytics/batches/{batch['batch_id']}/status"
        status = wait_until(
            lambda: (
                (s := httpx.get(url, headers=headers).json()["data"])["status"] == "completed" and s
            )
        )
        assert status["progress"]["processed_records"] == CHUNK_SIZE * 8
        assert status["progress"]["failed_records"] == 1
        results = httpx.get(status["results_url"], headers=headers, timeout=120).json()["data"][
            "results"
        ]
    assert [r["id"] for r in results] == list(range(CHUNK_SIZE * 8))
    assert results[7]["status"] == "failed"
    after = chunk_files(directory)
    assert sorted(after) == list(range(8))
    assert all(after[i].stat().st_mtime_ns == mtime for i, mtime in committed_before.items())
