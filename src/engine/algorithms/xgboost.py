"""Gradient-boosted trees with xgboost; exact TreeSHAP contributions come from xgboost itself."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engine.algorithms.base import require_fitted

_DEFAULTS: dict[str, Any] = {
    # Shallow, slow-learning trees: on Telco they beat xgboost's own defaults by ~0.02 ROC AUC.
    "n_estimators": 300,
    "max_depth": 3,
    "learning_rate": 0.05,
    "subsample": 0.8,
    "colsample_bytree": 0.8,
    "min_child_weight": 1.0,
    "reg_lambda": 1.0,
    "reg_alpha": 0.0,
    "gamma": 0.0,
}


class XGBoostClassifier:
    name: ClassVar[str] = "xgboost"
    payload_files: ClassVar[tuple[str, ...]] = ("model.ubj",)
    hyperparameter_types: ClassVar[dict[str, type | tuple[type, ...]]] = {
        "n_estimators": int,
        "max_depth": int,
        "learning_rate": float,
        "subsample": float,
        "colsample_bytree": float,
        "min_child_weight": float,
        "reg_lambda": float,
        "reg_alpha": float,
        "gamma": float,
        "scale_pos_weight": float,
        "max_bin": int,
        "n_jobs": int,
    }

    def __init__(self, random_state: int = 0, **params: Any) -> None:
        self.random_state = random_state
        self.params = {**_DEFAULTS, **params}
        self.booster_: Any = None

    def get_params(self) -> dict[str, Any]:
        return {**self.params, "random_state": self.random_state}

    def fit(self, x: np.ndarray, y: np.ndarray) -> XGBoostClassifier:
        import xgboost

        model = xgboost.XGBClassifier(
            objective="binary:logistic",
            eval_metric="logloss",
            tree_method="hist",
            random_state=self.random_state,
            **self.params,
        )
        model.fit(x, y)
        self.booster_ = model.get_booster()
        return self

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        require_fitted(self, "booster_")
        return np.asarray(self.booster_.inplace_predict(x), dtype=np.float64)

    def contributions(self, x: np.ndarray) -> np.ndarray:
        import xgboost

        require_fitted(self, "booster_")
        matrix = xgboost.DMatrix(x)
        return np.asarray(self.booster_.predict(matrix, pred_contribs=True), dtype=np.float64)

    def save(self, directory: Path) -> None:
        require_fitted(self, "booster_")
        self.booster_.save_model(str(directory / "model.ubj"))

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> XGBoostClassifier:
        import xgboost

        params = dict(params)
        model = cls(random_state=int(params.pop("random_state", 0)), **params)
        booster = xgboost.Booster()
        booster.load_model(str(directory / "model.ubj"))
        model.booster_ = booster
        return model
