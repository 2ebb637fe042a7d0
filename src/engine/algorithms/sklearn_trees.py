"""scikit-learn tree ensembles; exact TreeSHAP contributions through shap's TreeExplainer."""

from __future__ import annotations

from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engine.algorithms.base import require_fitted
from engine.algorithms.sklearn_payload import ESTIMATOR_FILE, dump_estimator, load_estimator


class _SklearnTreeClassifier(ABC):
    name: ClassVar[str]
    payload_files: ClassVar[tuple[str, ...]] = (ESTIMATOR_FILE,)
    hyperparameter_types: ClassVar[dict[str, type | tuple[type, ...]]]
    defaults: ClassVar[dict[str, Any]]

    def __init__(self, random_state: int = 0, **params: Any) -> None:
        self.random_state = random_state
        self.params = {**self.defaults, **params}
        self.estimator_: Any = None
        self._explainer: Any = None

    @abstractmethod
    def _make(self) -> Any:
        """The scikit-learn estimator, configured from `params`."""

    def get_params(self) -> dict[str, Any]:
        return {**self.params, "random_state": self.random_state}

    def fit(self, x: np.ndarray, y: np.ndarray) -> _SklearnTreeClassifier:
        self.estimator_ = self._make().fit(x, y)
        self._explainer = None
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        require_fitted(self, "estimator_")
        return np.asarray(self.estimator_.predict_proba(x)[:, 1], dtype=np.float64)

    def contributions(self, x: np.ndarray) -> np.ndarray:
        require_fitted(self, "estimator_")
        if self._explainer is None:
            import shap

            self._explainer = shap.TreeExplainer(self.estimator_)
        values = np.asarray(self._explainer.shap_values(x, check_additivity=False))
        expected = np.ravel(self._explainer.expected_value)
        if values.ndim == 3:  # (n, columns, classes): keep the positive class
            values, bias = values[:, :, 1], expected[1]
        else:
            bias = expected[0]
        return np.column_stack([values, np.full(len(values), bias)])

    def save(self, directory: Path) -> None:
        require_fitted(self, "estimator_")
        dump_estimator(self.estimator_, directory)

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> _SklearnTreeClassifier:
        params = dict(params)
        model = cls(random_state=int(params.pop("random_state", 0)), **params)
        model.estimator_ = load_estimator(directory)
        return model


class RandomForestClassifier(_SklearnTreeClassifier):
    """Contributions are in probability units (a forest averages probabilities)."""

    name: ClassVar[str] = "random_forest"
    defaults: ClassVar[dict[str, Any]] = {
        "n_estimators": 300,
        "min_samples_leaf": 5,
        "max_features": "sqrt",
    }
    hyperparameter_types: ClassVar[dict[str, type | tuple[type, ...]]] = {
        "n_estimators": int,
        "max_depth": int,
        "min_samples_split": int,
        "min_samples_leaf": int,
        "max_features": (str, int, float),
        "class_weight": str,
        "n_jobs": int,
    }

    def _make(self) -> Any:
        from sklearn.ensemble import RandomForestClassifier as Forest

        params = {"n_jobs": -1, **self.params}
        return Forest(random_state=self.random_state, **params)


class GradientBoostingClassifier(_SklearnTreeClassifier):
    name: ClassVar[str] = "gradient_boosting"
    defaults: ClassVar[dict[str, Any]] = {
        "n_estimators": 150,
        "max_depth": 3,
        "learning_rate": 0.05,
        "subsample": 0.8,
    }
    hyperparameter_types: ClassVar[dict[str, type | tuple[type, ...]]] = {
        "n_estimators": int,
        "max_depth": int,
        "learning_rate": float,
        "subsample": float,
        "min_samples_leaf": int,
        "min_samples_split": int,
        "max_features": (str, int, float),
    }

    def _make(self) -> Any:
        from sklearn.ensemble import GradientBoostingClassifier as Boosting

        return Boosting(random_state=self.random_state, **self.params)
