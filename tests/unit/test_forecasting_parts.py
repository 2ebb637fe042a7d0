"""Series preparation, frequency, backtest cutoffs, metrics and interval calibration."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.domain.asset_config import Configuration, ValidationRules
from engine.errors import DataValidationError
from engine.forecasting import frequency, intervals, metrics
from engine.forecasting.backtest import cutoffs, percent_label
from engine.forecasting.series import prepare


def _config(**overrides: object) -> Configuration:
    base: dict[str, object] = {
        "model_type": "time_series",
        "algorithms": ["seasonal_naive"],
        "date_column": "date",
        "target_variable": "y",
    }
    return Configuration.model_validate({**base, **overrides})


def _frame(dates: pd.DatetimeIndex, **columns: object) -> pd.DataFrame:
    return pd.DataFrame(
        {"date": dates.strftime("%Y-%m-%d"), "y": np.arange(len(dates), dtype=float) + 1, **columns}
    )


RULES = ValidationRules(min_data_points=5)


@pytest.mark.parametrize(
    ("dates", "expected", "season"),
    [
        (pd.date_range("2024-01-01", periods=60, freq="D"), "D", 7),
        (pd.date_range("2024-01-01", periods=60, freq="D").delete([5, 6, 30]), "D", 7),
        (pd.date_range("2020-01-01", periods=30, freq="MS").delete([4]), "MS", 12),
        (pd.date_range("2020-01-31", periods=30, freq="ME"), "ME", 12),
        (pd.date_range("2024-01-07", periods=30, freq="W-SUN").delete([9]), "W-SUN", 52),
        (pd.date_range("2024-01-01", periods=30, freq="h"), "h", 24),
        (pd.date_range("2010-01-01", periods=12, freq="QS"), "QS-JAN", 4),
    ],
)
def test_frequency_is_inferred_through_gaps(
    dates: pd.DatetimeIndex, expected: str, season: int
) -> None:
    found = frequency.infer(dates)
    assert found == expected
    assert frequency.season_length(found) == season


def test_one_series_per_key_with_gaps_left_missing_and_reported() -> None:
    dates = pd.date_range("2024-01-01", periods=40, freq="D")
    a = _frame(dates.delete([10, 11]), k="a")
    b = _frame(dates, k="b")
    prepared = prepare(pd.concat([b, a]), "t", _config(series_keys=["k"]), RULES)
    assert [s.key for s in prepared.series] == [{"k": "a"}, {"k": "b"}]
    first = prepared.series[0]
    assert len(first.data) == 40
    assert np.isnan(first.data.y).sum() == 2
    assert first.filled_dates == 2
    assert prepared.frequency == "D"
    assert prepared.horizon == 30
    assert any("k=a: 2 missing dates" in note for note in prepared.notes)


def test_log_transform_and_horizon_from_configuration() -> None:
    dates = pd.date_range("2020-01-01", periods=36, freq="MS")
    prepared = prepare(
        _frame(dates), "t", _config(value_transform="log", prediction_horizon=6), RULES
    )
    assert prepared.horizon == 6
    assert np.allclose(np.exp(prepared.series[0].data.y), np.arange(36) + 1)


@pytest.mark.parametrize(
    ("frame", "overrides", "field", "fragment"),
    [
        (
            pd.DataFrame({"date": ["2024-01-01", "soon", "2024-01-03"], "y": [1.0, 2, 3]}),
            {},
            "configuration.date_column",
            "not dates",
        ),
        (
            _frame(
                pd.date_range("2024-01-01", periods=10, freq="D").append(
                    pd.DatetimeIndex(["2024-01-03"])
                )
            ),
            {},
            "configuration.date_column",
            "more than once",
        ),
        (
            _frame(pd.date_range("2024-01-01", periods=10, freq="D")),
            {"frequency": "W"},
            "configuration.frequency",
            "configured as W-SUN",
        ),
        (
            _frame(pd.date_range("2024-01-01", periods=10, freq="D")),
            {"series_keys": ["region"]},
            "configuration.series_keys[0]",
            "not in table",
        ),
        (
            _frame(pd.date_range("2024-01-01", periods=10, freq="D"), promo=["x"] * 10),
            {"features": ["promo"]},
            "configuration.features[0]",
            "must be a number",
        ),
        (
            _frame(pd.date_range("2024-01-01", periods=3, freq="D")),
            {},
            "validation_rules.min_data_points",
            "3 points",
        ),
        (
            pd.DataFrame({"date": ["2024-01-01", "2024-01-02", "2024-01-03"], "y": [1.0, -2, 3]}),
            {"value_transform": "log"},
            "configuration.value_transform",
            "positive",
        ),
    ],
)
def test_bad_training_data_names_the_field(
    frame: pd.DataFrame, overrides: dict[str, object], field: str, fragment: str
) -> None:
    rules = ValidationRules(min_data_points=5 if field == "validation_rules.min_data_points" else 1)
    with pytest.raises(DataValidationError) as caught:
        prepare(frame, "t", _config(**overrides), rules)
    assert field in {d.field for d in caught.value.details}
    assert fragment in caught.value.message


def test_missing_date_and_value_columns_are_both_named() -> None:
    config = Configuration.model_validate({"model_type": "time_series", "algorithms": ["arima"]})
    with pytest.raises(DataValidationError) as caught:
        prepare(pd.DataFrame({"x": [1]}), "t", config, RULES)
    assert {d.field for d in caught.value.details} == {
        "configuration.date_column",
        "configuration.target_variable",
    }


@given(
    n=st.integers(5, 400),
    horizon=st.integers(1, 30),
    period=st.integers(1, 30),
    folds=st.integers(1, 20),
    initial=st.integers(1, 100),
)
def test_cutoffs_leave_a_full_horizon_and_enough_history(
    n: int, horizon: int, period: int, folds: int, initial: int
) -> None:
    found = cutoffs(n, horizon, period, folds, initial)
    assert len(found) <= folds
    assert found == sorted(set(found))
    for cut in found:
        assert cut >= initial
        assert cut + horizon <= n
    if found:
        assert found[-1] == n - horizon
        assert all(b - a == period for a, b in itertools.pairwise(found))


def test_metrics_against_hand_computed_values() -> None:
    actual = np.array([10.0, 20.0, 0.0, 40.0])
    predicted = np.array([12.0, 18.0, 1.0, 40.0])
    scale = np.full(4, 2.0)
    found = metrics.accuracy(actual, predicted, scale)
    assert found["rmse"] == pytest.approx(math.sqrt((4 + 4 + 1 + 0) / 4))
    assert found["mape"] == pytest.approx((0.2 + 0.1 + 0.0) / 3)  # the zero actual is skipped
    assert found["smape"] == pytest.approx((4 / 22 + 4 / 38 + 2 / 1 + 0) / 4)
    assert found["mase"] == pytest.approx((1 + 1 + 0.5 + 0) / 4)
    assert metrics.naive_scale(np.array([1.0, 2, 4, 7]), 1) == pytest.approx(2.0)
    assert metrics.naive_scale(np.array([1.0, 2, 4, 7]), 2) == pytest.approx(4.0)


def test_percent_labels() -> None:
    assert [percent_label(x) for x in (0.8, 0.95, 0.975, 0.5)] == ["80", "95", "97.5", "50"]


@settings(max_examples=25, deadline=None)
@given(level=st.sampled_from([0.5, 0.8, 0.9, 0.95]), seed=st.integers(0, 10_000))
def test_conformal_intervals_cover_exchangeable_errors(level: float, seed: int) -> None:
    """Calibrated on 10,000 scores, the interval covers about `level` of 10,000 new errors from
    the same distribution, even though the model's own σ is off by a factor of three (the
    tolerance is over four standard deviations of the two samples' combined noise)."""
    rng = np.random.default_rng(seed)
    sigma = np.full(10_000, 1.0)
    errors = rng.standard_t(5, 10_000) * 3.0
    scores = intervals.scores_of(errors, sigma)
    q = intervals.conformal_quantile(scores, level)
    fresh = rng.standard_t(5, 10_000) * 3.0
    covered = float(np.mean(np.abs(fresh) <= q))
    assert covered == pytest.approx(level, abs=0.03)


def test_conformal_quantile_rank_and_small_samples() -> None:
    scores = np.arange(1.0, 11.0)  # 1..10
    assert intervals.conformal_quantile(scores, 0.8) == 9.0  # ⌈11·0.8⌉ = 9th
    assert intervals.conformal_quantile(scores, 0.95) == 10.0  # capped at the largest
    assert math.isnan(intervals.conformal_quantile(np.array([]), 0.8))


def test_cross_fitted_coverage_uses_the_other_folds() -> None:
    """A fold whose errors are far larger than the others' is not covered by their quantile."""
    scores = np.vstack([np.full(30, 0.5), np.full(30, 0.5), np.full(30, 50.0)])
    assert intervals.cross_fitted_coverage(scores, 0.8) == pytest.approx(2 / 3)


def test_step_quantiles_follow_errors_that_grow_with_the_horizon() -> None:
    """Scores that grow along the horizon (a model whose σ stays flat while its errors grow)
    get quantiles that grow too once there are enough scores to read each step's
    neighbourhood; with few scores every step is pooled."""
    rng = np.random.default_rng(0)
    horizon, folds = 100, 30
    growth = np.linspace(1.0, 3.0, horizon)
    scores = np.abs(rng.normal(size=(folds, horizon))) * growth
    q = intervals.step_quantiles(scores, 0.8)
    assert q[:10].mean() < 0.6 * q[-10:].mean()
    assert np.all(np.diff(q[::10]) > -0.3)
    few = scores[:2, :10]
    pooled = intervals.step_quantiles(few, 0.8)
    assert np.allclose(pooled, pooled[0])  # 20 scores: one window over every step
    assert pooled[0] == intervals.conformal_quantile(np.sort(few.ravel()), 0.8)


def test_step_quantiles_cover_their_level_at_every_horizon() -> None:
    """Calibrated on one backtest, intervals cover about their level at the start and at the
    end of the horizon of a second, independent one."""
    rng = np.random.default_rng(1)
    growth = np.linspace(1.0, 4.0, 60)
    calibration = np.abs(rng.standard_t(6, size=(40, 60))) * growth
    fresh = np.abs(rng.standard_t(6, size=(400, 60))) * growth
    for level in (0.8, 0.95):
        q = intervals.step_quantiles(calibration, level)
        early = float(np.mean(fresh[:, :15] <= q[:15]))
        late = float(np.mean(fresh[:, -15:] <= q[-15:]))
        assert early == pytest.approx(level, abs=0.04)
        assert late == pytest.approx(level, abs=0.04)


def test_unscored_points_are_skipped() -> None:
    scores = np.array([[1.0, np.nan, 3.0], [2.0, 2.0, np.nan]])
    q = intervals.step_quantiles(scores, 0.5)
    assert np.isfinite(q).all()
    # Fold 0 judged by fold 1's largest score (2): 1 in, 3 out; fold 1 by fold 0's (3): both in.
    assert intervals.cross_fitted_coverage(scores, 0.99) == pytest.approx(3 / 4)
