"""Logistic regression on standardized columns; contributions are exact: w_j · z_j per column,
with the intercept as the bias, so each row adds up to its log-odds."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engine.algorithms.base import require_fitted
from engine.algorithms.sklearn_payload import ESTIMATOR_FILE, dump_estimator, load_estimator


class LogisticRegressionClassifier:
    name: ClassVar[str] = "logistic_regression"
    payload_files: ClassVar[tuple[str, ...]] = (ESTIMATOR_FILE,)
    hyperparameter_types: ClassVar[dict[str, type | tuple[type, ...]]] = {
        "C": float,
        "max_iter": int,
        "class_weight": str,
        "l1_ratio": float,
        "solver": str,
    }

    def __init__(self, random_state: int = 0, **params: Any) -> None:
        self.random_state = random_state
        self.params = {"C": 1.0, "max_iter": 2000, **params}
        self.estimator_: Any = None

    def get_params(self) -> dict[str, Any]:
        return {**self.params, "random_state": self.random_state}

    def fit(self, x: np.ndarray, y: np.ndarray) -> LogisticRegressionClassifier:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        self.estimator_ = make_pipeline(
            StandardScaler(), LogisticRegression(random_state=self.random_state, **self.params)
        ).fit(x, y)
        self._unpack()
        return self

    def _unpack(self) -> None:
        scaler, model = self.estimator_[0], self.estimator_[-1]
        scale = np.where(scaler.scale_ == 0, 1.0, scaler.scale_)
        self._mean = scaler.mean_
        self._weights = model.coef_[0] / scale  # weight per raw unit, centred at the mean
        self._bias = float(model.intercept_[0])

    def _margin_parts(self, x: np.ndarray) -> np.ndarray:
        require_fitted(self, "estimator_")
        return np.asarray((x - self._mean) * self._weights)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        margin = self._margin_parts(x).sum(axis=1) + self._bias
        return np.asarray(1.0 / (1.0 + np.exp(-margin)))

    def contributions(self, x: np.ndarray) -> np.ndarray:
        parts = self._margin_parts(x)
        return np.column_stack([parts, np.full(len(parts), self._bias)])

    def save(self, directory: Path) -> None:
        require_fitted(self, "estimator_")
        dump_estimator(self.estimator_, directory)

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> LogisticRegressionClassifier:
        params = dict(params)
        model = cls(random_state=int(params.pop("random_state", 0)), **params)
        model.estimator_ = load_estimator(directory)
        model._unpack()
        return model
