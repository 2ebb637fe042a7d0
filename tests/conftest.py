"""Shared fixtures: an engine over a temporary ENGINE_HOME, and small real data sets."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from engine import Engine, Settings, demo

SMALL_FEATURES = [
    "tenure",
    "MonthlyCharges",
    "TotalCharges",
    "Contract",
    "InternetService",
    "PaymentMethod",
    "PaperlessBilling",
    "SeniorCitizen",
]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    with Engine.open(Settings.for_home(tmp_path / "home")) as opened:
        yield opened


@pytest.fixture(scope="session")
def telco_frame() -> pd.DataFrame:
    return pd.read_csv(demo.DATA)


@pytest.fixture
def small_csv(tmp_path: Path, telco_frame: pd.DataFrame) -> Path:
    """1,200 Telco rows with a handful of features: trains in about a second."""
    path = tmp_path / "customers.csv"
    telco_frame.iloc[:1200][["customerID", *SMALL_FEATURES, "Churn"]].to_csv(path, index=False)
    return path


SAMPLE_RECORD = {
    "tenure": 2,
    "MonthlyCharges": 89.1,
    "TotalCharges": "178.2",
    "Contract": "Month-to-month",
    "InternetService": "Fiber optic",
    "PaymentMethod": "Electronic check",
    "PaperlessBilling": "Yes",
    "SeniorCitizen": 0,
}
"""A complete record of SMALL_FEATURES, as a request would send it."""


def asset_body(source_id: str, **configuration: Any) -> dict[str, Any]:
    return {
        "name": "Churn",
        "category": "machine_learning",
        "data_sources": [{"source_id": source_id, "tables": ["customers"]}],
        "configuration": {
            "algorithms": ["logistic_regression"],
            "features": SMALL_FEATURES,
            "target_variable": "Churn",
            "entity_key": {"field": "customer_id", "column": "customerID"},
            "cross_validation_folds": 3,
            **configuration,
        },
        "validation_rules": {"min_data_points": 100},
    }


@pytest.fixture
def trained(engine: Engine, small_csv: Path) -> tuple[Engine, str]:
    """A trained, active asset of company 'acme' over the small Telco CSV."""
    source = engine.connect_source(
        "acme",
        {
            "name": "customers",
            "type": "duckdb",
            "connection_config": {"files": {"customers": str(small_csv)}},
        },
    )
    asset = engine.create_asset("acme", asset_body(source["source_id"]))
    engine.train("acme", asset["asset_id"])
    return engine, asset["asset_id"]
