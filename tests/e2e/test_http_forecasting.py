"""A multi-series forecasting asset over HTTP against a real uvicorn server: several product
categories in one DuckDB table, trained by a job, a second version deployed blue/green, then
executed one series at a time and in a batch, with bad input answered field by field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import duckdb
import httpx
import pytest

from engine import Engine, Settings
from engine.http import create_app
from engine.service import keys
from tests.e2e.deploy_support import follow_deployment
from tests.e2e.http_server import running
from tests.e2e.test_http_seed import wait_for, wait_for_job
from tests.forecasting.sales_data import CATEGORIES, forecast_asset_body, sales_frame


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("http-forecast") / "home"
    (home / "data").mkdir(parents=True)
    database = home / "data" / "warehouse.duckdb"  # the server reads files under its data dir
    frame = sales_frame()
    with duckdb.connect(str(database)) as conn:
        conn.register("frame", frame)
        conn.execute(
            "CREATE TABLE sales AS SELECT CAST(date AS DATE) AS date, * EXCLUDE (date) FROM frame"
        )
    engine = Engine.open(Settings.for_home(home))
    key = keys.create_key(engine.context, "acme")
    try:
        with (
            running(create_app(engine), lifespan="on") as base_url,
            httpx.Client(
                base_url=base_url, headers={"X-API-Key": key["api_key"]}, timeout=60
            ) as client,
        ):
            yield {"client": client, "database": database, "engine": engine, "frame": frame}
    finally:
        engine.close()


def _error_fields(response: httpx.Response) -> set[str]:
    return {d["field"] for d in response.json()["error"]["details"]}


@pytest.fixture(scope="module")
def source_id(server: dict[str, Any]) -> str:
    response = server["client"].post(
        "/analytics/data-sources",
        json={
            "name": "Warehouse",
            "type": "duckdb",
            "connection_config": {"database": str(server["database"])},
            "access_level": "read_only",
        },
    )
    assert response.status_code == 201, response.text
    found: str = response.json()["data"]["source_id"]
    return found


def test_forecast_asset_trained_deployed_and_executed_over_http(
    server: dict[str, Any], source_id: str
) -> None:
    client: httpx.Client = server["client"]

    response = client.post("/analytics/assets", json=forecast_asset_body(source_id))
    assert response.status_code == 201, response.text
    asset_id = response.json()["data"]["asset_id"]

    response = client.post(f"/analytics/assets/{asset_id}/train", json={})
    assert response.status_code == 202, response.text
    job = wait_for_job(client, response.json()["data"]["training_job_id"])
    assert job["status"] == "completed", job
    first = job["results"]
    assert first["model_version"] == "1.0.0"
    assert first["deployment_status"] == "successful"
    assert len(first["series"]) == len(CATEGORIES)

    # A second version, prophet only, stored without activating it.
    response = client.post(
        f"/analytics/assets/{asset_id}/train",
        json={
            "training_config": {"algorithm": "prophet"},
            "deployment_config": {"auto_deploy": False},
        },
    )
    job = wait_for_job(client, response.json()["data"]["training_job_id"])
    assert job["status"] == "completed", job
    second = job["results"]["model_version"]
    assert {s["algorithm"] for s in job["results"]["series"]} == {"prophet"}

    versions = client.get(f"/analytics/assets/{asset_id}/versions").json()["data"]
    assert {v["version"]: v["status"] for v in versions} == {"1.0.0": "active", second: "ready"}

    body = {"input_data": {"product_category": "books"}, "parameters": {"prediction_horizon": 5}}
    before = client.post(f"/analytics/assets/{asset_id}/execute", json=body)
    assert before.status_code == 200, before.text
    assert before.json()["data"]["metadata"]["model_version"] == "1.0.0"

    response = client.post(
        f"/analytics/assets/{asset_id}/versions/{second}/deploy",
        json={"deployment_strategy": "blue_green"},
    )
    assert response.status_code == 202, response.text
    view, _, _ = follow_deployment(
        client,
        asset_id,
        response.json()["data"]["deployment_id"],
        lambda v: v["status"] != "deploying",
    )
    assert view["status"] == "active", view

    after = client.post(f"/analytics/assets/{asset_id}/execute", json=body)
    assert after.status_code == 200, after.text
    data = after.json()["data"]
    assert data["metadata"]["model_version"] == second
    assert data["results"]["algorithm"] == "prophet"
    points = data["results"]["forecast"]
    assert len(points) == 5
    assert all(
        p["confidence_interval"]["95"]["lower"]
        <= p["value"]
        <= p["confidence_interval"]["95"]["upper"]
        for p in points
    )

    response = client.post(
        f"/analytics/assets/{asset_id}/batch-execute",
        json={
            "batch_data": [
                {"id": c, "input_data": {"product_category": c}} for c in [*CATEGORIES, "sofas"]
            ],
            "parameters": {"prediction_horizon": 3},
        },
    )
    assert response.status_code == 202, response.text
    batch = response.json()["data"]
    status = wait_for(client, f"/analytics/batches/{batch['batch_id']}/status", timeout=60)
    assert status["status"] == "completed", status
    assert status["progress"]["successful_records"] == len(CATEGORIES)
    assert status["progress"]["failed_records"] == 1
    results = client.get(f"/analytics/batches/{batch['batch_id']}/results").json()["data"]
    by_id = {r["id"]: r for r in results["results"]}
    assert len(by_id["toys"]["results"]["forecast"]) == 3
    assert by_id["sofas"]["status"] == "failed"

    details = client.get(f"/analytics/assets/{asset_id}").json()["data"]
    assert details["api_specification"]["input_schema"]["product_category"] == "string"
    assert details["performance_metrics"]["mase"] > 0


@pytest.fixture(scope="module")
def trained_asset(server: dict[str, Any], source_id: str) -> str:
    """A forecasting asset trained through the Python API, for the requests that fail."""
    engine: Engine = server["engine"]
    asset_id: str = engine.create_asset(
        "acme", forecast_asset_body(source_id, algorithms=["seasonal_naive"])
    )["asset_id"]
    engine.train("acme", asset_id)
    return asset_id


@pytest.mark.parametrize(
    ("body", "status", "field"),
    [
        ({"input_data": {"product_category": "sofas"}}, 404, "input_data.product_category"),
        ({"input_data": {}}, 422, "input_data.product_category"),
        (
            {"input_data": {"product_category": "books"}, "parameters": {"prediction_horizon": 0}},
            422,
            "parameters.prediction_horizon",
        ),
        (
            {
                "input_data": {"product_category": "books"},
                "parameters": {"prediction_horizon": 999},
            },
            422,
            "parameters.prediction_horizon",
        ),
        (
            {"input_data": {"product_category": "books", "promo": [1, 1]}},
            422,
            "input_data.promo",
        ),
    ],
)
def test_bad_forecast_requests_get_field_errors(
    server: dict[str, Any], trained_asset: str, body: dict[str, Any], status: int, field: str
) -> None:
    client: httpx.Client = server["client"]
    response = client.post(f"/analytics/assets/{trained_asset}/execute", json=body)
    assert response.status_code == status, response.text
    assert field in _error_fields(response)


def test_a_forecast_with_future_regressors_over_http(
    server: dict[str, Any], source_id: str
) -> None:
    """Future regressor values make the forecast ask its model, off the event loop."""
    client: httpx.Client = server["client"]
    engine: Engine = server["engine"]
    body = forecast_asset_body(source_id, algorithms=["arima"], features=["promo"])
    asset_id = engine.create_asset("acme", body)["asset_id"]
    engine.train("acme", asset_id)

    def values(promo: int) -> list[float]:
        request = {
            "input_data": {"product_category": "toys", "promo": [promo] * 14},
            "parameters": {"prediction_horizon": 14},
        }
        response = client.post(f"/analytics/assets/{asset_id}/execute", json=request)
        assert response.status_code == 200, response.text
        return [p["value"] for p in response.json()["data"]["results"]["forecast"]]

    lifts = [a - b for a, b in zip(values(1), values(0), strict=True)]
    assert all(20 < lift < 30 for lift in lifts), lifts
