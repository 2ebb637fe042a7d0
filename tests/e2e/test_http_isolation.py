"""Every route against a real server: another company's key sees 404 and changes nothing, a
revoked or missing key gets 401, and bad input gets the error shape with nothing stored changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest

from engine import Engine, Settings
from engine.http import create_app
from engine.service import keys
from tests.conftest import SAMPLE_RECORD, SMALL_FEATURES, asset_body
from tests.e2e.http_server import running

RECORD = SAMPLE_RECORD


@pytest.fixture(scope="module")
def world(
    tmp_path_factory: pytest.TempPathFactory, telco_frame: pd.DataFrame
) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("iso") / "home"
    (home / "data").mkdir(parents=True)
    csv = home / "data" / "customers.csv"
    telco_frame.iloc[:1000][["customerID", *SMALL_FEATURES, "Churn"]].to_csv(csv, index=False)
    engine = Engine.open(Settings.for_home(home))
    acme, globex = (
        keys.create_key(engine.context, "acme"),
        keys.create_key(engine.context, "globex"),
    )
    revoked = keys.create_key(engine.context, "acme")
    keys.revoke_key(engine.context, revoked["key_id"])
    source = engine.connect_source(
        "acme",
        {"name": "c", "type": "duckdb", "connection_config": {"files": {"customers": str(csv)}}},
    )
    asset_id = engine.create_asset("acme", asset_body(source["source_id"]))["asset_id"]
    job_id = engine.train("acme", asset_id)["training_job_id"]
    batch_id = engine.run_batch("acme", asset_id, {"batch_data": [{"input_data": RECORD}]})[
        "batch_id"
    ]
    ids = {"asset": asset_id, "source": source["source_id"], "job": job_id, "batch": batch_id}
    with running(create_app(engine)) as base_url:
        yield {
            "base": base_url,
            "keys": {
                "acme": acme["api_key"],
                "globex": globex["api_key"],
                "revoked": revoked["api_key"],
            },
            "ids": ids,
            "engine": engine,
        }
    engine.close()


def routes(ids: dict[str, str]) -> list[tuple[str, str, dict[str, Any] | None]]:
    asset, source, job, batch = ids["asset"], ids["source"], ids["job"], ids["batch"]
    return [
        ("GET", f"/analytics/assets/{asset}", None),
        ("PATCH", f"/analytics/assets/{asset}", {"name": "taken over"}),
        ("DELETE", f"/analytics/assets/{asset}", None),
        ("POST", f"/analytics/assets/{asset}/execute", {"input_data": RECORD}),
        (
            "POST",
            f"/analytics/assets/{asset}/batch-execute",
            {"batch_data": [{"input_data": RECORD}]},
        ),
        ("GET", f"/analytics/batches/{batch}/status", None),
        ("GET", f"/analytics/batches/{batch}/results", None),
        ("POST", f"/analytics/data-sources/{source}/test", None),
        ("POST", f"/analytics/assets/{asset}/train", {}),
        ("GET", f"/analytics/training-jobs/{job}", None),
        ("GET", f"/analytics/training-jobs/{job}/logs", None),
        ("GET", f"/analytics/assets/{asset}/versions", None),
        (
            "POST",
            f"/analytics/assets/{asset}/versions/1.0.0/deploy",
            {"deployment_strategy": "blue_green"},
        ),
        ("GET", f"/analytics/assets/{asset}/deployments", None),
        ("GET", f"/analytics/assets/{asset}/versions/history", None),
        ("POST", f"/analytics/assets/{asset}/versions/rollback", {"reason": "taken over"}),
        ("GET", f"/analytics/assets/{asset}/usage", None),
    ]


def snapshot(engine: Engine) -> Any:
    """What is stored, without the usage figures: a refused execution is still a request, and
    the ledger records it as a client error (checked in test_ledger)."""
    engine.context.executions.flush()
    assets, meta = engine.list_assets("acme")
    for asset in assets:
        del asset["performance_metrics"]["requests_last_30d"], asset["revenue_metrics"]
    versions, versions_meta = engine.list_versions("acme", assets[0]["asset_id"])
    for version in versions:
        del version["performance_metrics"]["requests"]
    return (assets, meta, (versions, versions_meta), engine.list_sources("acme"))


def call(
    world: dict[str, Any], key: str | None, method: str, path: str, body: Any = None
) -> httpx.Response:
    headers = {"X-API-Key": key} if key else {}
    return httpx.request(method, world["base"] + path, json=body, headers=headers, timeout=60)


def test_another_company_gets_404_everywhere_and_changes_nothing(world: dict[str, Any]) -> None:
    before = snapshot(world["engine"])
    for method, path, body in routes(world["ids"]):
        response = call(world, world["keys"]["globex"], method, path, body)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    assert call(world, world["keys"]["globex"], "GET", "/analytics/assets").json()["data"] == []
    assert (
        call(world, world["keys"]["globex"], "GET", "/analytics/data-sources").json()["data"] == []
    )
    assert snapshot(world["engine"]) == before


@pytest.mark.parametrize("who", ["revoked", "missing", "made-up"])
def test_revoked_missing_or_unknown_keys_get_401(world: dict[str, Any], who: str) -> None:
    key = {"revoked": world["keys"]["revoked"], "missing": None, "made-up": "ek_nope"}[who]
    before = snapshot(world["engine"])
    for method, path, body in [
        *routes(world["ids"]),
        ("GET", "/analytics/assets", None),
        ("GET", "/analytics/data-sources", None),
    ]:
        response = call(world, key, method, path, body)
        assert response.status_code == 401, (method, path)
        assert response.json()["error"]["code"] == "unauthorized"
    assert snapshot(world["engine"]) == before


@pytest.mark.parametrize(
    ("method", "path", "content", "status", "field"),
    [
        ("POST", "/analytics/assets", b'{"name": "x", ', 400, "body"),
        (
            "POST",
            "/analytics/assets",
            b'{"name": 5, "data_sources": [], "configuration": {}}',
            422,
            "name",
        ),
        ("POST", "/analytics/assets", b'{"name": "x", "colour": "red"}', 422, "colour"),
        (
            "POST",
            "/analytics/data-sources",
            b'{"name": "x", "type": "duckdb", "connection_config": {"files": {"t": "/etc/passwd"}}}',
            422,
            "connection_config.files.t",
        ),
        (
            "POST",
            "/analytics/assets/{asset}/execute",
            b'{"input_data": {"tenure": "many"}}',
            422,
            "input_data.tenure",
        ),
        (
            "POST",
            "/analytics/assets/{asset}/execute",
            b'{"input_data": {}, "parameters": {"include_feature_importance": "often"}}',
            422,
            "parameters.include_feature_importance",
        ),
        (
            "PATCH",
            "/analytics/assets/{asset}",
            b'{"configuration": {"validation_split": 3}}',
            422,
            "configuration.validation_split",
        ),
        ("GET", "/analytics/assets?limit=0", None, 422, "limit"),
        ("GET", "/analytics/assets?sort=colour", None, 422, "sort"),
        ("GET", "/analytics/assets/asset_nope", None, 404, None),
        ("POST", "/analytics/assets/asset_nope/execute", b'{"input_data": {}}', 404, None),
        ("GET", "/analytics/batches/batch_nope/status", None, 404, None),
        ("POST", "/analytics/assets/{asset}/versions/9.9.9/deploy", b"{}", 404, None),
    ],
)
def test_bad_input_gets_the_error_shape_and_changes_nothing(
    world: dict[str, Any],
    method: str,
    path: str,
    content: bytes | None,
    status: int,
    field: str | None,
) -> None:
    before = snapshot(world["engine"])
    response = httpx.request(
        method,
        world["base"] + path.format(asset=world["ids"]["asset"]),
        content=content,
        headers={"X-API-Key": world["keys"]["acme"], "Content-Type": "application/json"},
    )
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details"}
    if field is not None:
        assert field in [d["field"] for d in error["details"]]
    assert snapshot(world["engine"]) == before


def test_huge_bodies_get_413(world: dict[str, Any]) -> None:
    limit = world["engine"].context.settings.max_body_bytes
    response = call(
        world,
        world["keys"]["acme"],
        "POST",
        f"/analytics/assets/{world['ids']['asset']}/execute",
        {"input_data": {"x": "a" * limit}},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"


def test_unknown_routes_use_the_error_shape(world: dict[str, Any]) -> None:
    response = call(world, world["keys"]["acme"], "GET", "/analytics/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
