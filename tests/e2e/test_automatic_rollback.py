"""Automatic rollback against a real uvicorn server (lifespan on): a version that fails its
requests, and one that answers too slowly, are each deployed with a rollback threshold, driven
with executes, and rolled back by the watch with the measured figures as the reason; a version
that stays within its thresholds ends its watch active. Deployment webhooks go to a receiver on
loopback and are checked against the company's signing secret.

The faults belong to the versions themselves (`tests.fakes.faulty_classifier`): they train and
warm cleanly and misbehave only on a request's single row."""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pandas as pd
import pytest

from engine import Engine, Settings
from engine.algorithms import ALGORITHMS
from engine.http import create_app
from engine.service import callbacks, keys
from tests.e2e.deploy_support import (
    EXECUTE_BODY,
    Receiver,
    asset_with_versions,
    follow_deployment,
    statuses_in_order,
    write_customers,
)
from tests.e2e.http_server import running

FAULTY = "faulty"


@pytest.fixture(scope="module")
def faulty_algorithm() -> Iterator[str]:
    """The fake algorithm, registered for this module only (other modules list the registry)."""
    assert FAULTY not in list(ALGORITHMS)  # (`in` raises for unknown names: see Registry)
    ALGORITHMS.register(FAULTY, "tests.fakes.faulty_classifier:FaultyClassifier")
    yield FAULTY
    ALGORITHMS._paths.pop(FAULTY)  # the registry has no public way to take a name back


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory, telco_frame: pd.DataFrame, faulty_algorithm: str
) -> Iterator[dict[str, Any]]:
    home = tmp_path_factory.mktemp("rollback") / "home"
    csv = write_customers(home, telco_frame)
    settings = dataclasses.replace(
        Settings.for_home(home), callback_allowlist=("127.0.0.1",), job_mode="thread"
    )
    engine = Engine.open(settings)
    key = keys.create_key(engine.context, "acme")
    receiver = Receiver()
    try:
        with (
            running(create_app(engine), lifespan="on") as base_url,
            httpx.Client(
                base_url=base_url, headers={"X-API-Key": key["api_key"]}, timeout=30
            ) as client,
        ):
            yield {
                "engine": engine,
                "key": key,
                "client": client,
                "csv": csv,
                "receiver": receiver,
                "secret": callbacks.company_secret(engine.context, "acme"),
            }
    finally:
        receiver.close()
        engine.close()


def faulty(**faults: Any) -> dict[str, Any]:
    """A train body for a version of the fake algorithm with `faults` as hyperparameters."""
    return {
        "training_config": {"algorithm": FAULTY, "hyperparameters": faults},
        "deployment_config": {"auto_deploy": False},
    }


def execute(
    client: httpx.Client, asset_id: str, body: dict[str, Any] = EXECUTE_BODY, close: bool = False
) -> httpx.Response:
    """With `close`, on a connection of its own: after an unexpected error (500) the server
    drops the connection, and a request already sent on it would get no answer at all."""
    headers = {"Connection": "close"} if close else None
    return client.post(f"/analytics/assets/{asset_id}/execute", json=body, headers=headers)


def deploy(client: httpx.Client, asset_id: str, version: str, body: dict[str, Any]) -> str:
    response = client.post(f"/analytics/assets/{asset_id}/versions/{version}/deploy", json=body)
    assert response.status_code == 202, response.text
    assert response.json()["data"]["status"] == "deploying"
    deployment_id: str = response.json()["data"]["deployment_id"]
    return deployment_id


def check_webhooks(
    served: dict[str, Any], deployment_id: str, expected: dict[str, str]
) -> dict[str, dict[str, Any]]:
    """Each expected event (→ the deployment status it reports) arrived once, signed with the
    company's secret; the payloads by event."""
    receiver: Receiver = served["receiver"]
    receiver.wait_for(deployment_id, set(expected))
    time.sleep(0.3)  # and nothing else follows
    deliveries = receiver.for_deployment(deployment_id)
    assert sorted(d.event for d in deliveries) == sorted(expected)
    payloads = {}
    for delivery in deliveries:
        assert delivery.signed_with(served["secret"]), delivery.event
        assert delivery.headers["X-Engine-Delivery-Attempt"] == "1"
        payload = delivery.payload
        assert payload["event"] == delivery.event
        assert payload["deployment"]["status"] == expected[delivery.event], payload
        payloads[delivery.event] = payload
    return payloads


def check_back_on(
    client: httpx.Client, asset_id: str, good: str, bad: str, deployment_id: str
) -> None:
    """`good` is active and serves again; `bad` is marked failed; the pointer change says why."""
    listed = client.get(f"/analytics/assets/{asset_id}/versions").json()
    assert listed["meta"]["current_version"] == good
    statuses = {v["version"]: v["status"] for v in listed["data"]}
    assert (statuses[good], statuses[bad]) == ("active", "failed"), statuses
    for _ in range(10):
        response = execute(client, asset_id)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["metadata"]["model_version"] == good
    change = client.get(f"/analytics/assets/{asset_id}/versions/history").json()["data"][0]
    assert (change["from_version"], change["to_version"]) == (bad, good)
    assert change["actor"] == "automatic rollback"
    assert change["deployment_id"] == deployment_id
    assert change["reason"].startswith(f"rollback of {bad}: ")


def test_failing_version_is_rolled_back_on_its_error_rate(served: dict[str, Any]) -> None:
    engine: Engine = served["engine"]
    client: httpx.Client = served["client"]
    asset_id, v1, (v2,) = asset_with_versions(
        engine, "acme", served["csv"], faulty(single_row_failure=True)
    )
    sent = 30  # the watch judges once it has this many requests, so it sees all of them
    deployment_id = deploy(
        client,
        asset_id,
        v2,
        {
            "rollback_threshold": {"error_rate": 0.05},
            "watch_window_seconds": 30,
            "min_requests": sent,
            "notification_webhooks": [served["receiver"].url],
        },
    )
    view, seen, _ = follow_deployment(
        client, asset_id, deployment_id, lambda v: v["status"] != "deploying"
    )
    assert view["status"] == "active", view
    assert view["watch"]["watching"] is True
    assert view["watch"]["min_requests"] == sent

    failures = 0
    for i in range(sent):
        if i % 6 == 0:  # the caller's mistakes are no fault of the version: not counted
            wrong = {"input_data": {**EXECUTE_BODY["input_data"], "tenure": "x"}}
            invalid = execute(client, asset_id, wrong, close=True)
            assert invalid.status_code == 422, invalid.text
        response = execute(client, asset_id)  # on the kept-alive connection: a 500 keeps it
        assert response.status_code == 500, response.text
        error = response.json()["error"]
        assert error["code"] == "internal_error"
        assert re.fullmatch(
            r"An unexpected error occurred \(error id [0-9a-f]{12}\)\.", error["message"]
        )
        assert error["details"] == []
        failures += 1

    view, more, _ = follow_deployment(
        client, asset_id, deployment_id, lambda v: v["status"] != "active"
    )
    assert statuses_in_order(["deploying", *seen, *more]) == ["deploying", "active", "rolled_back"]
    assert view["status"] == "rolled_back"
    measured = view["watch"]["measurements"]
    assert (measured["requests"], measured["server_errors"]) == (sent, failures)
    assert measured["error_rate"] == failures / sent == 1.0
    assert view["reason"] == (
        f"error_rate {failures / sent:.4f} ({failures} of {sent} requests failed) "
        "exceeded the threshold 0.05"
    )
    assert view["watch"]["watching"] is False
    assert view["completed_at"] is not None
    check_back_on(client, asset_id, v1, v2, deployment_id)
    # A manual rollback does not land on the version that just failed
    refused = client.post(f"/analytics/assets/{asset_id}/versions/rollback", json={})
    assert refused.status_code == 409, refused.text

    payloads = check_webhooks(
        served,
        deployment_id,
        {
            "deployment.started": "deploying",
            "deployment.active": "active",
            "deployment.rolled_back": "rolled_back",
        },
    )
    assert payloads["deployment.rolled_back"]["deployment"]["reason"] == view["reason"]
    assert payloads["deployment.rolled_back"]["deployment"]["watch"]["measurements"] == measured


def test_slow_version_is_rolled_back_on_its_response_time(served: dict[str, Any]) -> None:
    engine: Engine = served["engine"]
    client: httpx.Client = served["client"]
    asset_id, v1, (v2,) = asset_with_versions(
        engine, "acme", served["csv"], faulty(single_row_delay_ms=60)
    )
    sent = 10
    deployment_id = deploy(
        client,
        asset_id,
        v2,
        {
            "rollback_threshold": {"response_time": 20},
            "watch_window_seconds": 30,
            "min_requests": sent,
            "notification_webhooks": [served["receiver"].url],
        },
    )
    follow_deployment(client, asset_id, deployment_id, lambda v: v["status"] == "active")

    round_trips = []
    for _ in range(sent):
        started = time.perf_counter()
        response = execute(client, asset_id)
        round_trips.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text  # slow, not broken
        assert response.json()["data"]["metadata"]["model_version"] == v2
        assert response.json()["data"]["metadata"]["execution_time_ms"] >= 60

    view, _, _ = follow_deployment(
        client, asset_id, deployment_id, lambda v: v["status"] != "active"
    )
    assert view["status"] == "rolled_back", view
    measured = view["watch"]["measurements"]
    assert (measured["requests"], measured["server_errors"], measured["error_rate"]) == (
        sent,
        0,
        0.0,
    )
    # What the server measured is the delay and a little more, within what the client waited.
    assert 60 <= measured["avg_response_time"] <= sum(round_trips) / sent
    found = re.fullmatch(
        r"mean response_time (\d+\.\d) ms over (\d+) executions exceeded the threshold 20\.0 ms",
        view["reason"],
    )
    assert found, view["reason"]
    assert float(found[1]) == pytest.approx(measured["avg_response_time"], abs=0.051)
    assert int(found[2]) == sent
    check_back_on(client, asset_id, v1, v2, deployment_id)
    check_webhooks(
        served,
        deployment_id,
        {
            "deployment.started": "deploying",
            "deployment.active": "active",
            "deployment.rolled_back": "rolled_back",
        },
    )


def test_version_within_its_thresholds_stays_active_when_the_watch_ends(
    served: dict[str, Any],
) -> None:
    engine: Engine = served["engine"]
    client: httpx.Client = served["client"]
    asset_id, v1, (v2,) = asset_with_versions(
        engine, "acme", served["csv"], {"deployment_config": {"auto_deploy": False}}
    )
    sent = 8
    deployment_id = deploy(
        client,
        asset_id,
        v2,
        {
            "rollback_threshold": {"error_rate": 0.05, "response_time": 5000},
            "watch_window_seconds": 3,
            "min_requests": 5,
            "notification_webhooks": [served["receiver"].url],
        },
    )
    view, _, _ = follow_deployment(
        client, asset_id, deployment_id, lambda v: v["status"] == "active"
    )
    assert view["watch"]["watching"] is True
    assert view["watch"]["until"] is not None
    assert view["completed_at"] is None
    for _ in range(sent):
        response = execute(client, asset_id)
        assert response.status_code == 200, response.text
        assert response.json()["data"]["metadata"]["model_version"] == v2

    view, seen, _ = follow_deployment(
        client, asset_id, deployment_id, lambda v: not v["watch"]["watching"], timeout=30
    )
    assert set(seen) == {"active"}
    assert view["status"] == "active"
    assert view["reason"] is None
    assert view["completed_at"] is not None
    assert view["completed_at"] >= view["watch"]["until"]
    measured = view["watch"]["measurements"]
    assert (measured["requests"], measured["server_errors"], measured["error_rate"]) == (
        sent,
        0,
        0.0,
    )
    assert measured["avg_response_time"] < 5000
    listed = client.get(f"/analytics/assets/{asset_id}/versions").json()
    assert listed["meta"]["current_version"] == v2
    assert {v["version"]: v["status"] for v in listed["data"]} == {v2: "active", v1: "deprecated"}
    check_webhooks(
        served,
        deployment_id,
        {
            "deployment.started": "deploying",
            "deployment.active": "active",
            "deployment.watch_completed": "active",
        },
    )
