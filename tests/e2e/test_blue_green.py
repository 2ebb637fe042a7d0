"""Blue/green deployment under load, against a real uvicorn server whose lifespan runs (so its
deployment watcher warms the new version and acknowledges the switch): no request fails, every
request that starts once the deployment says `active` is served by the new version, and one
call rolls back."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator
from itertools import groupby
from typing import Any

import httpx
import pandas as pd
import pytest

from engine import Engine, Settings
from engine.http import create_app
from engine.service import keys
from tests.e2e.deploy_support import (
    EXECUTE_BODY,
    Load,
    asset_with_versions,
    follow_deployment,
    statuses_in_order,
    wait_until,
    write_customers,
)
from tests.e2e.http_server import running

LOAD_THREADS = 5


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, telco_frame: pd.DataFrame
) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("blue-green") / "home"
    csv = write_customers(home, telco_frame)
    # The load is far above the default per-key rate limit; it is not what is tested here.
    settings = dataclasses.replace(Settings.for_home(home), rate_limit_per_minute=10_000_000)
    engine = Engine.open(settings)
    key = keys.create_key(engine.context, "acme")
    try:
        with (
            running(create_app(engine), lifespan="on") as base_url,
            httpx.Client(
                base_url=base_url, headers={"X-API-Key": key["api_key"]}, timeout=30
            ) as client,
        ):
            yield {"engine": engine, "key": key, "base": base_url, "client": client, "csv": csv}
    finally:
        engine.close()


def served_version(client: httpx.Client, asset_id: str) -> str:
    response = client.post(f"/analytics/assets/{asset_id}/execute", json=EXECUTE_BODY)
    assert response.status_code == 200, response.text
    version: str = response.json()["data"]["metadata"]["model_version"]
    return version


def test_deploy_under_load_switches_without_a_failed_request(served: dict[str, Any]) -> None:
    engine: Engine = served["engine"]
    client: httpx.Client = served["client"]
    asset_id, v1, (v2,) = asset_with_versions(engine, "acme", served["csv"], None)
    assert served_version(client, asset_id) == v1

    load = Load(served["base"], served["key"]["api_key"], asset_id, threads=LOAD_THREADS).start()
    wait_until(lambda: load.count() >= 100, 30, "load before the deploy")
    deploy_sent = time.monotonic()
    response = client.post(
        f"/analytics/assets/{asset_id}/versions/{v2}/deploy",
        json={"deployment_strategy": "blue_green"},
    )
    assert response.status_code == 202, response.text
    accepted = response.json()["data"]
    assert (accepted["status"], accepted["version"]) == ("deploying", v2)
    assert accepted["estimated_completion"]
    deployment_id = accepted["deployment_id"]
    view, seen, active_seen = follow_deployment(
        client, asset_id, deployment_id, lambda v: v["status"] != "deploying"
    )
    at_active = load.count()
    time.sleep(1.5)  # the load goes on, with enough requests after the switch to judge it
    wait_until(lambda: load.count() >= at_active + 150, 30, "load after the switch")
    samples = load.stop()

    assert statuses_in_order(["deploying", *seen]) == ["deploying", "active"], seen
    assert view["previous_version"] == v1
    assert view["requested_by"] == served["key"]["key_id"]
    assert view["switched_at"]
    assert view["completed_at"]
    assert view["watch"] is None  # no rollback threshold, nothing to watch

    failed = [s for s in samples if s.status != 200]
    assert not failed, f"{len(failed)} of {len(samples)} requests failed, first: {failed[0]}"
    assert len(samples) >= 300, f"only {len(samples)} requests under load"
    before = [s for s in samples if s.ended < deploy_sent]
    after = [s for s in samples if s.started > active_seen]
    assert len(before) >= 100
    assert len(after) >= 100, f"{len(after)} of {len(samples)} requests after active"
    assert {s.version for s in before} == {v1}
    assert {s.version for s in after} == {v2}, sorted(
        (s.started - active_seen, s.version) for s in after if s.version != v2
    )[:5]
    # Each client moves from v1 to v2 once: never back to v1 after it was served by v2.
    for thread in range(LOAD_THREADS):
        versions = [s.version for s in samples if s.thread == thread]
        assert [k for k, _ in groupby(versions)] == [v1, v2], thread

    # The serving process warmed the version before the switch and acknowledged the switch.
    store = engine.context.store.deployments
    warmed, switched = store.acks(deployment_id, "warm"), store.acks(deployment_id, "switched")
    assert list(warmed.values()) == [None], warmed  # one serving process, no error
    assert set(switched) == set(warmed), switched

    # Every request is in the usage ledger, each under the version that served it.
    engine.context.executions.flush()
    figures = engine.context.store.ledger.version_figures("acme", asset_id)
    served_by = {v: sum(1 for s in samples if s.version == v) for v in (v1, v2)}
    assert figures[v2]["requests"] == served_by[v2]
    assert figures[v1]["requests"] == served_by[v1] + 1  # and the probe before the load
    listed = client.get(f"/analytics/assets/{asset_id}/versions").json()
    assert listed["meta"]["current_version"] == v2
    assert {v["version"]: v["status"] for v in listed["data"]} == {v2: "active", v1: "deprecated"}


def test_history_names_the_deployment_and_one_call_rolls_back(served: dict[str, Any]) -> None:
    engine: Engine = served["engine"]
    client: httpx.Client = served["client"]
    key_id = served["key"]["key_id"]
    asset_id, v1, (v2,) = asset_with_versions(
        engine, "acme", served["csv"], {"deployment_config": {"auto_deploy": False}}
    )
    response = client.post(f"/analytics/assets/{asset_id}/versions/{v2}/deploy", json={})
    assert response.status_code == 202, response.text
    deployment_id = response.json()["data"]["deployment_id"]
    follow_deployment(client, asset_id, deployment_id, lambda v: v["status"] == "active")
    assert served_version(client, asset_id) == v2

    history = client.get(f"/analytics/assets/{asset_id}/versions/history").json()
    assert history["meta"]["total"] == 2
    change = history["data"][0]
    assert (change["from_version"], change["to_version"]) == (v1, v2)
    assert change["actor"] == key_id
    assert change["deployment_id"] == deployment_id
    assert deployment_id in change["reason"]
    assert history["data"][1]["from_version"] is None  # the training's auto_deploy of v1
    assert history["data"][1]["to_version"] == v1

    rolled = client.post(
        f"/analytics/assets/{asset_id}/versions/rollback", json={"reason": "smoke test failed"}
    )
    assert rolled.status_code == 200, rolled.text
    data = rolled.json()["data"]
    assert (data["version"], data["rolled_back_from"], data["previous_version"]) == (v1, v2, v2)
    assert data["reason"] == "smoke test failed"
    rolled_back_at = time.monotonic()
    wait_until(lambda: served_version(client, asset_id) == v1, 1.0, f"{v1} served again")
    assert time.monotonic() - rolled_back_at < 1.5
    for _ in range(20):
        assert served_version(client, asset_id) == v1

    history = client.get(f"/analytics/assets/{asset_id}/versions/history").json()["data"]
    assert [(h["from_version"], h["to_version"]) for h in history] == [
        (v2, v1),
        (v1, v2),
        (None, v1),
    ]
    assert history[0]["actor"] == key_id
    assert history[0]["reason"] == "rollback: smoke test failed"
    assert history[0]["deployment_id"] is None
    listed = client.get(f"/analytics/assets/{asset_id}/versions").json()
    assert listed["meta"]["current_version"] == v1
