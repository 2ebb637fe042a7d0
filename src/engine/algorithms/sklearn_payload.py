"""Payload files for scikit-learn estimators (joblib); loaded only after the artifact's sha256
has been checked against its manifest, since unpickling runs code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import joblib

ESTIMATOR_FILE = "estimator.joblib"


def dump_estimator(estimator: Any, directory: Path) -> None:
    joblib.dump(estimator, directory / ESTIMATOR_FILE, compress=3)


def load_estimator(directory: Path) -> Any:
    return joblib.load(directory / ESTIMATOR_FILE)
