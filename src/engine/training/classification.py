"""Fit, compare, calibrate and measure binary classifiers.

The rows are split once: a stratified holdout (`validation_split`) that nothing is fitted or
calibrated on, and the training rows. Every candidate algorithm is cross-validated on the
training rows (`cross_validation_folds`); the best by mean ROC AUC wins. It is then fitted on 80%
of the training rows and its intervals are calibrated on the other 20%, scored by that same
final model (split conformal: calibration and future cases are exchangeable, so the stated
coverage holds; calibrating on out-of-fold predictions of other models over-covered by ~4
points on Telco). Metrics, interval coverage and global importances are measured on the
holdout.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    f1_score,
    log_loss,
    precision_score,
    recall_score,
    roc_auc_score,
)
from sklearn.model_selection import StratifiedKFold, train_test_split

from engine.algorithms import Classifier, make_classifier
from engine.domain.asset_config import Configuration
from engine.errors import DataValidationError, FieldProblem, ValidationError
from engine.features import FeatureEncoder, encode_target
from engine.features.encoder import CoercionReport
from engine.intervals import CohortInterval
from engine.trained_model import TrainedModel
from engine.training.progress import Progress, silent

CALIBRATION_SHARE = 0.2
"""Share of the training rows the final model is not fitted on, kept to calibrate intervals."""


@dataclass
class TrainingOutcome:
    model: TrainedModel
    metrics: dict[str, float]
    cv_scores: dict[str, dict[str, float]]
    global_importance: dict[str, float]
    coercions: list[CoercionReport]
    rows: dict[str, int]
    dropped_target_rows: int
    durations: dict[str, float] = field(default_factory=dict)
    holdout: dict[str, Any] = field(default_factory=dict)


def _classification_metrics(y: np.ndarray, p: np.ndarray) -> dict[str, float]:
    predicted = (p >= 0.5).astype(int)
    return {
        "accuracy": float(accuracy_score(y, predicted)),
        "precision": float(precision_score(y, predicted, zero_division=0)),
        "recall": float(recall_score(y, predicted, zero_division=0)),
        "f1_score": float(f1_score(y, predicted, zero_division=0)),
        "auc_roc": float(roc_auc_score(y, p)),
        "log_loss": float(log_loss(y, np.clip(p, 1e-12, 1 - 1e-12), labels=[0, 1])),
        "brier_score": float(brier_score_loss(y, p)),
    }


MIN_HOLDOUT_PER_CLASS = 5


def _check_holdout(y: np.ndarray, validation_split: float) -> None:
    """Holdout metrics (ROC AUC above all) need both classes in the holdout, more than a few."""
    rarer = int(np.bincount(y, minlength=2).min())
    expected = int(np.floor(rarer * validation_split))
    if expected < MIN_HOLDOUT_PER_CLASS:
        raise DataValidationError(
            f"A validation_split of {validation_split} holds out about {expected} rows of the rarer "
            f"class; at least {MIN_HOLDOUT_PER_CLASS} are needed to measure the model.",
            [FieldProblem("configuration.validation_split", "too small for this data set")],
        )


def _check_classes(y: np.ndarray, folds: int, target: str) -> None:
    counts = np.bincount(y, minlength=2)
    needed = max(folds, 2) * 2
    if counts.min() < needed:
        raise DataValidationError(
            f"The target '{target}' has only {counts.min()} rows of its rarer class; "
            f"at least {needed} are needed to hold out and cross-validate.",
            [FieldProblem("configuration.target_variable", f"rarer class has {counts.min()} rows")],
        )


def _fit(
    algorithm: str, params: dict[str, Any], x: np.ndarray, y: np.ndarray, seed: int
) -> Classifier:
    model = make_classifier(algorithm, params, random_state=seed)
    try:
        return model.fit(x, y)
    except (ValueError, TypeError) as exc:  # the estimator's own parameter checks
        raise ValidationError(
            f"{algorithm} could not be fitted with hyperparameters {params}: {exc}",
            [FieldProblem(f"hyperparameters.{algorithm}", str(exc))],
        ) from exc


def _cross_validate(
    algorithm: str, params: dict[str, Any], x: np.ndarray, y: np.ndarray, folds: int, seed: int
) -> list[float]:
    scores = []
    for train_idx, test_idx in StratifiedKFold(folds, shuffle=True, random_state=seed).split(x, y):
        model = _fit(algorithm, params, x[train_idx], y[train_idx], seed)
        scores.append(float(roc_auc_score(y[test_idx], model.predict_proba(x[test_idx]))))
    return scores


def train_classifier(
    frame: pd.DataFrame,
    config: Configuration,
    features: Sequence[str],
    progress: Progress = silent,
) -> TrainingOutcome:
    assert config.target_variable is not None
    target = config.target_variable
    folds = config.cross_validation_folds
    durations: dict[str, float] = {}
    started = time.perf_counter()

    progress("data_preparation", 0.0, f"{len(frame)} rows loaded")
    usable = frame[frame[target].notna()].reset_index(drop=True)
    dropped = len(frame) - len(usable)
    y, positive = encode_target(usable[target], "configuration.target_variable")
    _check_classes(y, folds, target)
    _check_holdout(y, config.validation_split)
    train_idx, holdout_idx = train_test_split(
        np.arange(len(usable)),
        test_size=config.validation_split,
        stratify=y,
        random_state=config.random_state,
    )
    progress(
        "data_preparation", 1.0, f"{len(train_idx)} training rows, {len(holdout_idx)} holdout rows"
    )
    durations["data_preparation"] = time.perf_counter() - started

    mark = time.perf_counter()
    encoder = FeatureEncoder().fit(usable.iloc[train_idx], features)
    x_train = encoder.encode_frame(usable.iloc[train_idx])
    x_holdout = encoder.encode_frame(usable.iloc[holdout_idx])
    y_train, y_holdout = y[train_idx], y[holdout_idx]
    progress(
        "feature_engineering",
        1.0,
        f"{len(features)} features → {len(encoder.columns_)} model columns",
    )
    durations["feature_engineering"] = time.perf_counter() - mark

    mark = time.perf_counter()
    cv_scores: dict[str, dict[str, float]] = {}
    for i, algorithm in enumerate(config.algorithms):
        params = config.hyperparameters.get(algorithm, {})
        progress(
            "training",
            i / (len(config.algorithms) + 1),
            f"cross-validating {algorithm} ({folds} folds)",
        )
        scores = _cross_validate(algorithm, params, x_train, y_train, folds, config.random_state)
        cv_scores[algorithm] = {
            "auc_roc_mean": float(np.mean(scores)),
            "auc_roc_std": float(np.std(scores)),
        }
    best = max(config.algorithms, key=lambda a: cv_scores[a]["auc_roc_mean"])
    progress(
        "training",
        len(config.algorithms) / (len(config.algorithms) + 1),
        f"fitting {best} on all training rows",
    )
    fit_idx, calibration_idx = train_test_split(
        np.arange(len(y_train)),
        test_size=CALIBRATION_SHARE,
        stratify=y_train,
        random_state=config.random_state,
    )
    classifier = _fit(
        best,
        config.hyperparameters.get(best, {}),
        x_train[fit_idx],
        y_train[fit_idx],
        config.random_state,
    )
    interval = CohortInterval.fit(
        classifier.predict_proba(x_train[calibration_idx]),
        y_train[calibration_idx],
        config.confidence_level,
        seed=config.random_state,
    )
    model = TrainedModel(best, classifier, encoder, interval, target, positive)
    progress("training", 1.0, f"{best} fitted")
    durations["training"] = time.perf_counter() - mark

    mark = time.perf_counter()
    p_holdout, lower, upper = model.predict(x_holdout)
    metrics = _classification_metrics(y_holdout, p_holdout)
    metrics["interval_coverage"] = interval.coverage(p_holdout, y_holdout)
    metrics["interval_nominal_coverage"] = interval.level
    metrics["interval_mean_width"] = float(np.mean(upper - lower))
    metrics["cv_auc_roc"] = cv_scores[best]["auc_roc_mean"]
    contributions = np.abs(model.feature_contributions(x_holdout)).mean(axis=0)
    total = float(contributions.sum()) or 1.0
    importance = {
        name: round(float(v) / total, 6)
        for name, v in sorted(
            zip(encoder.feature_names_, contributions, strict=True), key=lambda kv: -kv[1]
        )
    }
    progress("validation", 1.0, f"holdout ROC AUC {metrics['auc_roc']:.4f}")
    durations["validation"] = time.perf_counter() - mark

    return TrainingOutcome(
        model=model,
        metrics=metrics,
        cv_scores=cv_scores,
        global_importance=importance,
        coercions=list(encoder.coercions_),
        rows={"total": len(frame), "training": len(train_idx), "holdout": len(holdout_idx)},
        dropped_target_rows=dropped,
        durations=durations,
        holdout={"y": y_holdout, "p": p_holdout},
    )
