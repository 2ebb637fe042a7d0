"""Data contracts on hand-built frames: what is recorded, and each kind of difference found."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.contracts import (
    MAX_CONTRACT_CATEGORIES,
    Difference,
    build_contract,
    compare,
    contract_from_feature_schema,
)
from engine.features import FeatureEncoder

FEATURES = ["tenure", "partner", "contract", "charges"]
CONTRACTS = ["Month-to-month", "One year", "Two year"]


@pytest.fixture
def training() -> pd.DataFrame:
    n = 40
    charges = [f"{10 + i * 0.5:.2f}" for i in range(n)]
    charges[3] = " "  # blank → missing
    contract: list[str | None] = [CONTRACTS[i % 3] for i in range(n)]
    contract[5] = None
    return pd.DataFrame(
        {
            "customer_id": [f"c{i}" for i in range(n)],
            "tenure": list(range(n)),
            "partner": ["Yes" if i % 4 else "No" for i in range(n)],
            "contract": contract,
            "charges": charges,
            "churn": ["Yes" if i % 3 else "No" for i in range(n)],
        }
    )


@pytest.fixture
def contract(training: pd.DataFrame) -> dict[str, Any]:
    encoder = FeatureEncoder().fit(training, FEATURES)
    return build_contract(training, encoder, "customers", "crm", target="churn")


def table(frame: pd.DataFrame) -> pa.Table:
    return pa.Table.from_pandas(frame, preserve_index=False)


def differences(contract: dict[str, Any], frame: pd.DataFrame) -> list[Difference]:
    current = table(frame)
    return compare(contract, current.schema, current)


def test_the_contract_records_each_feature_and_the_target_apart(
    contract: dict[str, Any],
) -> None:
    assert json.loads(json.dumps(contract, allow_nan=False)) == contract
    assert (contract["table"], contract["source_id"], contract["rows"]) == ("customers", "crm", 40)
    assert contract["target"] == {"name": "churn", "type": "large_string", "family": "string"}
    features = {f["name"]: f for f in contract["features"]}
    assert list(features) == FEATURES
    assert features["tenure"] == {
        "name": "tenure",
        "kind": "numeric",
        "type": "int64",
        "family": "numeric",
        "null_fraction": 0.0,
        "unreadable_values": 0,
        "minimum": 0.0,
        "maximum": 39.0,
    }
    assert features["partner"]["kind"] == "boolean"
    assert sorted(features["contract"]["categories"]) == CONTRACTS  # missing is not a category
    assert features["contract"]["null_fraction"] == 1 / 40
    assert features["contract"]["categories_truncated"] is False
    assert features["charges"]["kind"] == "numeric"
    assert features["charges"]["family"] == "string"
    assert features["charges"]["null_fraction"] == 1 / 40  # the blank
    assert (features["charges"]["minimum"], features["charges"]["maximum"]) == (10.0, 29.5)


def test_the_training_frame_itself_shows_no_differences(
    contract: dict[str, Any], training: pd.DataFrame
) -> None:
    assert differences(contract, training) == []
    assert differences(contract, training.iloc[:5]) == []
    assert compare(contract, table(training).schema, None) == []


def test_a_missing_column_is_an_error(contract: dict[str, Any], training: pd.DataFrame) -> None:
    [found] = differences(contract, training.drop(columns=["partner"]))
    assert found == Difference(
        "partner",
        "missing_column",
        "error",
        "'partner' is not in 'customers'; every prediction needs it",
    )
    assert found.to_dict() == {
        "column": "partner",
        "kind": "missing_column",
        "severity": "error",
        "message": "'partner' is not in 'customers'; every prediction needs it",
        "values": [],
        "suggested_column": None,
    }


def test_a_renamed_column_is_found_by_its_name(
    contract: dict[str, Any], training: pd.DataFrame
) -> None:
    [found] = differences(contract, training.rename(columns={"tenure": "tenure_months"}))
    assert (found.kind, found.severity, found.column) == ("renamed_column", "error", "tenure")
    assert found.suggested_column == "tenure_months"
    assert "a similar name" in found.message


def test_a_renamed_column_is_found_by_its_values(
    contract: dict[str, Any], training: pd.DataFrame
) -> None:
    renamed = training.rename(columns={"contract": "plan"}).assign(note="free text")
    [found] = differences(contract, renamed)
    assert (found.kind, found.column, found.suggested_column) == (
        "renamed_column",
        "contract",
        "plan",
    )
    assert "100% of its sampled values are trained categories" in found.message


def test_a_new_column_the_feature_cannot_read_is_no_rename(
    contract: dict[str, Any], training: pd.DataFrame
) -> None:
    renamed = training.drop(columns=["tenure"]).assign(tenures=["long"] * 40)
    [found] = differences(contract, renamed)
    assert found.kind == "missing_column"


def test_numbers_turned_to_words_are_an_error(
    contract: dict[str, Any], training: pd.DataFrame
) -> None:
    retyped = training.assign(tenure=[f"{v} months" for v in training["tenure"]])
    [found] = differences(contract, retyped)
    assert (found.kind, found.severity, found.column) == ("type_changed", "error", "tenure")
    assert found.message.startswith("'tenure' is now large_string (was int64); 40 of 40 sampled")
    assert "do not read as numbers" in found.message
    assert found.values[0].endswith(" months")


def test_some_unreadable_values_are_a_warning_and_readable_text_is_told_apart(
    contract: dict[str, Any], training: pd.DataFrame
) -> None:
    as_text = training.assign(tenure=[str(v) for v in training["tenure"]])
    [found] = differences(contract, as_text)
    assert (found.kind, found.severity) == ("type_changed", "warning")
    assert "the 40 sampled values still read as numbers" in found.message
    as_text.loc[0, "tenure"] = "unknown"
    [found] = differences(contract, as_text)
    assert (found.kind, found.severity, found.values) == ("type_changed", "warning", ("unknown",))
    assert "1 of 40 sampled rows" in found.message


def test_int_to_float_is_no_change(contract: dict[str, Any], training: pd.DataFrame) -> None:
    assert differences(contract, training.astype({"tenure": float})) == []


def test_without_a_sample_a_text_column_for_a_number_is_an_error(
    contract: dict[str, Any], training: pd.DataFrame
) -> None:
    schema = table(training.assign(tenure=training["tenure"].astype(str))).schema
    [found] = compare(contract, schema, None)
    assert (found.kind, found.severity) == ("type_changed", "error")


def test_a_nested_column_is_an_error_for_any_feature(
    contract: dict[str, Any], training: pd.DataFrame
) -> None:
    nested = training.assign(contract=[[c] for c in training["contract"]])
    [found] = differences(contract, nested)
    assert (found.column, found.kind, found.severity) == ("contract", "type_changed", "error")
    assert found.message.startswith("'contract' is now list<item: string>")


def test_a_categorical_column_changing_type_is_a_warning(
    contract: dict[str, Any], training: pd.DataFrame
) -> None:
    coded = training.assign(contract=[i % 3 for i in range(40)])
    found = differences(contract, coded)
    assert [(d.kind, d.severity) for d in found] == [
        ("type_changed", "warning"),
        ("unseen_categories", "warning"),
    ]


def test_unseen_categories_are_counted_and_named(
    contract: dict[str, Any], training: pd.DataFrame
) -> None:
    changed = training.copy()
    changed.loc[:2, "contract"] = "Four year"
    changed.loc[3, "contract"] = "  Two year "  # trimmed as the encoder trims it
    [found] = differences(contract, changed)
    assert found == Difference(
        "contract",
        "unseen_categories",
        "warning",
        "3 of 40 sampled rows have contract values never seen in training: 'Four year'",
        ("Four year",),
    )


def test_truncated_categories_are_not_judged(training: pd.DataFrame) -> None:
    n = MAX_CONTRACT_CATEGORIES + 20
    wide = pd.DataFrame({"code": [f"k{i}" for i in range(n)], "y": [i % 2 for i in range(n)]})
    encoder = FeatureEncoder({"code": "categorical"}).fit(wide, ["code"])
    contract = build_contract(wide, encoder, "t", "s", target="y")
    [feature] = contract["features"]
    assert feature["categories_truncated"] is True
    assert len(feature["categories"]) == MAX_CONTRACT_CATEGORIES
    assert differences(contract, wide.assign(code="never seen")) == []


def test_values_outside_the_trained_range(contract: dict[str, Any], training: pd.DataFrame) -> None:
    changed = training.copy()
    changed.loc[:1, "tenure"] = [80, -3]
    [found] = differences(contract, changed)
    assert (found.kind, found.severity, found.values) == ("out_of_range", "warning", ("80", "-3"))
    assert found.message == (
        "2 of 40 sampled rows have 'tenure' outside the trained range 0 to 39 (e.g. 80, -3)"
    )


def test_nulls_are_reported_only_where_training_had_none(
    contract: dict[str, Any], training: pd.DataFrame
) -> None:
    changed = training.astype({"tenure": float})
    changed.loc[:1, "tenure"] = np.nan
    changed.loc[:1, "contract"] = None  # training had a missing contract already
    changed.loc[2, "partner"] = "  "  # blank text is missing too
    found = differences(contract, changed)
    assert [(d.column, d.kind, d.severity) for d in found] == [
        ("tenure", "new_nulls", "warning"),
        ("partner", "new_nulls", "warning"),
    ]
    assert found[0].message == (
        "2 of 40 sampled rows have no value for 'tenure', which training never lacked"
    )


def test_the_target_is_not_needed_to_predict(
    contract: dict[str, Any], training: pd.DataFrame
) -> None:
    assert differences(contract, training.drop(columns=["churn", "customer_id"])) == []


def test_a_contract_from_an_older_feature_schema_checks_names_and_categories(
    training: pd.DataFrame,
) -> None:
    encoder = FeatureEncoder().fit(training, FEATURES)
    contract = contract_from_feature_schema(encoder.to_dict()["features"], "customers", "crm")
    assert differences(contract, training) == []
    changed = training.drop(columns=["partner"]).astype({"tenure": str})
    changed.loc[0, "contract"] = "Four year"
    changed.loc[1, "charges"] = "1000"  # no range to be outside of
    found = differences(contract, changed)
    assert [(d.column, d.kind) for d in found] == [
        ("partner", "missing_column"),
        ("contract", "unseen_categories"),
    ]


# property: a contract agrees with the very frame it was built from ------------------------------
_WORDS = st.sampled_from(["a", "b", " c ", "", "yes", "no", "1", "2.5", "x y"])


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    n = draw(st.integers(min_value=1, max_value=30))
    columns: dict[str, Any] = {}
    for i in range(draw(st.integers(min_value=1, max_value=5))):
        kind = draw(st.sampled_from(["int", "float", "text", "bool", "yes_no"]))
        if kind == "int":
            values: list[Any] = draw(st.lists(st.integers(-1000, 1000), min_size=n, max_size=n))
        elif kind == "float":
            values = draw(
                st.lists(
                    st.floats(-1e9, 1e9) | st.just(float("nan")),
                    min_size=n,
                    max_size=n,
                )
            )
        elif kind == "text":
            values = draw(st.lists(_WORDS | st.none(), min_size=n, max_size=n))
        elif kind == "bool":
            values = draw(st.lists(st.booleans(), min_size=n, max_size=n))
        else:
            values = draw(st.lists(st.sampled_from(["Yes", "no", None]), min_size=n, max_size=n))
        columns[f"f{i}_{kind}"] = values
    columns["target"] = [i % 2 for i in range(n)]
    return pd.DataFrame(columns)


@given(frames())
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_a_frame_matches_its_own_contract(frame: pd.DataFrame) -> None:
    features = [c for c in frame.columns if c != "target"]
    encoder = FeatureEncoder().fit(frame, features)
    contract = json.loads(json.dumps(build_contract(frame, encoder, "t", "s", target="target")))
    current = table(frame)
    assert compare(contract, current.schema, current) == []
    assert compare(contract, current.schema, None) == []
