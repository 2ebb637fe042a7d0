"""The whole path on real DuckDB and SQLite: source → asset → training → version → execution."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from engine import ConflictError, Engine, NotFoundError, ValidationError
from tests.conftest import SAMPLE_RECORD, SMALL_FEATURES, asset_body

RECORD = SAMPLE_RECORD


def test_training_creates_an_active_version_with_measured_metrics(
    trained: tuple[Engine, str],
) -> None:
    engine, asset_id = trained
    versions, meta = engine.list_versions("acme", asset_id)
    assert meta == {"current_version": "1.0.0", "total_versions": 1}
    assert versions[0]["status"] == "active"
    assert versions[0]["deployment_date"]
    details = engine.get_asset("acme", asset_id)
    metrics = details["performance_metrics"]
    assert 0.6 < metrics["auc_roc"] <= 1.0
    assert set(metrics) >= {"accuracy", "precision", "recall", "f1_score", "auc_roc"}
    inputs = details["api_specification"]["input_schema"]
    assert inputs["tenure"] == "number"
    assert inputs["Contract"] == "string"
    assert inputs["PaperlessBilling"] == "boolean"
    assert details["api_specification"]["output_schema"]["churn_probability"] == "float"


def test_execute_returns_the_contract_shape(trained: tuple[Engine, str]) -> None:
    engine, asset_id = trained
    response = engine.execute("acme", asset_id, {"input_data": {"customer_id": "c1", **RECORD}})
    assert response["asset_id"] == asset_id
    assert response["customer_id"] == "c1"
    assert response["execution_id"].startswith("exec_")
    results = response["results"]
    p = results["churn_probability"]
    interval = results["confidence_interval"]
    assert 0.0 <= interval["lower"] <= p <= interval["upper"] <= 1.0
    assert results["risk_level"] in {"low", "medium", "high"}
    assert 1 <= len(results["key_factors"]) <= 5
    for factor in results["key_factors"]:
        assert factor["factor"] in SMALL_FEATURES
        assert factor["direction"] in {"risk", "protective"}
        assert 0.0 < factor["importance"] <= 1.0
    meta = response["metadata"]
    assert meta["model_version"] == "1.0.0"
    assert meta["execution_time_ms"] > 0
    assert meta["data_points_used"] > 0


def test_nested_input_and_entity_lookup_agree_with_flat_input(
    trained: tuple[Engine, str], telco_frame: pd.DataFrame
) -> None:
    engine, asset_id = trained
    row = telco_frame.iloc[7]
    flat = {name: row[name] for name in SMALL_FEATURES}
    nested = {
        "billing": {
            k: flat[k]
            for k in ("MonthlyCharges", "TotalCharges", "PaymentMethod", "PaperlessBilling")
        },
        "account": {k: flat[k] for k in ("tenure", "Contract", "InternetService", "SeniorCitizen")},
    }
    by_flat = engine.execute("acme", asset_id, {"input_data": flat})["results"]
    by_nested = engine.execute("acme", asset_id, {"input_data": nested})["results"]
    by_key = engine.execute("acme", asset_id, {"input_data": {"customer_id": row["customerID"]}})
    assert by_flat == by_nested == by_key["results"]
    assert by_key["customer_id"] == row["customerID"]


def test_entity_key_that_matches_no_row_is_not_found(trained: tuple[Engine, str]) -> None:
    engine, asset_id = trained
    with pytest.raises(NotFoundError) as caught:
        engine.execute("acme", asset_id, {"input_data": {"customer_id": "no-such-customer"}})
    assert caught.value.details[0].field == "input_data.customer_id"


def test_parameters_and_output_options_are_honoured(trained: tuple[Engine, str]) -> None:
    engine, asset_id = trained
    bare = engine.execute(
        "acme",
        asset_id,
        {
            "input_data": RECORD,
            "parameters": {
                "include_confidence_interval": False,
                "include_feature_importance": False,
            },
            "output_options": {"include_metadata": False},
        },
    )
    assert set(bare["results"]) == {"churn_probability", "risk_level"}
    assert "metadata" not in bare
    few = engine.execute(
        "acme", asset_id, {"input_data": RECORD, "parameters": {"max_key_factors": 2}}
    )
    assert len(few["results"]["key_factors"]) == 2
    summary = engine.execute(
        "acme", asset_id, {"input_data": RECORD, "output_options": {"format": "summary"}}
    )
    assert set(summary["results"]) == {"churn_probability", "risk_level"}


@pytest.mark.parametrize(
    ("request_body", "field"),
    [
        ({"input_data": {**RECORD, "favourite_colour": "blue"}}, "input_data.favourite_colour"),
        ({"input_data": {k: v for k, v in RECORD.items() if k != "tenure"}}, "input_data.tenure"),
        ({"input_data": {**RECORD, "tenure": "twelve"}}, "input_data.tenure"),
        ({"input_data": {**RECORD, "PaperlessBilling": "maybe"}}, "input_data.PaperlessBilling"),
        ({"input_data": {**RECORD, "Contract": {"nested": 1}}}, "input_data.Contract"),
        (
            {"input_data": RECORD, "parameters": {"include_cofidence_interval": True}},
            "parameters.include_cofidence_interval",
        ),
        ({"input_data": RECORD, "output_options": {"format": "fancy"}}, "output_options.format"),
        ({"input_data": RECORD, "extra": 1}, "extra"),
        ({"input_data": "not an object"}, "input_data"),
    ],
)
def test_bad_input_names_the_field(
    trained: tuple[Engine, str], request_body: dict[str, object], field: str
) -> None:
    engine, asset_id = trained
    with pytest.raises(ValidationError) as caught:
        engine.execute("acme", asset_id, request_body)
    assert field in [d.field for d in caught.value.details]


def test_batch_scores_good_records_and_fails_bad_ones_alone(trained: tuple[Engine, str]) -> None:
    engine, asset_id = trained
    single = engine.execute("acme", asset_id, {"input_data": RECORD})["results"]
    batch = engine.execute_batch(
        "acme",
        asset_id,
        [
            {"id": "a", "input_data": RECORD},
            {"id": "b", "input_data": {**RECORD, "tenure": "oops"}},
            {"id": "c", "customer_id": "no-such-customer", "input_data": {}},
            {"id": "d", "input_data": {**RECORD, "tenure": 60, "Contract": "Two year"}},
        ],
    )
    assert (batch["total_records"], batch["successful_records"], batch["failed_records"]) == (
        4,
        2,
        2,
    )
    by_id = {item["id"]: item for item in batch["results"]}
    assert by_id["a"]["results"] == single
    assert by_id["b"]["errors"][0]["field"] == "batch_data[1].input_data.tenure"
    assert by_id["c"]["status"] == "failed"
    assert by_id["d"]["results"]["churn_probability"] < by_id["a"]["results"]["churn_probability"]


def test_score_frame_matches_single_execution(
    trained: tuple[Engine, str], telco_frame: pd.DataFrame
) -> None:
    engine, asset_id = trained
    frame = telco_frame.iloc[:50]
    scored = engine.score_frame("acme", asset_id, frame)
    first = engine.execute(
        "acme", asset_id, {"input_data": frame.iloc[0][SMALL_FEATURES].to_dict()}
    )
    assert scored["churn_probability"].iloc[0] == pytest.approx(
        first["results"]["churn_probability"], abs=1e-6
    )
    assert (
        (scored["lower"] <= scored["churn_probability"])
        & (scored["churn_probability"] <= scored["upper"])
    ).all()


def test_update_bumps_minor_version_and_retraining_follows_it(trained: tuple[Engine, str]) -> None:
    engine, asset_id = trained
    update = engine.update_asset(
        "acme",
        asset_id,
        {
            "configuration": {"performance_threshold": 0.6},
            "pricing": {"price": 3.5},
            "version_notes": "stricter",
        },
    )
    assert update["version"] == "1.1.0"
    assert update["requires_retraining"] is False
    assert "Updated performance threshold to 0.60" in update["changes"]
    assert "Adjusted pricing to $3.50" in update["changes"]
    features = engine.update_asset(
        "acme", asset_id, {"configuration": {"features": SMALL_FEATURES[:-1]}}
    )
    assert features["version"] == "1.2.0"
    assert features["requires_retraining"] is True
    assert engine.train("acme", asset_id)["model_version"] == "1.2.0"
    assert engine.train("acme", asset_id)["model_version"] == "1.2.1"
    engine.deploy("acme", asset_id, "1.0.0")
    response = engine.execute("acme", asset_id, {"input_data": RECORD})
    assert response["metadata"]["model_version"] == "1.0.0"
    statuses = {v["version"]: v["status"] for v in engine.list_versions("acme", asset_id)[0]}
    assert statuses["1.0.0"] == "active"
    assert list(statuses) == ["1.2.1", "1.2.0", "1.0.0"]


def test_archive_stops_execution_and_permanent_delete_removes_artifacts(
    trained: tuple[Engine, str],
) -> None:
    engine, asset_id = trained
    engine.delete_asset("acme", asset_id)
    assert engine.get_asset("acme", asset_id)["status"] == "archived"
    with pytest.raises(ConflictError):
        engine.execute("acme", asset_id, {"input_data": RECORD})
    models = engine.context.settings.models_dir / asset_id
    assert models.is_dir()
    engine.delete_asset("acme", asset_id, permanent=True)
    assert not models.exists()
    with pytest.raises(NotFoundError):
        engine.get_asset("acme", asset_id)


def test_another_company_sees_nothing(trained: tuple[Engine, str]) -> None:
    engine, asset_id = trained
    for call in (
        lambda: engine.get_asset("other", asset_id),
        lambda: engine.execute("other", asset_id, {"input_data": RECORD}),
        lambda: engine.train("other", asset_id),
        lambda: engine.update_asset("other", asset_id, {"name": "mine now"}),
        lambda: engine.delete_asset("other", asset_id),
        lambda: engine.list_versions("other", asset_id),
        lambda: engine.deploy("other", asset_id, "1.0.0"),
    ):
        with pytest.raises(NotFoundError):
            call()
    assert engine.list_assets("other") == (
        [],
        {"total": 0, "draft": 0, "published": 0, "archived": 0},
    )
    assert engine.get_asset("acme", asset_id)["name"] == "Churn"


def test_executions_are_recorded(trained: tuple[Engine, str]) -> None:
    engine, asset_id = trained
    for i in range(3):
        engine.execute("acme", asset_id, {"input_data": {"customer_id": f"c{i}", **RECORD}})
    engine.context.executions.flush()
    usage = engine.get_asset("acme", asset_id)["usage_statistics"]
    assert usage == {
        "total_requests": 3,
        "requests_last_30d": 3,
        "unique_customers": 3,
        "avg_requests_per_customer": 1.0,
    }
    assert engine.get_asset("acme", asset_id)["performance_metrics"]["avg_response_time"] > 0


def test_list_filters_sorts_and_pages(engine: Engine, small_csv: Path) -> None:
    source = engine.connect_source(
        "acme",
        {
            "name": "s",
            "type": "duckdb",
            "connection_config": {"files": {"customers": str(small_csv)}},
        },
    )
    ids = []
    for name, category in (("b", "x"), ("a", "y"), ("c", "x")):
        ids.append(
            engine.create_asset(
                "acme", {**asset_body(source["source_id"]), "name": name, "category": category}
            )["asset_id"]
        )
    engine.delete_asset("acme", ids[2])
    _, meta = engine.list_assets("acme")
    assert meta == {"total": 3, "draft": 2, "published": 0, "archived": 1}
    assert [i["name"] for i in engine.list_assets("acme", sort="name")[0]] == ["a", "b", "c"]
    assert [i["name"] for i in engine.list_assets("acme", category="x")[0]] == ["b", "c"]
    assert [i["name"] for i in engine.list_assets("acme", status="draft")[0]] == ["b", "a"]
    assert [i["name"] for i in engine.list_assets("acme", sort="name", limit=1, offset=1)[0]] == [
        "b"
    ]
    assert len(engine.list_assets("acme", data_source=source["source_id"])[0]) == 3
    assert engine.list_assets("acme", data_source="elsewhere")[0] == []
    with pytest.raises(ValidationError):
        engine.list_assets("acme", sort="colour")


def test_a_declared_prediction_horizon_must_match_the_request(trained: tuple[Engine, str]) -> None:
    engine, asset_id = trained
    accepted = {"input_data": RECORD, "parameters": {"prediction_horizon": 30}}
    assert engine.execute("acme", asset_id, accepted)["results"]["risk_level"]
    engine.update_asset("acme", asset_id, {"configuration": {"prediction_horizon": 90}})
    with pytest.raises(ValidationError) as caught:
        engine.execute("acme", asset_id, accepted)
    assert caught.value.details[0].field == "parameters.prediction_horizon"
    matching = {"input_data": RECORD, "parameters": {"prediction_horizon": 90}}
    assert engine.execute("acme", asset_id, matching)["results"]["risk_level"]
