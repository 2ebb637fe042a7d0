"""Server-wide behaviour: rate limits, unexpected errors, the OpenAPI document, public URLs."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from engine import Engine, Settings
from engine.http import create_app
from engine.service import keys
from tests.conftest import asset_body

CONTRACT_OPERATIONS = {
    ("get", "/analytics/assets"),
    ("post", "/analytics/assets"),
    ("get", "/analytics/assets/{asset_id}"),
    ("patch", "/analytics/assets/{asset_id}"),
    ("delete", "/analytics/assets/{asset_id}"),
    ("post", "/analytics/assets/{asset_id}/execute"),
    ("post", "/analytics/assets/{asset_id}/batch-execute"),
    ("get", "/analytics/batches/{batch_id}/status"),
    ("get", "/analytics/data-sources"),
    ("post", "/analytics/data-sources"),
    ("post", "/analytics/data-sources/{source_id}/test"),
    ("post", "/analytics/assets/{asset_id}/train"),
    ("get", "/analytics/training-jobs/{job_id}"),
    ("get", "/analytics/assets/{asset_id}/versions"),
    ("post", "/analytics/assets/{asset_id}/versions/{version}/deploy"),
}


def client_for(settings: Settings) -> tuple[TestClient, Engine, str]:
    engine = Engine.open(settings)
    key = keys.create_key(engine.context, "acme")["api_key"]
    client = TestClient(
        create_app(engine), headers={"X-API-Key": key}, raise_server_exceptions=False
    )
    return client, engine, key


def test_rate_limit_answers_429_with_retry_after(tmp_path: Path) -> None:
    settings = dataclasses.replace(Settings.for_home(tmp_path), rate_limit_per_minute=60)
    client, engine, _ = client_for(settings)
    statuses = [client.get("/analytics/assets").status_code for _ in range(8)]
    assert statuses[:6] == [200] * 6
    limited = client.get("/analytics/assets")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()["error"]["code"] == "rate_limited"
    other = keys.create_key(engine.context, "acme")["api_key"]
    assert client.get("/analytics/assets", headers={"X-API-Key": other}).status_code == 200
    engine.close()


def test_unexpected_failures_answer_500_with_an_error_id_in_the_log(
    tmp_path: Path, small_csv: Path, caplog: pytest.LogCaptureFixture
) -> None:
    client, engine, _ = client_for(
        dataclasses.replace(Settings.for_home(tmp_path), data_dirs=(small_csv.parent,))
    )
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
    manifest = tmp_path / "models" / asset_id / "1.0.0" / "manifest.json"
    manifest.write_text("{ not json")
    engine.context.models.evict_asset(asset_id)
    with caplog.at_level(logging.ERROR, logger="engine.http"):
        response = client.post(f"/analytics/assets/{asset_id}/execute", json={"input_data": {}})
    assert response.status_code == 500
    message = response.json()["error"]["message"]
    error_id = message.rsplit("error id ", 1)[1].rstrip(")")
    assert "Traceback" not in response.text
    assert any(error_id in record.getMessage() for record in caplog.records)
    engine.close()


def test_openapi_document_lists_every_contract_operation(tmp_path: Path) -> None:
    client, engine, _ = client_for(Settings.for_home(tmp_path))
    document = client.get("/openapi.json").json()
    operations = {(method, path) for path, item in document["paths"].items() for method in item}
    assert operations >= CONTRACT_OPERATIONS
    assert "X-API-Key" in str(document["components"]["securitySchemes"])
    execute = document["paths"]["/analytics/assets/{asset_id}/execute"]["post"]
    assert execute["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/ErrorBody"
    )
    assert client.get("/docs").status_code == 200
    engine.close()


def test_urls_use_the_configured_public_base_url(tmp_path: Path, small_csv: Path) -> None:
    settings = dataclasses.replace(
        Settings.for_home(tmp_path),
        public_base_url="https://api.example.test",
        data_dirs=(small_csv.parent,),
    )
    client, engine, _ = client_for(settings)
    source = client.post(
        "/analytics/data-sources",
        json={
            "name": "c",
            "type": "duckdb",
            "connection_config": {"files": {"customers": str(small_csv)}},
        },
    )
    created = client.post(
        "/analytics/assets", json=asset_body(source.json()["data"]["source_id"])
    ).json()["data"]
    assert (
        created["endpoint"]["url"]
        == f"https://api.example.test/analytics/assets/{created['asset_id']}/execute"
    )
    engine.close()


def test_without_a_base_url_urls_use_the_address_the_request_came_to(
    tmp_path: Path, small_csv: Path
) -> None:
    settings = dataclasses.replace(Settings.for_home(tmp_path), data_dirs=(small_csv.parent,))
    client, engine, _ = client_for(settings)
    source = client.post(
        "/analytics/data-sources",
        json={
            "name": "c",
            "type": "duckdb",
            "connection_config": {"files": {"customers": str(small_csv)}},
        },
    )
    created = client.post(
        "/analytics/assets",
        json=asset_body(source.json()["data"]["source_id"]),
        headers={"Host": "engine.internal:9000"},
    ).json()["data"]
    assert (
        created["endpoint"]["url"]
        == f"http://engine.internal:9000/analytics/assets/{created['asset_id']}/execute"
    )
    engine.close()
