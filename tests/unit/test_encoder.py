"""The feature encoder: kinds, coercion of text numbers, missing and unseen values, persistence."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from engine.errors import ValidationError
from engine.features import FeatureEncoder, encode_target

FEATURES = ["tenure", "partner", "contract", "charges"]
CONTRACTS = ["Month-to-month", "One year", "Two year"]


@pytest.fixture
def training() -> pd.DataFrame:
    n = 40
    charges = [f"{10 + i * 0.5:.2f}" for i in range(n)]
    charges[3] = " "  # blank → missing
    charges[7] = "n/a"  # unparseable → missing, reported
    contract: list[str | None] = [CONTRACTS[i % 3] for i in range(n)]
    contract[5] = None
    tenure = [float(i) for i in range(n)]
    tenure[0] = np.nan
    return pd.DataFrame(
        {
            "tenure": tenure,
            "partner": ["Yes" if i % 4 else "No" for i in range(n)],
            "contract": contract,
            "charges": charges,
        }
    )


@pytest.fixture
def encoder(training: pd.DataFrame) -> FeatureEncoder:
    return FeatureEncoder().fit(training, FEATURES)


def test_kinds_are_inferred(encoder: FeatureEncoder) -> None:
    kinds = {name: encoder.spec(name).kind for name in FEATURES}
    assert kinds == {
        "tenure": "numeric",
        "partner": "boolean",
        "contract": "categorical",
        "charges": "numeric",
    }
    assert set(encoder.spec("contract").categories) == {*CONTRACTS, "__missing__"}
    assert encoder.columns_[:2] == ["tenure", "partner"]
    assert encoder.columns_[-1] == "charges"
    # every column belongs to exactly one feature, in order
    assert [encoder.feature_names_[g] for g in encoder.groups_] == [
        c.split("=")[0] for c in encoder.columns_
    ]


def test_explicit_kinds_override_inference(training: pd.DataFrame) -> None:
    encoder = FeatureEncoder({"tenure": "categorical"}).fit(training, ["tenure"])
    assert encoder.spec("tenure").kind == "categorical"
    assert len(encoder.columns_) == 40  # 39 distinct values + the missing category


def test_numbers_stored_as_text_are_coerced_with_a_report(
    encoder: FeatureEncoder, training: pd.DataFrame
) -> None:
    [report] = encoder.coercions_
    assert report.feature == "charges"
    assert report.blank_values == 1
    assert report.unparseable_values == 1
    assert report.examples == ["n/a"]
    assert "1 blank" in report.describe()
    assert "1 unparseable" in report.describe()
    spec = encoder.spec("charges")
    assert spec.coerced_unparseable == 1
    parsed = [float(v) for i, v in enumerate(training["charges"]) if i not in (3, 7)]
    assert spec.median == pytest.approx(float(np.median(parsed)))
    assert (spec.minimum, spec.maximum) == (10.0, 29.5)


def test_missing_numbers_become_the_training_median(encoder: FeatureEncoder) -> None:
    median = encoder.spec("tenure").median
    assert median == pytest.approx(float(np.median(np.arange(1, 40))))
    frame = pd.DataFrame(
        {"tenure": [np.nan], "partner": [None], "contract": ["One year"], "charges": [""]}
    )
    row = encoder.encode_frame(frame)[0]
    assert row[0] == median
    assert row[1] == encoder.spec("partner").median
    assert row[-1] == encoder.spec("charges").median
    matrix, problems = encoder.encode_records([{"contract": "One year"}])
    assert problems == [[]]
    np.testing.assert_array_equal(matrix[0], row)


def test_unseen_category_sets_no_column(encoder: FeatureEncoder) -> None:
    positions = [i for i, c in enumerate(encoder.columns_) if c.startswith("contract=")]
    frame = pd.DataFrame(
        {"tenure": [1.0], "partner": ["No"], "contract": ["Ten years"], "charges": ["5"]}
    )
    assert not encoder.encode_frame(frame)[0, positions].any()
    matrix, problems = encoder.encode_records([{"contract": "Ten years"}])
    assert problems == [[]]
    assert not matrix[0, positions].any()
    known = encoder.encode_records([{"contract": "Two year"}])[0][0, positions]
    assert known.sum() == 1.0
    assert encoder.columns_[positions[int(known.argmax())]] == "contract=Two year"


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{str(k): v for k, v in row.items()} for row in frame.to_dict("records")]


def _scoring_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "tenure": [3.0, np.nan, 72.0, 0.5],
            "partner": ["yes", "No", None, "TRUE"],
            "contract": ["Two year", None, "Forever", "Month-to-month"],
            "charges": ["12.5", " ", "99", "0"],
        }
    )


def test_encode_frame_equals_encode_records(
    encoder: FeatureEncoder, training: pd.DataFrame
) -> None:
    clean = training.drop(index=7)  # the unparseable text is a record-level problem
    for frame in (clean, _scoring_frame()):
        records = _records(frame)
        matrix, problems = encoder.encode_records(records)
        assert all(p == [] for p in problems)
        np.testing.assert_array_equal(encoder.encode_frame(frame), matrix)


def test_to_dict_from_dict_round_trip(encoder: FeatureEncoder) -> None:
    restored = FeatureEncoder.from_dict(json.loads(json.dumps(encoder.to_dict())))
    assert restored.columns_ == encoder.columns_
    np.testing.assert_array_equal(restored.groups_, encoder.groups_)
    frame = _scoring_frame()
    np.testing.assert_array_equal(restored.encode_frame(frame), encoder.encode_frame(frame))
    records = _records(frame)
    np.testing.assert_array_equal(
        restored.encode_records(records)[0], encoder.encode_records(records)[0]
    )


def test_encode_record_reports_wrongly_typed_fields(encoder: FeatureEncoder) -> None:
    row = np.zeros(len(encoder.columns_))
    record = {"tenure": "abc", "partner": "maybe", "contract": {"a": 1}, "charges": True}
    problems = encoder.encode_record(record, row)
    assert [p.field for p in problems] == FEATURES
    assert "abc" in problems[0].problem
    assert not row.any()

    row = np.zeros(len(encoder.columns_))
    problems = encoder.encode_record({"tenure": 5, "contract": ["One year"]}, row)
    assert [p.field for p in problems] == ["contract"]
    assert row[0] == 5.0  # the good field is still encoded


def test_category_whitespace_is_treated_alike_in_frames_and_records(
    encoder: FeatureEncoder,
) -> None:
    frame = pd.DataFrame(
        {"tenure": [1.0], "partner": ["No"], "contract": [" One year "], "charges": ["5"]}
    )
    records = _records(frame)
    np.testing.assert_array_equal(encoder.encode_frame(frame), encoder.encode_records(records)[0])


@pytest.mark.parametrize(
    ("values", "expected", "positive"),
    [
        ([True, False, True, True], [1, 0, 1, 1], "true"),
        (["Yes", "No", "No", "Yes"], [1, 0, 0, 1], "true"),
        ([" yes", "NO ", "no", "Yes"], [1, 0, 0, 1], "true"),
        (["stayed", "churned", "stayed"], [1, 0, 1], "stayed"),
    ],
)
def test_encode_target_binary(values: list[Any], expected: list[int], positive: str) -> None:
    y, label = encode_target(pd.Series(values), "configuration.target_variable")
    assert y.tolist() == expected
    assert label == positive


@pytest.mark.parametrize("values", [["a", "b", "c"], ["only"], ["Yes", "No", "Maybe"]])
def test_encode_target_refuses_non_binary(values: list[str]) -> None:
    with pytest.raises(ValidationError) as info:
        encode_target(pd.Series(values), "configuration.target_variable")
    assert [d.field for d in info.value.details] == ["configuration.target_variable"]
    assert f"found {len(values)}" in info.value.message
