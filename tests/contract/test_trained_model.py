"""TrainedModel assembled by hand: encoder + classifier + interval, per registered algorithm."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.algorithms import ALGORITHMS, CLASSIFICATION, make_classifier, task_of
from engine.algorithms.base import logit
from engine.features import FeatureEncoder
from engine.intervals import CohortInterval
from engine.trained_model import CALIBRATION_FILE, FEATURES_FILE, TrainedModel

NAMES = [name for name in ALGORITHMS if task_of(name) == CLASSIFICATION]
FEATURES = ["tenure", "partner", "contract"]
CONTRACTS = ["Month-to-month", "One year", "Two year"]
PROBABILITY_UNITS = frozenset({"random_forest"})  # see RandomForestClassifier's docstring


def make_frame(n: int = 600, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tenure = rng.uniform(0, 72, n).round(1)
    partner = rng.choice(["Yes", "No"], n)
    contract = rng.choice(CONTRACTS, n, p=[0.5, 0.3, 0.2])
    score = (
        1.5
        - 0.05 * tenure
        - 0.8 * (partner == "Yes")
        + np.select([contract == "One year", contract == "Two year"], [-1.0, -2.0], 0.0)
    )
    churn = rng.random(n) < 1 / (1 + np.exp(-score))
    return pd.DataFrame(
        {"tenure": tenure, "partner": partner, "contract": contract, "churn": churn}
    )


def small_params(name: str) -> dict[str, Any]:
    cls: Any = ALGORITHMS.load(name)
    types: dict[str, Any] = cls.hyperparameter_types
    params: dict[str, Any] = {}
    if "n_estimators" in types:
        params["n_estimators"] = 30
    if "n_jobs" in types:
        params["n_jobs"] = 1
    return params


FRAME = make_frame()


def build(name: str) -> TrainedModel:
    encoder = FeatureEncoder().fit(FRAME, FEATURES)
    x = encoder.encode_frame(FRAME)
    y = FRAME["churn"].to_numpy(dtype=int)
    train, calib = slice(0, 400), slice(400, None)
    classifier = make_classifier(name, small_params(name)).fit(x[train], y[train])
    interval = CohortInterval.fit(classifier.predict_proba(x[calib]), y[calib])
    return TrainedModel(name, classifier, encoder, interval, "churn", "true")


@pytest.fixture(scope="module", params=NAMES)
def model(request: pytest.FixtureRequest) -> TrainedModel:
    return build(request.param)


@pytest.fixture(scope="module")
def xgb_model() -> TrainedModel:
    return build("xgboost")


def test_encoder_kinds_and_columns() -> None:
    encoder = FeatureEncoder().fit(FRAME, FEATURES)
    assert [s.kind for s in encoder.specs_] == ["numeric", "boolean", "categorical"]
    assert encoder.columns_[:2] == ["tenure", "partner"]
    assert sorted(encoder.columns_[2:]) == sorted(f"contract={c}" for c in CONTRACTS)


def test_feature_contributions_group_one_hot_columns(model: TrainedModel) -> None:
    x = model.encoder.encode_frame(FRAME.head(50))
    per_feature = model.feature_contributions(x)
    assert per_feature.shape == (50, len(FEATURES))
    per_column = model.classifier.contributions(x)
    columns = model.encoder.columns_
    for j, feature in enumerate(FEATURES):
        mine = [i for i, c in enumerate(columns) if c == feature or c.startswith(f"{feature}=")]
        assert mine, feature
        np.testing.assert_allclose(per_feature[:, j], per_column[:, mine].sum(axis=1), atol=1e-12)
    # features plus bias still add up to the prediction on the classifier's scale
    p = model.classifier.predict_proba(x)
    expected = p if model.algorithm in PROBABILITY_UNITS else logit(p)
    np.testing.assert_allclose(per_feature.sum(axis=1) + per_column[:, -1], expected, atol=1e-4)


def test_predict_returns_ordered_bounds(model: TrainedModel) -> None:
    x = model.encoder.encode_frame(FRAME)
    p, lower, upper = model.predict(x)
    assert p.shape == lower.shape == upper.shape == (len(FRAME),)
    assert np.all((lower >= 0) & (lower <= p) & (p <= upper) & (upper <= 1))
    assert np.any(upper > lower)


def test_payload_round_trip(model: TrainedModel, tmp_path: Path) -> None:
    model.write_payload(tmp_path)
    payload = ALGORITHMS.load(model.algorithm).payload_files
    expected = {*payload, FEATURES_FILE, CALIBRATION_FILE}
    assert {f.name for f in tmp_path.iterdir()} == expected
    manifest = {"algorithm": model.algorithm, "params": model.classifier.get_params()}
    loaded = TrainedModel.load(tmp_path, manifest)
    assert (loaded.algorithm, loaded.target, loaded.positive_label) == (
        model.algorithm,
        "churn",
        "true",
    )
    assert loaded.interval == model.interval
    assert loaded.encoder.columns_ == model.encoder.columns_
    x = model.encoder.encode_frame(FRAME)
    np.testing.assert_array_equal(loaded.encoder.encode_frame(FRAME), x)
    for before, after in zip(model.predict(x), loaded.predict(x), strict=True):
        np.testing.assert_array_equal(after, before)
    np.testing.assert_array_equal(loaded.feature_contributions(x), model.feature_contributions(x))


RECORDS = st.lists(
    st.fixed_dictionaries(
        {
            "tenure": st.none() | st.floats(0, 72, allow_nan=False),
            "partner": st.sampled_from(["Yes", "No", "yes", " no ", None]),
            "contract": st.sampled_from([*CONTRACTS, "Unseen", None]),
        }
    ),
    min_size=1,
    max_size=20,
)


@settings(max_examples=25, deadline=None)
@given(records=RECORDS)
def test_property_interval_contains_probability(
    xgb_model: TrainedModel, records: list[dict[str, Any]]
) -> None:
    x, problems = xgb_model.encoder.encode_records(records)
    assert all(not p for p in problems)
    p, lower, upper = xgb_model.predict(x)
    assert np.all((lower >= 0) & (lower <= p) & (p <= upper) & (upper <= 1))
    per_feature = xgb_model.feature_contributions(x)
    bias = xgb_model.classifier.contributions(x)[:, -1]
    np.testing.assert_allclose(per_feature.sum(axis=1) + bias, logit(p), atol=1e-4)
