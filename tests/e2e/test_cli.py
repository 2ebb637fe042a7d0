"""End to end: `python -m engine …` in a subprocess, with its state in a temporary ENGINE_HOME."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine.demo import DATA

FEATURES = [
    "tenure",
    "MonthlyCharges",
    "TotalCharges",
    "Contract",
    "InternetService",
    "PaymentMethod",
    "PaperlessBilling",
]
RECORD = {
    "tenure": 3,
    "MonthlyCharges": 94.4,
    "TotalCharges": "283.2",
    "Contract": "Month-to-month",
    "InternetService": "Fiber optic",
    "PaymentMethod": "Electronic check",
    "PaperlessBilling": "Yes",
}
TIMEOUT = 120


def cli(
    home: Path, *args: str, stdin: str | None = None, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ENGINE_")}
    env["ENGINE_HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", "engine", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        check=False,
    )


def ok_json(result: subprocess.CompletedProcess[str]) -> Any:
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def one_line_error(result: subprocess.CompletedProcess[str], *, only: bool = True) -> str:
    """The error a failed command printed as the last line of stderr (its only line, unless a
    progress display came first), with no traceback."""
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines, "nothing on stderr"
    assert len(lines) == 1 or not only, result.stderr
    assert lines[-1].startswith("error: "), result.stderr
    return lines[-1]


def write_json(path: Path, data: Any) -> Path:
    path.write_text(json.dumps(data))
    return path


def make_workspace(root: Path) -> dict[str, Any]:
    """A small Telco CSV, a TOML source body and a JSON asset body under `root`."""
    frame = pd.read_csv(DATA, nrows=600, usecols=["customerID", *FEATURES, "Churn"])
    data = root / "customers.csv"
    frame.to_csv(data, index=False)
    source = root / "source.toml"
    source.write_text(
        'name = "Telco sample"\ntype = "duckdb"\n'
        'validation_query = "SELECT COUNT(*) FROM customers"\n'
        f"[connection_config.files]\ncustomers = {json.dumps(str(data))}\n"
    )
    return {
        "home": root / "home",
        "source": source,
        "customer": str(frame["customerID"].iloc[1]),
        "body": asset_body("telco_sample", ["logistic_regression"]),
    }


def asset_body(source_id: str, algorithms: list[str]) -> dict[str, Any]:
    return {
        "name": "Churn (sample)",
        "data_sources": [{"source_id": source_id, "tables": ["customers"]}],
        "configuration": {
            "model_type": "classification",
            "algorithms": algorithms,
            "features": FEATURES,
            "target_variable": "Churn",
            "cross_validation_folds": 3,
            "entity_key": {"field": "customer_id", "column": "customerID"},
        },
        "validation_rules": {"min_data_points": 100, "required_columns": ["customerID", "Churn"]},
    }


def connect_and_create(ws: dict[str, Any], root: Path) -> str:
    source = ok_json(cli(ws["home"], "sources", "connect", str(ws["source"])))
    assert source["source_id"] == "telco_sample"
    assert source["status"] == "connected"
    body = write_json(root / "asset.json", ws["body"])
    asset = ok_json(cli(ws["home"], "assets", "create", str(body)))
    assert (asset["status"], asset["version"]) == ("draft", "1.0.0")
    return str(asset["asset_id"])


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """A home with a connected source and a trained asset, shared by the error tests."""
    root = tmp_path_factory.mktemp("trained")
    ws = make_workspace(root)
    ws["asset"] = connect_and_create(ws, root)
    assert ok_json(cli(ws["home"], "train", ws["asset"]))["model_version"] == "1.0.0"
    return ws


@pytest.mark.parametrize(
    "command",
    [[], ["sources", "connect"], ["assets", "create"], ["train"], ["predict"]],
    ids=["top", "sources-connect", "assets-create", "train", "predict"],
)
def test_help(tmp_path: Path, command: list[str]) -> None:
    result = cli(tmp_path, *command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Usage: python -m engine")


def test_full_lifecycle(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    home = ws["home"]
    asset = connect_and_create(ws, tmp_path)

    result = cli(home, "train", asset)
    trained = ok_json(result)
    assert trained["model_version"] == "1.0.0"
    assert 0.5 < trained["model_performance"]["auc_roc"] <= 1.0
    assert trained["deployment_status"] == "successful"
    assert "training" in result.stderr
    assert "data_preparation" in result.stderr

    record = write_json(tmp_path / "record.json", RECORD)
    res = ok_json(cli(home, "predict", asset, "--input", str(record)))["results"]
    p = res["churn_probability"]
    assert 0.0 <= p <= 1.0
    assert res["confidence_interval"]["lower"] <= p <= res["confidence_interval"]["upper"]
    assert isinstance(res["key_factors"], list)
    assert res["key_factors"]

    lookup = json.dumps({"customer_id": ws["customer"]})
    by_key = ok_json(cli(home, "predict", asset, "--input", "-", stdin=lookup))
    assert by_key["customer_id"] == ws["customer"]
    assert 0.0 <= by_key["results"]["churn_probability"] <= 1.0

    batch = tmp_path / "batch.csv"
    rows = [RECORD, {**RECORD, "tenure": "abc"}, {**RECORD, "tenure": 40, "Contract": "Two year"}]
    pd.DataFrame(rows).to_csv(batch, index=False)
    result = cli(home, "predict", asset, "--input", str(batch), "--output-format", "csv")
    assert result.returncode == 0, result.stderr
    out = list(csv.DictReader(io.StringIO(result.stdout)))
    assert list(out[0])[:3] == ["id", "status", "churn_probability"]
    assert [r["status"] for r in out] == ["success", "failed", "success"]
    assert "tenure" in out[1]["errors"]
    assert all(0.0 <= float(out[i]["churn_probability"]) <= 1.0 for i in (0, 2))

    versions = ok_json(cli(home, "versions", asset))
    assert [(v["version"], v["status"]) for v in versions["data"]] == [("1.0.0", "active")]
    assert ok_json(cli(home, "assets", "list"))["meta"]["total"] == 1

    patch = write_json(tmp_path / "patch.json", {"configuration": {"performance_threshold": 0.6}})
    updated = ok_json(cli(home, "assets", "update", asset, str(patch)))
    assert updated["version"] == "1.1.0"
    assert updated["requires_retraining"] is False

    assert ok_json(cli(home, "train", asset))["model_version"] == "1.1.0"
    deployed = ok_json(cli(home, "deploy", asset, "1.0.0"))
    assert (deployed["version"], deployed["status"]) == ("1.0.0", "active")

    assert cli(home, "assets", "delete", asset).returncode == 0
    archived = ok_json(cli(home, "assets", "list", "--status", "archived"))
    assert [a["asset_id"] for a in archived["data"]] == [asset]
    assert archived["data"][0]["status"] == "archived"


def test_train_unknown_asset(trained: dict[str, Any]) -> None:
    line = one_line_error(cli(trained["home"], "train", "asset_doesnotexist"))
    assert "asset_doesnotexist" in line


def test_predict_unknown_field(trained: dict[str, Any]) -> None:
    body = json.dumps({**RECORD, "favourite_colour": "green"})
    line = one_line_error(cli(trained["home"], "predict", trained["asset"], "-i", "-", stdin=body))
    assert "favourite_colour" in line


def test_predict_list_of_non_objects_fails_each_record_alone(trained: dict[str, Any]) -> None:
    result = cli(trained["home"], "predict", trained["asset"], "-i", "-", stdin="[1, {}]")
    assert result.returncode == 0, result.stderr
    batch = json.loads(result.stdout)
    assert batch["failed_records"] == 2
    assert batch["results"][0]["errors"][0]["field"] == "batch_data[0].input_data"


def test_create_asset_malformed_json(trained: dict[str, Any], tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "Churn", ')
    line = one_line_error(cli(trained["home"], "assets", "create", str(bad)))
    assert "not valid JSON" in line


def test_connect_unknown_source_type(trained: dict[str, Any], tmp_path: Path) -> None:
    body = {"name": "typo", "type": "duckdbb", "connection_config": {"files": {}}}
    result = cli(trained["home"], "sources", "connect", str(write_json(tmp_path / "s.json", body)))
    assert "Did you mean 'duckdb'" in one_line_error(result)


def test_unknown_algorithm_is_refused_at_creation(trained: dict[str, Any], tmp_path: Path) -> None:
    body = write_json(tmp_path / "xg.json", asset_body("telco_sample", ["xgbost"]))
    line = one_line_error(cli(trained["home"], "assets", "create", str(body)))
    assert "xgbost" in line
    assert "'xgboost'" in line


@pytest.mark.slow
def test_demo(tmp_path: Path) -> None:
    result = cli(tmp_path, "demo", "--home", str(tmp_path / "demo"), timeout=600)
    assert result.returncode == 0, result.stderr
    assert "churn_probability" in result.stdout
    assert "Batch" in result.stdout
    assert "Forecasting" in result.stdout
    assert "seasonal_naive" in result.stdout
