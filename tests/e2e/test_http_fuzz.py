"""Property-based fuzzing of the REST contract with schemathesis.

Every operation of the app's own OpenAPI document is called with generated requests (valid and
invalid ones) and each response must be no 5xx and conform to the document: a documented status
code, the documented content type, a body matching the documented schema and the documented
headers. The checks are schemathesis's own. Path parameters are drawn from both generated strings
and the ids of real resources seeded below (a trained asset, its job, version, a batch and the
data source), so that the fuzzer reaches past the 404s.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from engine import Engine, Settings, demo
from engine.http import create_app
from engine.service import keys

COLUMNS = ["customerID", "tenure", "MonthlyCharges", "Contract", "PaymentMethod", "Churn"]
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
SEED = 20240611


def asset_body(source_id: str, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "category": "machine_learning",
        "data_sources": [{"source_id": source_id, "tables": ["customers"]}],
        "configuration": {
            "algorithms": ["logistic_regression"],
            "features": COLUMNS[1:5],
            "target_variable": "Churn",
            "entity_key": {"field": "customer_id", "column": "customerID"},
            "cross_validation_folds": 3,
        },
        "validation_rules": {"min_data_points": 100},
    }


def seed_resources(engine: Engine) -> tuple[dict[str, str], str]:
    """Real resources of company 'acme': the ids the fuzzer may use, and a disposable asset."""
    data = engine.context.settings.home / "data"
    data.mkdir(parents=True, exist_ok=True)
    csv = data / "customers.csv"
    pd.read_csv(demo.DATA).iloc[:800][COLUMNS].to_csv(csv, index=False)
    source = engine.connect_source(
        "acme",
        {
            "name": "customers",
            "type": "duckdb",
            "connection_config": {"files": {"customers": str(csv)}},
        },
    )
    asset_id = engine.create_asset("acme", asset_body(source["source_id"], "Churn"))["asset_id"]
    trained = engine.train("acme", asset_id)
    record = {"tenure": 3, "MonthlyCharges": 70.5, "Contract": "Month-to-month"}
    batch = engine.run_batch(
        "acme",
        asset_id,
        {
            "batch_data": [
                {"customer_id": "c1", "input_data": {**record, "PaymentMethod": "Mailed check"}}
            ]
        },
    )
    disposable = engine.create_asset("acme", asset_body(source["source_id"], "Disposable"))
    engine.train("acme", disposable["asset_id"])
    ids = {
        "asset_id": asset_id,
        "source_id": source["source_id"],
        "job_id": trained["training_job_id"],
        "version": trained["model_version"],
        "batch_id": batch["batch_id"],
    }
    return ids, disposable["asset_id"]


@pytest.fixture(scope="module")
def api_schema(tmp_path_factory: pytest.TempPathFactory) -> Iterator[schemathesis.BaseSchema]:
    home = tmp_path_factory.mktemp("fuzz") / "home"
    with Engine.open(Settings.for_home(home)) as engine:
        key = keys.create_key(engine.context, "acme")["api_key"]
        app = create_app(engine)  # from here on file sources are confined to <home>/data
        ids, disposable = seed_resources(engine)
        config = schemathesis.Config.from_dict(
            {"seed": SEED, "headers": {"X-API-Key": key}, "cache": {"enabled": False}}
        )
        schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)

        @schema.hook
        def flatmap_path_parameters(
            context: schemathesis.HookContext, path_parameters: dict[str, Any]
        ) -> st.SearchStrategy[dict[str, Any]]:
            # PATCH and DELETE get the disposable asset, so that they cannot archive or delete
            # the asset the other operations run against.
            method = context.operation.method.upper() if context.operation else ""
            known = {**ids, "asset_id": disposable} if method in ("PATCH", "DELETE") else ids
            return st.fixed_dictionaries(
                {
                    name: st.sampled_from([known[name], value]) if name in known else st.just(value)
                    for name, value in path_parameters.items()
                }
            )

        yield schema


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_responses_conform_to_the_openapi_document(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
