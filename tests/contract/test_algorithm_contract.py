"""One contract suite run against every algorithm in `engine.algorithms.ALGORITHMS`.

The registry is iterated, so an algorithm added to it (built-in or through the entry-point group)
is covered without touching this file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.datasets import make_classification
from sklearn.metrics import roc_auc_score

from engine.algorithms import ALGORITHMS, CLASSIFICATION, Classifier, make_classifier, task_of
from engine.algorithms.base import logit
from engine.errors import ConfigurationError, ConflictError, EngineError, ValidationError

NAMES = [name for name in ALGORITHMS if task_of(name) == CLASSIFICATION]
# Documented exception to the log-odds vocabulary: a forest averages probabilities, so its
# contributions are in probability units (see RandomForestClassifier's docstring).
PROBABILITY_UNITS = frozenset({"random_forest"})

X, Y = make_classification(n_samples=400, n_features=8, n_informative=5, random_state=0)
N_COLUMNS = X.shape[1]


def hyperparameter_types(name: str) -> dict[str, Any]:
    # Not declared on the Classifier Protocol, yet make_classifier relies on it.
    cls: Any = ALGORITHMS.load(name)
    types: dict[str, Any] = cls.hyperparameter_types
    return types


def small_params(name: str) -> dict[str, Any]:
    """Small, fast hyperparameters, chosen from what the adapter says it accepts."""
    types = hyperparameter_types(name)
    params: dict[str, Any] = {}
    if "n_estimators" in types:
        params["n_estimators"] = 30
    if "n_jobs" in types:
        params["n_jobs"] = 1
    return params


def expected_sum(name: str, p: np.ndarray) -> np.ndarray:
    return p if name in PROBABILITY_UNITS else logit(p)


@pytest.fixture(scope="module", params=NAMES)
def fitted(request: pytest.FixtureRequest) -> tuple[str, Classifier]:
    name: str = request.param
    return name, make_classifier(name, small_params(name)).fit(X, Y)


@pytest.fixture(scope="module")
def fitted_xgboost() -> Classifier:
    return make_classifier("xgboost", small_params("xgboost")).fit(X, Y)


def test_registry_is_not_empty_and_names_match() -> None:
    assert {"xgboost", "random_forest", "gradient_boosting", "logistic_regression"} <= set(NAMES)
    for name in NAMES:
        assert ALGORITHMS.load(name).name == name
        assert hyperparameter_types(name), f"{name} declares no hyperparameter_types"


@pytest.mark.parametrize("name", NAMES)
def test_fit_returns_self_and_follows_protocol(name: str) -> None:
    model = make_classifier(name, small_params(name))
    assert model.fit(X, Y) is model
    assert isinstance(model, Classifier)


def test_predict_proba_shape_range_and_skill(fitted: tuple[str, Classifier]) -> None:
    _, model = fitted
    p = model.predict_proba(X)
    assert p.shape == (len(X),)
    assert np.all(np.isfinite(p))
    assert np.all((p >= 0.0) & (p <= 1.0))
    assert roc_auc_score(Y, p) > 0.75


def test_contributions_shape_and_additivity(fitted: tuple[str, Classifier]) -> None:
    name, model = fitted
    contributions = model.contributions(X)
    assert contributions.shape == (len(X), N_COLUMNS + 1)
    p = model.predict_proba(X)
    assert np.allclose(contributions.sum(axis=1), expected_sum(name, p), atol=1e-4)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("method", ["predict_proba", "contributions"])
def test_unfitted_model_refuses_to_predict(name: str, method: str) -> None:
    model = make_classifier(name, small_params(name))
    with pytest.raises(ConflictError, match="not fitted"):
        getattr(model, method)(X)


@pytest.mark.parametrize("name", NAMES)
def test_unfitted_model_refuses_to_save(name: str, tmp_path: Path) -> None:
    model = make_classifier(name, small_params(name))
    with pytest.raises(ConflictError) as info:
        model.save(tmp_path)
    assert isinstance(info.value, EngineError)
    assert list(tmp_path.iterdir()) == []


def test_save_load_round_trip(fitted: tuple[str, Classifier], tmp_path: Path) -> None:
    name, model = fitted
    cls: Any = ALGORITHMS.load(name)
    model.save(tmp_path)
    assert sorted(f.name for f in tmp_path.iterdir()) == sorted(cls.payload_files)
    loaded = cls.load(tmp_path, model.get_params())
    assert isinstance(loaded, cls)
    assert loaded.get_params() == model.get_params()
    np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
    np.testing.assert_array_equal(loaded.contributions(X), model.contributions(X))


@pytest.mark.parametrize("name", NAMES)
def test_unknown_hyperparameter_is_a_field_error(name: str) -> None:
    with pytest.raises(ValidationError) as info:
        make_classifier(name, {"no_such_knob": 1})
    fields = [d.field for d in info.value.details]
    assert fields == [f"hyperparameters.{name}.no_such_knob"]


@pytest.mark.parametrize("name", NAMES)
def test_near_miss_hyperparameter_gets_a_hint(name: str) -> None:
    types = hyperparameter_types(name)
    target = "n_estimators" if "n_estimators" in types else max(types, key=len)
    typo = target[:-1]
    with pytest.raises(ValidationError) as info:
        make_classifier(name, {typo: 1})
    (detail,) = info.value.details
    assert detail.field == f"hyperparameters.{name}.{typo}"
    assert f"did you mean '{target}'" in detail.problem
    assert f"did you mean '{target}'" in info.value.message


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("bad", ["30", True, 2.5])
def test_wrong_type_for_int_hyperparameter(name: str, bad: Any) -> None:
    types = hyperparameter_types(name)
    int_keys = [k for k, t in types.items() if t is int]
    if not int_keys:
        pytest.skip(f"{name} has no int hyperparameter")
    with pytest.raises(ValidationError) as info:
        make_classifier(name, {int_keys[0]: bad})
    assert [d.field for d in info.value.details] == [f"hyperparameters.{name}.{int_keys[0]}"]


@pytest.mark.parametrize("name", NAMES)
def test_int_is_accepted_for_float_hyperparameter(name: str) -> None:
    types = hyperparameter_types(name)
    float_keys = [k for k, t in types.items() if t is float]
    if not float_keys:
        pytest.skip(f"{name} has no float hyperparameter")
    model = make_classifier(name, {float_keys[0]: 1})
    assert model.get_params()[float_keys[0]] == 1


def test_unknown_algorithm_suggests_the_close_name() -> None:
    with pytest.raises(ConfigurationError, match="Did you mean 'xgboost'"):
        make_classifier("xgbost")
    with pytest.raises(ConfigurationError, match="Unknown algorithm 'xgbost'"):
        ALGORITHMS.load("xgbost")


LOW, HIGH = float(X.min()), float(X.max())
ROWS = arrays(
    np.float64,
    st.tuples(st.integers(1, 20), st.just(N_COLUMNS)),
    elements=st.floats(LOW, HIGH, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=ROWS)
def test_xgboost_property_probability_and_additivity(
    fitted_xgboost: Classifier, rows: np.ndarray
) -> None:
    p = fitted_xgboost.predict_proba(rows)
    assert p.shape == (len(rows),)
    assert np.all((p >= 0.0) & (p <= 1.0))
    contributions = fitted_xgboost.contributions(rows)
    assert contributions.shape == (len(rows), N_COLUMNS + 1)
    assert np.allclose(contributions.sum(axis=1), logit(p), atol=1e-4)
