"""The seed's example requests, in order, against a real uvicorn server; shapes checked field by
field against the contract (../shared/seed/analytics-endpoints.txt)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest

from engine import Engine, Settings
from engine.http import create_app
from engine.service import keys
from tests.conftest import SMALL_FEATURES
from tests.e2e.http_server import running


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, telco_frame: pd.DataFrame
) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("http") / "home"
    (home / "data").mkdir(parents=True)
    csv = home / "data" / "customers.csv"
    telco_frame.iloc[:1500][["customerID", *SMALL_FEATURES, "Churn"]].to_csv(csv, index=False)
    engine = Engine.open(Settings.for_home(home))
    acme = keys.create_key(engine.context, "acme")
    other = keys.create_key(engine.context, "globex")
    with (
        running(create_app(engine)) as base_url,
        httpx.Client(
            base_url=base_url, headers={"X-API-Key": acme["api_key"]}, timeout=60
        ) as client,
    ):
        yield {
            "client": client,
            "base": base_url,
            "csv": csv,
            "engine": engine,
            "other": other,
            "acme": acme,
        }
    engine.close()


def wait_for(client: httpx.Client, url: str, timeout: float = 180) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = client.get(url).json()["data"]
        if job["status"] in ("completed", "failed") or time.monotonic() > deadline:
            return job
        time.sleep(0.2)


def wait_for_job(client: httpx.Client, job_id: str) -> dict[str, Any]:
    return wait_for(client, f"/analytics/training-jobs/{job_id}")


def keys_of(obj: dict[str, Any]) -> set[str]:
    return set(obj)


def test_seed_flow(server: dict[str, Any]) -> None:
    client: httpx.Client = server["client"]
    base = server["base"]

    # Connect Data Source (the seed's body, for the embedded default)
    response = client.post(
        "/analytics/data-sources",
        json={
            "name": "Telco Customers",
            "type": "duckdb",
            "connection_config": {"files": {"customers": str(server["csv"])}},
            "access_level": "read_only",
            "validation_query": "SELECT COUNT(*) FROM customers LIMIT 1",
        },
    )
    assert response.status_code == 201, response.text
    source = response.json()["data"]
    assert keys_of(source) >= {
        "source_id",
        "name",
        "type",
        "status",
        "connection_test",
        "security",
        "created_at",
    }
    assert source["status"] == "connected"
    assert source["connection_test"]["status"] == "passed"
    assert source["connection_test"]["tables_discovered"] == 1
    assert source["connection_test"]["latency_ms"] > 0
    assert source["security"]["access_level"] == "read_only"
    source_id = source["source_id"]

    # Create Analytics Asset
    response = client.post(
        "/analytics/assets",
        json={
            "name": "Customer Churn Predictor",
            "description": "ML model predicting customer churn probability",
            "category": "machine_learning",
            "data_sources": [
                {"source_id": source_id, "tables": ["customers"], "access_level": "read_only"}
            ],
            "configuration": {
                "model_type": "classification",
                "algorithms": ["xgboost", "logistic_regression"],
                "features": SMALL_FEATURES,
                "target_variable": "Churn",
                "entity_key": {"field": "customer_id", "column": "customerID"},
                "validation_split": 0.2,
                "performance_threshold": 0.7,
                "output_format": "json",
                "batch_processing": True,
            },
            "validation_rules": {
                "min_data_points": 100,
                "required_columns": ["customerID", "Churn"],
            },
            "pricing": {
                "model": "per_request",
                "price": 5.0,
                "currency": "USD",
                "free_tier": {"requests": 50, "period": "monthly"},
            },
        },
    )
    assert response.status_code == 201, response.text
    created = response.json()["data"]
    assert keys_of(created) >= {
        "asset_id",
        "name",
        "status",
        "version",
        "created_at",
        "data_sources",
        "endpoint",
        "next_steps",
    }
    assert (created["status"], created["version"]) == ("draft", "1.0.0")
    asset_id = created["asset_id"]
    assert created["endpoint"] == {
        "url": f"{base}/analytics/assets/{asset_id}/execute",
        "methods": ["POST"],
        "authentication": "required",
    }
    assert created["data_sources"][0]["source_id"] == source_id
    assert created["data_sources"][0]["connection_status"] == "connected"

    # Train Analytics Model (the seed's body without a training period: Telco has no dates)
    response = client.post(
        f"/analytics/assets/{asset_id}/train",
        json={
            "training_config": {
                "algorithm": "xgboost",
                "hyperparameters": {"max_depth": 6, "learning_rate": 0.1, "n_estimators": 100},
                "validation_split": 0.2,
                "cross_validation_folds": 5,
            },
            "data_config": {"feature_selection": "configured", "target_variable": "Churn"},
            "deployment_config": {
                "auto_deploy": True,
                "performance_threshold": 0.7,
                "rollback_on_failure": True,
            },
        },
    )
    assert response.status_code == 202, response.text
    job = response.json()["data"]
    assert keys_of(job) >= {
        "training_job_id",
        "asset_id",
        "status",
        "estimated_duration",
        "progress",
        "started_at",
        "estimated_completion",
    }
    assert job["status"] in {"queued", "running", "completed"}
    assert job["progress"]["steps_total"] == 5

    # Get Training Status, followed until the job ends
    status = wait_for_job(client, job["training_job_id"])
    assert status["status"] == "completed", status
    assert status["results"]["deployment_status"] == "successful"
    assert status["results"]["model_version"] == "1.0.0"
    assert set(status["results"]["model_performance"]) >= {
        "accuracy",
        "precision",
        "recall",
        "f1_score",
    }
    assert status["progress"] == {
        "current_step": "deployment",
        "steps_completed": 5,
        "steps_total": 5,
        "percentage_complete": 100,
    }
    assert status["logs_url"] == f"{base}/analytics/training-jobs/{job['training_job_id']}/logs"
    report = client.get(status["results"]["report_url"])
    assert report.status_code == 200
    assert report.headers["content-type"].startswith("text/html")
    assert "ROC" in report.text
    logs = client.get(status["logs_url"]).json()["data"]["logs"]
    assert any("[training]" in line for line in logs)

    # Execute Analytics (nested input, as in the seed)
    response = client.post(
        f"/analytics/assets/{asset_id}/execute",
        json={
            "input_data": {
                "customer_id": "cust_12345",
                "account": {"tenure": 3, "Contract": "Month-to-month", "SeniorCitizen": 0},
                "billing": {
                    "MonthlyCharges": 80.5,
                    "TotalCharges": "241.5",
                    "PaymentMethod": "Electronic check",
                    "PaperlessBilling": "Yes",
                },
                "service": {"InternetService": "Fiber optic"},
            },
            "parameters": {
                "prediction_horizon": 90,
                "include_confidence_interval": True,
                "include_feature_importance": True,
            },
            "output_options": {"format": "detailed", "include_metadata": True},
        },
    )
    assert response.status_code == 200, response.text
    assert {part.split(";")[0] for part in response.headers["server-timing"].split(", ")} == {
        "validation",
        "model",
        "explanation",
    }
    execution = response.json()["data"]
    assert keys_of(execution) == {"execution_id", "asset_id", "customer_id", "results", "metadata"}
    results = execution["results"]
    assert keys_of(results) == {
        "churn_probability",
        "risk_level",
        "confidence_interval",
        "key_factors",
    }
    assert (
        results["confidence_interval"]["lower"]
        <= results["churn_probability"]
        <= results["confidence_interval"]["upper"]
    )
    assert all(keys_of(f) == {"factor", "importance", "direction"} for f in results["key_factors"])
    assert keys_of(execution["metadata"]) == {
        "model_version",
        "execution_time_ms",
        "data_points_used",
        "prediction_date",
    }

    # Batch Execute Analytics: the seed's callback host does not resolve here (no network), which
    # is refused up front with the field named; without a callback the batch runs
    batch_body: dict[str, Any] = {
        "batch_data": [
            {"id": "batch_001", "customer_id": "7590-VHVEG", "input_data": {}},
            {"id": "batch_002", "customer_id": "5575-GNVDE", "input_data": {}},
        ],
        "parameters": {"prediction_horizon": 90, "parallel_processing": True},
        "callback_url": "https://yourapp.com/webhooks/batch-complete",
    }
    refused = client.post(f"/analytics/assets/{asset_id}/batch-execute", json=batch_body)
    assert refused.status_code == 422
    assert refused.json()["error"]["details"][0]["field"] == "callback_url"
    del batch_body["callback_url"]
    response = client.post(f"/analytics/assets/{asset_id}/batch-execute", json=batch_body)
    assert response.status_code == 202, response.text
    batch = response.json()["data"]
    assert keys_of(batch) >= {
        "batch_id",
        "asset_id",
        "status",
        "total_records",
        "estimated_completion",
        "callback_url",
        "progress_url",
    }
    assert batch["total_records"] == 2
    status = wait_for(client, batch["progress_url"])
    assert status["status"] == "completed"
    assert status["progress"] == {
        "total_records": 2,
        "processed_records": 2,
        "successful_records": 2,
        "failed_records": 0,
        "percentage_complete": 100,
    }
    scored = client.get(status["results_url"]).json()["data"]["results"]
    assert [r["id"] for r in scored] == ["batch_001", "batch_002"]

    # List Analytics Assets, with each filter and sort
    listing = client.get("/analytics/assets").json()
    assert listing["meta"] == {"total": 1, "draft": 1, "published": 0, "archived": 0}
    item = listing["data"][0]
    assert keys_of(item) >= {
        "asset_id",
        "name",
        "description",
        "status",
        "category",
        "data_sources",
        "created_at",
        "updated_at",
        "version",
        "performance_metrics",
    }
    for params in (
        {"status": "draft"},
        {"category": "machine_learning"},
        {"data_source": source_id},
        {"sort": "name"},
        {"sort": "updated_at"},
        {"limit": 1, "offset": 0},
    ):
        assert [
            a["asset_id"] for a in client.get("/analytics/assets", params=params).json()["data"]
        ] == [asset_id]
    assert client.get("/analytics/assets", params={"status": "archived"}).json()["data"] == []
    assert client.get("/analytics/assets", params={"offset": 1}).json()["data"] == []

    # Get details, List Data Sources, Test, Versions
    details = client.get(f"/analytics/assets/{asset_id}").json()["data"]
    assert details["api_specification"]["output_schema"]["churn_probability"] == "float"
    sources = client.get("/analytics/data-sources").json()
    assert sources["meta"] == {"total": 1, "connected": 1, "disconnected": 0}
    assert sources["data"][0]["associated_assets"] == [asset_id]
    tested = client.post(f"/analytics/data-sources/{source_id}/test").json()["data"]
    assert tested["test_results"]["permissions"] == {
        "read_access": True,
        "table_discovery": True,
        "schema_access": True,
    }
    assert tested["test_results"]["data_validation"]["schema_consistency"] is True
    versions = client.get(f"/analytics/assets/{asset_id}/versions").json()
    assert versions["meta"] == {"current_version": "1.0.0", "total_versions": 1}

    # A second version to deploy: trained again before the update, not activated
    retrain = client.post(
        f"/analytics/assets/{asset_id}/train",
        json={"deployment_config": {"auto_deploy": False}},
    )
    assert retrain.status_code == 202, retrain.text
    retrained = wait_for_job(client, retrain.json()["data"]["training_job_id"])
    assert retrained["status"] == "completed", client.get(
        f"/analytics/training-jobs/{retrained['training_job_id']}/logs"
    ).json()
    second = retrained["results"]["model_version"]

    # Update Analytics Asset (the seed's body)
    response = client.patch(
        f"/analytics/assets/{asset_id}",
        json={
            "name": "Advanced Customer Churn Predictor",
            "description": "Updated ML model with enhanced feature engineering",
            "configuration": {
                "performance_threshold": 0.90,
                "additional_features": ["gender", "Partner"],
            },
            "pricing": {"price": 3.50, "free_tier": {"requests": 75}},
            "version_notes": "Added new features and improved accuracy threshold",
        },
    )
    update = response.json()["data"]
    assert update["version"] == "1.1.0"
    assert update["requires_retraining"] is True
    assert update["requires_retaining"] is True
    assert "Updated performance threshold to 0.90" in update["changes"]
    assert "Adjusted pricing to $3.50" in update["changes"]

    # Deploy Specific Version: the seed's body (without its external webhook), accepted at once
    response = client.post(
        f"/analytics/assets/{asset_id}/versions/{second}/deploy",
        json={
            "deployment_strategy": "blue_green",
            "rollback_threshold": {"error_rate": 0.05, "response_time": 500},
            "watch_window_seconds": 1,
        },
    )
    assert response.status_code == 202, response.text
    accepted = response.json()["data"]
    assert keys_of(accepted) >= {
        "deployment_id",
        "asset_id",
        "version",
        "status",
        "strategy",
        "started_at",
    }
    assert (accepted["version"], accepted["strategy"]) == (second, "blue_green")
    deployment_url = f"/analytics/assets/{asset_id}/deployments/{accepted['deployment_id']}"
    deadline = time.monotonic() + 30
    while (current := client.get(deployment_url).json()["data"])["status"] == "deploying":
        assert time.monotonic() < deadline, current
        time.sleep(0.1)
    assert current["status"] == "active", current
    versions = client.get(f"/analytics/assets/{asset_id}/versions").json()
    assert versions["meta"]["current_version"] == second
    assert {v["version"]: v["status"] for v in versions["data"]} == {
        second: "active",
        "1.0.0": "deprecated",
    }
    assert (
        client.post(f"/analytics/assets/{asset_id}/versions/{second}/deploy", json={}).status_code
        == 409
    )  # already active

    # One call rolls back to the previous version, and the history says who moved the pointer
    rolled = client.post(
        f"/analytics/assets/{asset_id}/versions/rollback", json={"reason": "seed flow"}
    )
    assert rolled.status_code == 200, rolled.text
    assert (rolled.json()["data"]["version"], rolled.json()["data"]["rolled_back_from"]) == (
        "1.0.0",
        second,
    )
    history = client.get(f"/analytics/assets/{asset_id}/versions/history").json()["data"]
    assert [(h["from_version"], h["to_version"]) for h in history] == [
        (second, "1.0.0"),
        ("1.0.0", second),
        (None, "1.0.0"),
    ]
    assert history[0]["reason"] == "rollback: seed flow"

    # Delete Analytics Asset: archive, then permanently
    assert client.delete(f"/analytics/assets/{asset_id}").status_code == 204
    assert client.get(f"/analytics/assets/{asset_id}").json()["data"]["status"] == "archived"
    assert (
        client.delete(f"/analytics/assets/{asset_id}", params={"permanent": "true"}).status_code
        == 204
    )
    assert client.get(f"/analytics/assets/{asset_id}").status_code == 404
