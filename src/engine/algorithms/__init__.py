"""Algorithms by short name, classifiers and forecasters in one registry.

Classifiers follow the scikit-learn estimator rules and speak one output vocabulary:
positive-class probabilities, signed per-column contributions that add up to the model's own
margin (log-odds for boosting and logistic regression, probability for a random forest, which
averages probabilities; the last column is the bias), and save/load of their own payload files.
Forecasters (`engine.forecasting.base.Forecaster`) fit one regular series and forecast a point
path with the model's own scale per step. Each class says which it is in its `task`.
"""

from __future__ import annotations

from typing import Any

from engine.algorithms.base import Classifier, validate_hyperparameters
from engine.registry import Registry

CLASSIFICATION = "classification"
FORECASTING = "forecasting"

ALGORITHMS: Registry[Any] = Registry(
    "algorithm",
    "engine.algorithms",
    {
        "xgboost": "engine.algorithms.xgboost:XGBoostClassifier",
        "random_forest": "engine.algorithms.sklearn_trees:RandomForestClassifier",
        "gradient_boosting": "engine.algorithms.sklearn_trees:GradientBoostingClassifier",
        "logistic_regression": "engine.algorithms.linear:LogisticRegressionClassifier",
        "arima": "engine.algorithms.arima:ArimaForecaster",
        "prophet": "engine.algorithms.prophet_model:ProphetForecaster",
        "lstm": "engine.algorithms.lstm:LstmForecaster",
        "seasonal_naive": "engine.algorithms.naive:SeasonalNaiveForecaster",
    },
)
ALGORITHMS.register("lstm", "engine.algorithms.lstm:LstmForecaster", extra="lstm")

BUILTIN_TASKS = {
    "xgboost": CLASSIFICATION,
    "random_forest": CLASSIFICATION,
    "gradient_boosting": CLASSIFICATION,
    "logistic_regression": CLASSIFICATION,
    "arima": FORECASTING,
    "prophet": FORECASTING,
    "lstm": FORECASTING,
    "seasonal_naive": FORECASTING,
}
"""Known without importing the adapter, so an asset naming `lstm` can be defined (and told
which task it serves) on a machine without the optional extra."""


def task_of(name: str) -> str:
    """The task an algorithm serves; plug-ins say so in a `task` class attribute (classifier
    plug-ins written before forecasting existed have none and are classifiers)."""
    if name in BUILTIN_TASKS:
        return BUILTIN_TASKS[name]
    return str(getattr(ALGORITHMS.load(name), "task", CLASSIFICATION))


def make_classifier(
    name: str, hyperparameters: dict[str, Any] | None = None, *, random_state: int = 0
) -> Classifier:
    cls: Any = ALGORITHMS.load(name)
    params = validate_hyperparameters(cls, name, hyperparameters or {})
    classifier: Classifier = cls(random_state=random_state, **params)
    return classifier


def make_forecaster(
    name: str, hyperparameters: dict[str, Any] | None = None, *, random_state: int = 0
) -> Any:
    """A fresh, unfitted forecaster (`engine.forecasting.base.Forecaster`)."""
    cls: Any = ALGORITHMS.load(name)
    params = validate_hyperparameters(cls, name, hyperparameters or {})
    return cls(random_state=random_state, **params)


__all__ = [
    "ALGORITHMS",
    "CLASSIFICATION",
    "FORECASTING",
    "Classifier",
    "make_classifier",
    "make_forecaster",
    "task_of",
]
