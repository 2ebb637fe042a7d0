"""Algorithms by short name. Each follows the scikit-learn estimator rules and speaks one output
vocabulary: positive-class probabilities, signed per-column contributions that add up to the
model's own margin (log-odds for boosting and logistic regression, probability for a random
forest, which averages probabilities; the last column is the bias), and save/load of its own
payload files."""

from __future__ import annotations

from typing import Any

from engine.algorithms.base import Classifier, validate_hyperparameters
from engine.registry import Registry

ALGORITHMS: Registry[Classifier] = Registry(
    "algorithm",
    "engine.algorithms",
    {
        "xgboost": "engine.algorithms.xgboost:XGBoostClassifier",
        "random_forest": "engine.algorithms.sklearn_trees:RandomForestClassifier",
        "gradient_boosting": "engine.algorithms.sklearn_trees:GradientBoostingClassifier",
        "logistic_regression": "engine.algorithms.linear:LogisticRegressionClassifier",
    },
)


def make_classifier(
    name: str, hyperparameters: dict[str, Any] | None = None, *, random_state: int = 0
) -> Classifier:
    cls: Any = ALGORITHMS.load(name)
    params = validate_hyperparameters(cls, name, hyperparameters or {})
    classifier: Classifier = cls(random_state=random_state, **params)
    return classifier


__all__ = ["ALGORITHMS", "Classifier", "make_classifier"]
