"""Following, listing and cancelling jobs, from Python and from the CLI."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from engine import ConflictError, Engine, Settings
from engine.service.batch_results import CHUNK_SIZE, chunk_files
from tests.conftest import SMALL_FEATURES, asset_body


def wait_status(
    engine: Engine, batch_id: str, statuses: set[str], timeout: float = 120
) -> dict[str, object]:
    deadline = time.monotonic() + timeout
    while (status := engine.batch_status("acme", batch_id))["status"] not in statuses:
        assert time.monotonic() < deadline, status
        time.sleep(0.05)
    return status


@pytest.fixture
def thread_engine(tmp_path: Path, small_csv: Path) -> tuple[Engine, str]:
    settings = dataclasses.replace(
        Settings.for_home(tmp_path / "home"), job_mode="thread", batch_workers=1
    )
    engine = Engine.open(settings)
    source = engine.connect_source(
        "acme",
        {
            "name": "c",
            "type": "duckdb",
            "connection_config": {"files": {"customers": str(small_csv)}},
        },
    )
    asset_id = engine.create_asset("acme", asset_body(source["source_id"]))["asset_id"]
    engine.train("acme", asset_id)
    return engine, asset_id


def test_a_running_batch_stops_at_its_next_chunk_when_cancelled(
    thread_engine: tuple[Engine, str], telco_frame: pd.DataFrame
) -> None:
    engine, asset_id = thread_engine
    rows = telco_frame[SMALL_FEATURES].head(500).to_dict("records")
    records = [{"input_data": rows[i % len(rows)]} for i in range(CHUNK_SIZE * 12)]
    batch_id = engine.run_batch("acme", asset_id, {"batch_data": records})["batch_id"]
    directory = engine.context.settings.home / "jobs" / batch_id
    deadline = time.monotonic() + 120
    while not chunk_files(directory):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    assert engine.cancel_job("acme", batch_id)["status"] in {"cancelling", "cancelled"}
    status = wait_status(engine, batch_id, {"cancelled", "completed"})
    assert status["status"] == "cancelled"
    assert len(chunk_files(directory)) < 12
    with pytest.raises(ConflictError):
        engine.cancel_job("acme", batch_id)
    engine.close()


def test_jobs_are_listed_newest_first(thread_engine: tuple[Engine, str]) -> None:
    engine, asset_id = thread_engine
    batch_id = engine.run_batch("acme", asset_id, {"batch_data": [{"input_data": {}}]})["batch_id"]
    wait_status(engine, batch_id, {"completed"})
    jobs = engine.list_jobs("acme")
    assert [j["kind"] for j in jobs] == ["batch", "training"]
    assert engine.list_jobs("other") == []
    engine.close()


def test_cli_predict_batch_jobs_and_logs(
    thread_engine: tuple[Engine, str], tmp_path: Path, telco_frame: pd.DataFrame
) -> None:
    engine, asset_id = thread_engine
    home = engine.context.settings.home
    engine.close()
    inputs = tmp_path / "in.csv"
    frame = telco_frame[SMALL_FEATURES].head(30).astype(str)
    frame.loc[3, "tenure"] = "lots"
    frame.to_csv(inputs, index=False)
    env = {
        **os.environ,
        "ENGINE_HOME": str(home),
        "ENGINE_COMPANY": "acme",
        "ENGINE_JOB_MODE": "thread",
    }

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "engine", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    scored = cli("predict", asset_id, "--input", str(inputs), "--batch")
    assert scored.returncode == 0, scored.stderr
    batch = json.loads(scored.stdout)
    assert (batch["total_records"], batch["successful_records"], batch["failed_records"]) == (
        30,
        29,
        1,
    )
    listed = json.loads(cli("jobs", "list").stdout)
    assert [j["kind"] for j in listed] == ["batch", "training"]
    status = json.loads(cli("jobs", "status", batch["batch_id"]).stdout)
    assert status["status"] == "completed"
    logs = cli("jobs", "logs", listed[1]["job_id"])
    assert "[training]" in logs.stdout
    refused = cli("jobs", "cancel", batch["batch_id"])
    assert refused.returncode == 1
    assert "already ended" in refused.stderr


def test_a_batch_over_a_source_table_fails_bad_rows_alone(
    tmp_path: Path, telco_frame: pd.DataFrame
) -> None:
    import duckdb

    frame = telco_frame.iloc[:1500][["customerID", *SMALL_FEATURES, "Churn"]].astype(
        {"TotalCharges": str}
    )
    frame.loc[5, "TotalCharges"] = "n/a"
    database = tmp_path / "warehouse.duckdb"
    with duckdb.connect(str(database)) as conn:
        conn.execute("CREATE TABLE customers AS SELECT * FROM frame")
    settings = dataclasses.replace(Settings.for_home(tmp_path / "home"), job_mode="thread")
    with Engine.open(settings) as engine:
        source = engine.connect_source(
            "acme",
            {"name": "w", "type": "duckdb", "connection_config": {"database": str(database)}},
        )
        asset_id = engine.create_asset("acme", asset_body(source["source_id"]))["asset_id"]
        engine.train("acme", asset_id)
        batch_id = engine.run_batch("acme", asset_id, {"source_table": {"table": "customers"}})[
            "batch_id"
        ]
        status = wait_status(engine, batch_id, {"completed", "failed"})
        assert status["progress"] == {
            "total_records": 1500,
            "processed_records": 1500,
            "successful_records": 1499,
            "failed_records": 1,
            "percentage_complete": 100.0,
        }
        content, _ = engine.batch_results("acme", batch_id)
        assert isinstance(content, dict)
        failed = [r for r in content["results"] if r["status"] == "failed"]
        assert failed == [
            {
                "id": frame.loc[5, "customerID"],
                "status": "failed",
                "errors": [{"field": "TotalCharges", "problem": "expected a number, got 'n/a'"}],
            }
        ]
        parquet, media_type = engine.batch_results("acme", batch_id, "parquet")
        assert media_type == "application/vnd.apache.parquet"
        assert isinstance(parquet, bytes)
        assert parquet[:4] == b"PAR1"
