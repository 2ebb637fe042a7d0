"""Deployments through the Python API on the real store and artifacts: the pointer history, one-call
rollback, the data contract checked before a switch, and requests refused with the field named."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engine.api import Engine
from engine.errors import ConflictError, NotFoundError, ValidationError
from tests.conftest import SAMPLE_RECORD


@pytest.fixture
def two_versions(trained: tuple[Engine, str]) -> tuple[Engine, str, str]:
    engine, asset_id = trained
    second = engine.train("acme", asset_id, activate=False)["model_version"]
    return engine, asset_id, second


def served_version(engine: Engine, asset_id: str) -> str:
    engine.context.models.forget_pointer("acme", asset_id)
    result = engine.execute(
        "acme", asset_id, {"input_data": dict(SAMPLE_RECORD), "output_options": {}}
    )
    version: str = result["metadata"]["model_version"]
    return version


def test_deploy_history_and_one_call_rollback(two_versions: tuple[Engine, str, str]) -> None:
    engine, asset_id, second = two_versions
    deployed = engine.deploy("acme", asset_id, second, {"deployment_strategy": "blue_green"})
    assert (deployed["status"], deployed["version"], deployed["previous_version"]) == (
        "active",
        second,
        "1.0.0",
    )
    assert deployed["switched_at"]
    assert deployed["completed_at"]
    assert deployed["contract_check"]["compatible"] is True
    assert served_version(engine, asset_id) == second
    with pytest.raises(ConflictError, match="already active"):
        engine.deploy("acme", asset_id, second)

    rolled = engine.rollback("acme", asset_id, reason="checking the old one", actor="key_ops")
    assert (rolled["version"], rolled["rolled_back_from"]) == ("1.0.0", second)
    assert served_version(engine, asset_id) == "1.0.0"
    statuses = {v["version"]: v["status"] for v in engine.list_versions("acme", asset_id)[0]}
    assert statuses == {"1.0.0": "active", second: "deprecated"}

    history = engine.version_history("acme", asset_id)
    assert [(h["from_version"], h["to_version"], h["actor"]) for h in history] == [
        (second, "1.0.0", "key_ops"),
        ("1.0.0", second, "local"),
        (None, "1.0.0", history[2]["actor"]),
    ]
    assert history[0]["reason"] == "rollback: checking the old one"
    assert history[1]["deployment_id"] == deployed["deployment_id"]
    assert history[2]["actor"].startswith("training job ")
    assert [d["deployment_id"] for d in engine.list_deployments("acme", asset_id)] == [
        deployed["deployment_id"]
    ]
    # The history is the company's own
    with pytest.raises(NotFoundError):
        engine.version_history("globex", asset_id)


def test_rollback_needs_a_previous_version(trained: tuple[Engine, str]) -> None:
    engine, asset_id = trained
    with pytest.raises(ConflictError, match="no previously active version"):
        engine.rollback("acme", asset_id)


def test_bad_deploy_requests_name_the_field(two_versions: tuple[Engine, str, str]) -> None:
    engine, asset_id, second = two_versions
    cases = [
        ({"deployment_strategy": "canary"}, "deployment_strategy"),
        ({"rollback_threshold": {"error_rate": 2}}, "rollback_threshold.error_rate"),
        ({"watch_window_seconds": 0}, "watch_window_seconds"),
        ({"notification_webhooks": ["ftp://x"]}, "notification_webhooks[0]"),
    ]
    for body, field in cases:
        with pytest.raises(ValidationError) as caught:
            engine.deploy("acme", asset_id, second, body)
        assert field in [d.field for d in caught.value.details], (body, caught.value.details)
    with pytest.raises(NotFoundError):
        engine.deploy("acme", asset_id, "9.9.9")
    assert engine.list_deployments("acme", asset_id) == []
    assert engine.version_history("acme", asset_id)[0]["to_version"] == "1.0.0"


def test_a_threshold_needs_a_version_to_roll_back_to(engine: Engine, small_csv: Path) -> None:
    from tests.conftest import asset_body

    source = engine.connect_source(
        "acme",
        {
            "name": "customers",
            "type": "duckdb",
            "connection_config": {"files": {"customers": str(small_csv)}},
        },
    )
    asset_id = engine.create_asset("acme", asset_body(source["source_id"]))["asset_id"]
    version = engine.train("acme", asset_id, activate=False)["model_version"]
    with pytest.raises(ValidationError) as caught:
        engine.deploy("acme", asset_id, version, {"rollback_threshold": {"error_rate": 0.1}})
    assert caught.value.details[0].field == "rollback_threshold"
    assert engine.deploy("acme", asset_id, version)["status"] == "active"


def test_a_broken_contract_refuses_the_deploy(
    two_versions: tuple[Engine, str, str], small_csv: Path
) -> None:
    engine, asset_id, second = two_versions
    frame = pd.read_csv(small_csv)
    frame.drop(columns=["Contract"]).to_csv(small_csv, index=False)
    with pytest.raises(ConflictError, match="Contract") as caught:
        engine.deploy("acme", asset_id, second)
    assert "contract.Contract" in [d.field for d in caught.value.details]
    assert engine.list_deployments("acme", asset_id) == []
    assert served_version(engine, asset_id) == "1.0.0"

    forced = engine.deploy("acme", asset_id, second, {"ignore_contract_errors": True})
    assert forced["status"] == "active"
    assert forced["contract_check"]["compatible"] is False
    kinds = {d["kind"] for d in forced["contract_check"]["differences"]}
    assert "missing_column" in kinds
