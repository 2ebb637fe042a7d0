"""What every classifier adapter provides, and the checks they share."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np

from engine.errors import ConflictError, ValidationError


@runtime_checkable
class Classifier(Protocol):
    """A binary classifier over an encoded float matrix."""

    name: ClassVar[str]
    payload_files: ClassVar[tuple[str, ...]]
    hyperparameter_types: ClassVar[dict[str, type | tuple[type, ...]]]

    def fit(self, x: np.ndarray, y: np.ndarray) -> Classifier: ...

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """Probability of the positive class, shape (n,)."""
        ...

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Signed contributions, shape (n, n_columns + 1); the last column is the bias, and each
        row sums to the row's margin (log-odds, or probability for averaging ensembles)."""
        ...

    def get_params(self) -> dict[str, Any]: ...

    def save(self, directory: Path) -> None: ...

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> Classifier: ...


_AT_LEAST_ONE = frozenset({"n_estimators", "max_depth", "max_iter", "min_samples_leaf", "max_bin"})


def validate_hyperparameters(cls: Any, algorithm: str, given: dict[str, Any]) -> dict[str, Any]:
    """Refuse names the algorithm does not take, and values of the wrong type."""
    allowed: dict[str, type | tuple[type, ...]] = cls.hyperparameter_types
    problems = []
    for key, value in given.items():
        field = f"hyperparameters.{algorithm}.{key}"
        if key not in allowed:
            close = difflib.get_close_matches(key, list(allowed), n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            problems.append((field, f"not a hyperparameter of {algorithm}{hint}"))
            continue
        expected = allowed[key]
        ok_int_for_float = isinstance(value, int) and expected in (float, (int, float))
        takes_bool = expected is bool or (isinstance(expected, tuple) and bool in expected)
        if (isinstance(value, bool) and not takes_bool) or not (
            isinstance(value, expected) or ok_int_for_float
        ):
            names = (
                expected.__name__
                if isinstance(expected, type)
                else " or ".join(t.__name__ for t in expected)
            )
            problems.append((field, f"must be {names}, got {value!r}"))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            minimum = 1 if key in _AT_LEAST_ONE else 0
            if value < minimum:
                problems.append((field, f"must be at least {minimum}, got {value!r}"))
    if problems:
        from engine.errors import FieldProblem

        raise ValidationError(
            f"Invalid hyperparameters for {algorithm}: "
            + "; ".join(f"{f}: {p}" for f, p in problems),
            [FieldProblem(f, p) for f, p in problems],
        )
    return dict(given)


def require_fitted(model: Any, attribute: str) -> None:
    if getattr(model, attribute, None) is None:
        raise ConflictError(f"{type(model).__name__} is not fitted yet; call fit() first.")


def logit(p: np.ndarray) -> np.ndarray:
    clipped = np.clip(p, 1e-12, 1 - 1e-12)
    return np.asarray(np.log(clipped / (1 - clipped)))
