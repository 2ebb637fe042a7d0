"""Cohort intervals: the cohort rate, interval invariants, and coverage on calibrated data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from engine.intervals import CohortInterval, cohort_rates

probabilities = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)


def _brute_force_rates(p: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    """For each case: the mean outcome of the k consecutive cases (in score order, ties kept in
    input order) whose window is centred on it, shifted inward at the ends."""
    n = len(p)
    k = max(1, min(k, n))
    ranked = sorted(range(n), key=lambda i: (p[i], i))
    rates = np.empty(n)
    for rank, i in enumerate(ranked):
        start = min(max(rank - k // 2, 0), n - k)
        window = ranked[start : start + k]
        assert i in window
        rates[i] = sum(float(y[j]) for j in window) / k
    return rates


@pytest.mark.parametrize(("n", "k"), [(1, 1), (7, 3), (50, 10), (51, 4), (30, 30), (12, 100)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cohort_rates_match_brute_force(n: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    p = np.round(rng.random(n), 1)  # rounding makes ties
    y = rng.integers(0, 2, n)
    np.testing.assert_allclose(cohort_rates(p, y, k), _brute_force_rates(p, y, k))


def test_cohort_rates_edge_sizes() -> None:
    p = np.array([0.9, 0.1, 0.5, 0.3])
    y = np.array([1, 0, 1, 0])
    np.testing.assert_array_equal(cohort_rates(p, y, 1), y.astype(float))
    np.testing.assert_array_equal(cohort_rates(p, y, 99), np.full(4, 0.5))


@given(
    p=arrays(np.float64, st.integers(1, 300), elements=probabilities),
    data=st.data(),
    level=st.sampled_from([0.5, 0.8, 0.9, 0.95]),
)
@settings(max_examples=60, deadline=None)
def test_fitted_bounds_contain_p_and_stay_in_unit_interval(
    p: np.ndarray, data: st.DataObject, level: float
) -> None:
    y = data.draw(arrays(np.int64, len(p), elements=st.integers(0, 1)))
    interval = CohortInterval.fit(p, y, level=level)
    probes = data.draw(arrays(np.float64, st.integers(1, 50), elements=probabilities))
    for points in (p, probes):
        lower, upper = interval.bounds(points)
        assert np.all(lower <= points)
        assert np.all(points <= upper)
        assert np.all(lower >= 0.0)
        assert np.all(upper <= 1.0)


@given(
    low=st.floats(-10, 0, allow_nan=False),
    high=st.floats(0, 10, allow_nan=False),
    k=st.integers(5, 50),
    p=arrays(np.float64, st.integers(1, 50), elements=probabilities),
)
def test_bounds_hold_for_any_residuals(low: float, high: float, k: int, p: np.ndarray) -> None:
    interval = CohortInterval(0.9, k, 500, low, high, 1000)
    lower, upper = interval.bounds(p)
    assert np.all((lower >= 0) & (lower <= p) & (p <= upper) & (upper <= 1))


@pytest.fixture(scope="module")
def calibrated() -> CohortInterval:
    rng = np.random.default_rng(7)
    p = rng.uniform(0.0, 1.0, 10_000)
    return CohortInterval.fit(p, (rng.random(10_000) < p).astype(int), level=0.9)


@given(p=st.floats(min_value=1e-6, max_value=1 - 1e-6))
def test_width_is_positive_strictly_inside_the_unit_interval(
    calibrated: CohortInterval, p: float
) -> None:
    lower, upper = calibrated.bounds(np.array([p]))
    assert upper[0] - lower[0] > 0
    assert lower[0] < p < upper[0] or lower[0] == 0.0 or upper[0] == 1.0


def test_fitted_residuals_are_ordered(calibrated: CohortInterval) -> None:
    assert calibrated.residual_low < 0 < calibrated.residual_high
    assert calibrated.cohort_size == 50
    assert calibrated.reference_size == 500
    assert calibrated.calibration_rows == 10_000
    lower, upper = calibrated.bounds(np.array([0.0, 0.5, 1.0]))
    assert lower[0] == 0.0
    assert upper[2] == 1.0
    assert np.all(upper - lower > 0)


def _calibrated_coverage(seed: int, level: float = 0.9, n: int = 20_000) -> float:
    rng = np.random.default_rng(seed)
    p_true = rng.beta(2.0, 5.0, n)
    y = (rng.random(n) < p_true).astype(int)
    half = n // 2
    interval = CohortInterval.fit(p_true[:half], y[:half], level=level, seed=seed)
    return interval.coverage(p_true[half:], y[half:], seed=seed + 1)


def test_coverage_on_perfectly_calibrated_scores_is_near_the_level() -> None:
    # One split's coverage has a standard deviation of about 0.02 (cohorts within a reference
    # chunk are strongly correlated), so each split gets a wide band and the mean a tight one.
    coverages = np.array([_calibrated_coverage(seed) for seed in range(8)])
    assert np.all(np.abs(coverages - 0.9) <= 0.08), coverages
    assert abs(coverages.mean() - 0.9) <= 0.03, coverages
    assert abs(_calibrated_coverage(0) - 0.9) <= 0.03


def test_coverage_tracks_the_level() -> None:
    low = np.mean([_calibrated_coverage(seed, level=0.6) for seed in range(4)])
    assert abs(low - 0.6) <= 0.05
    assert low < np.mean([_calibrated_coverage(seed, level=0.9) for seed in range(4)])


def test_miscalibrated_scores_are_not_covered() -> None:
    rng = np.random.default_rng(3)
    p = rng.uniform(0.2, 0.8, 20_000)
    y = (rng.random(20_000) < p).astype(int)
    interval = CohortInterval.fit(p[:10_000], y[:10_000])
    shifted = np.clip(p[10_000:] + 0.15, 0, 1)  # scores 15 points too high
    assert interval.coverage(shifted, y[10_000:]) < 0.5


def test_to_dict_from_dict_round_trip(calibrated: CohortInterval) -> None:
    data = json.loads(json.dumps(calibrated.to_dict()))
    restored = CohortInterval.from_dict(data)
    assert restored == calibrated
    points = np.linspace(0, 1, 11)
    for a, b in zip(restored.bounds(points), calibrated.bounds(points), strict=True):
        np.testing.assert_array_equal(a, b)
    assert "90%" in restored.describe()
