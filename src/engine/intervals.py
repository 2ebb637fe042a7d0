"""Calibrated intervals around a predicted probability.

Method (split-conformal, cohort form). A probability cannot be checked against one outcome, but
the churn rate of a cohort of similar cases can. For a case scored `p`, its cohort is the
`cohort_size` cases with the nearest scores in a reference sample of `reference_size` cases; the
interval claims, at the nominal `level` (default 90%), to contain that cohort's observed event
rate. It is fitted on a calibration split the model never saw: each calibration case's cohort
rate `r` gives a residual `(r − p) / s(p)` with `s(p) = sqrt((p(1 − p) + 1/(4k)) / k)` (the
binomial spread of a cohort of k, floored so it never vanishes); the interval is `p` plus the
conformal quantiles of those residuals at `(1 − level)/2` and `(1 + level)/2`, clipped to [0, 1].
Because calibration and held-out cases are exchangeable, the same construction on held-out rows
covers at the nominal rate; `coverage()` measures exactly that, and training reports it.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

DEFAULT_REFERENCE_SIZE = 500
DEFAULT_COHORT_SIZE = 50


def cohort_rates(p: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """Event rate among the k cases with the nearest scores (a centred window in score order)."""
    n = len(p)
    k = max(1, min(k, n))
    order = np.argsort(p, kind="stable")
    sorted_y = y[order].astype(np.float64)
    cumulative = np.concatenate([[0.0], np.cumsum(sorted_y)])
    start = np.clip(np.arange(n) - k // 2, 0, n - k)
    rates_sorted = (cumulative[start + k] - cumulative[start]) / k
    rates = np.empty(n)
    rates[order] = rates_sorted
    return rates


def _chunks(n: int, reference_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    count = max(1, round(n / reference_size))
    return np.array_split(rng.permutation(n), count)


def _conformal_quantile(values: np.ndarray, q: float) -> float:
    n = len(values)
    rank = math.ceil((n + 1) * q) if q >= 0.5 else math.floor((n + 1) * q)
    rank = min(max(rank, 1), n)
    return float(np.sort(values)[rank - 1])


@dataclass(frozen=True)
class CohortInterval:
    level: float
    cohort_size: int
    reference_size: int
    residual_low: float
    residual_high: float
    calibration_rows: int

    @classmethod
    def fit(cls, p: np.ndarray, y: np.ndarray, level: float = 0.9, seed: int = 0) -> CohortInterval:
        if len(p) == 0:
            raise ValueError("calibrating an interval needs predictions, got none")
        reference = min(DEFAULT_REFERENCE_SIZE, len(p))
        k = max(5, min(DEFAULT_COHORT_SIZE, reference // 10))
        residuals = np.concatenate(
            [
                (cohort_rates(p[idx], y[idx], k) - p[idx]) / _spread(p[idx], k)
                for idx in _chunks(len(p), reference, np.random.default_rng(seed))
            ]
        )
        return cls(
            level=level,
            cohort_size=k,
            reference_size=reference,
            residual_low=_conformal_quantile(residuals, (1 - level) / 2),
            residual_high=_conformal_quantile(residuals, (1 + level) / 2),
            calibration_rows=len(p),
        )

    def bounds(self, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        spread = _spread(p, self.cohort_size)
        lower = np.clip(p + self.residual_low * spread, 0.0, 1.0)
        upper = np.clip(p + self.residual_high * spread, 0.0, 1.0)
        return np.minimum(lower, p), np.maximum(upper, p)

    def coverage(self, p: np.ndarray, y: np.ndarray, seed: int = 1) -> float:
        """Share of held-out cases whose cohort rate (same construction) lies in their interval."""
        hits = 0
        for idx in _chunks(len(p), self.reference_size, np.random.default_rng(seed)):
            rates = cohort_rates(p[idx], y[idx], self.cohort_size)
            lower, upper = self.bounds(p[idx])
            hits += int(np.sum((rates >= lower - 1e-12) & (rates <= upper + 1e-12)))
        return hits / len(p)

    def describe(self) -> str:
        return (
            f"split-conformal {self.level:.0%} interval for the event rate of the "
            f"{self.cohort_size} most similar cases in {self.reference_size} "
            f"(calibrated on {self.calibration_rows} rows the model was not fitted on)"
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CohortInterval:
        return cls(**data)


def _spread(p: np.ndarray, k: int) -> np.ndarray:
    return np.asarray(np.sqrt((p * (1 - p) + 1 / (4 * k)) / k))
