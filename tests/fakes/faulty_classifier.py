"""A logistic regression whose fault is part of the trained version, not of the code serving it.

Training predicts on many rows at a time (cross-validation, holdout, calibration), and so does
a serving process warming a new version (on one all-zero row); a single execution predicts on
one real row. The extra hyperparameters act only on that last case, so a version trained with
them trains and deploys cleanly and misbehaves only once real traffic reaches it:

- `single_row_failure`: scoring one (non-zero) row raises RuntimeError;
- `single_row_delay_ms`: scoring one (non-zero) row sleeps that long first.

They are saved with the version (`get_params` → the manifest's params → `load`), so the fault
comes back in every process that loads the version. Register it where a test needs it:

    ALGORITHMS.register("faulty", "tests.fakes.faulty_classifier:FaultyClassifier")
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engine.algorithms.linear import LogisticRegressionClassifier

FAULTS: dict[str, Any] = {"single_row_failure": False, "single_row_delay_ms": 0.0}


class FaultyClassifier(LogisticRegressionClassifier):
    name: ClassVar[str] = "faulty"
    hyperparameter_types: ClassVar[dict[str, type | tuple[type, ...]]] = {
        **LogisticRegressionClassifier.hyperparameter_types,
        "single_row_failure": bool,
        "single_row_delay_ms": float,
    }

    def __init__(self, random_state: int = 0, **params: Any) -> None:
        self.faults = {name: params.pop(name, default) for name, default in FAULTS.items()}
        super().__init__(random_state=random_state, **params)  # the rest goes to scikit-learn

    def get_params(self) -> dict[str, Any]:
        return {**super().get_params(), **self.faults}

    @staticmethod
    def _one_request_row(x: np.ndarray) -> bool:
        """One row of a request, as opposed to a training matrix or a warm-up probe."""
        return len(x) == 1 and bool(np.any(x))

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        # Every scoring path (with or without contributions) starts here: the delay applies once.
        if self._one_request_row(x):
            if self.faults["single_row_delay_ms"]:
                time.sleep(float(self.faults["single_row_delay_ms"]) / 1000)
            self._fail()
        return super().predict_proba(x)

    def contributions(self, x: np.ndarray) -> np.ndarray:
        if self._one_request_row(x):
            self._fail()
        return super().contributions(x)

    def _fail(self) -> None:
        if self.faults["single_row_failure"]:
            raise RuntimeError("faulty version: cannot score a single row")

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> FaultyClassifier:
        loaded = super().load(directory, params)
        assert isinstance(loaded, FaultyClassifier)
        return loaded
