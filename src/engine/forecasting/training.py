"""Training a forecasting asset: every series backtested with every listed algorithm (and the
seasonal-naive reference), the best per series by the configured metric kept, its final
forecast path and interval calibration stored.

Series are independent, so they are fitted in parallel worker processes. A worker returns the
chosen model as its saved files rather than as a live object: statsmodels, Prophet and torch
objects do not all cross process boundaries reliably, their own file formats do.
"""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from joblib import Parallel, delayed

from engine.algorithms import make_forecaster
from engine.domain.asset_config import Configuration
from engine.errors import DataValidationError, EngineError, FieldProblem
from engine.forecasting import backtest
from engine.forecasting.series import PreparedFrame, PreparedSeries, filled
from engine.training.progress import Progress, silent

BASELINE = "seasonal_naive"
IDLE_WORKER_SECONDS = 5


@dataclass(frozen=True)
class SeriesPlan:
    algorithms: list[str]
    hyperparameters: dict[str, dict[str, Any]]
    horizon: int
    period: int
    folds: int
    initial: int | None
    seed: int
    transform: str
    selection_metric: str
    levels: list[float]


@dataclass
class SeriesOutcome:
    key: dict[str, Any]
    label: str
    algorithm: str
    params: dict[str, Any]
    summary: dict[str, Any]
    model_files: dict[str, bytes]
    mean: np.ndarray | None
    """Model-space forecast path from the end of the series (None when it needs regressors)."""
    scale: np.ndarray | None
    scores: np.ndarray
    """The chosen algorithm's (folds, horizon) calibration scores."""
    backtests: dict[str, backtest.Backtest]
    failures: dict[str, str]
    points: int
    last_date: str
    filled_dates: int
    filled_values: int
    seconds: float

    @property
    def metrics(self) -> dict[str, dict[str, float]]:
        return {name: result.metrics for name, result in self.backtests.items()}


@dataclass
class ForecastOutcome:
    frame: PreparedFrame
    series: list[SeriesOutcome]
    plan: SeriesPlan
    metrics: dict[str, float]
    scores_by_algorithm: dict[str, dict[str, float]]
    durations: dict[str, float] = field(default_factory=dict)


def plan_of(config: Configuration, frame: PreparedFrame) -> SeriesPlan:
    period = config.backtest.period or frame.horizon
    return SeriesPlan(
        algorithms=list(config.algorithms),
        hyperparameters=dict(config.hyperparameters),
        horizon=frame.horizon,
        period=period,
        folds=config.cross_validation_folds,
        initial=config.backtest.initial,
        seed=config.random_state,
        transform=config.value_transform,
        selection_metric=config.selection_metric,
        levels=list(config.confidence_levels),
    )


def default_initial(season_length: int, horizon: int) -> int:
    """Fewest steps a fold fits on when the asset does not say: two seasons and a horizon, so a
    seasonal model sees every season at least twice."""
    return max(2 * season_length + 2, horizon, 10)


def fit_series(prepared: PreparedSeries, plan: SeriesPlan) -> SeriesOutcome:
    started = time.perf_counter()
    series = prepared.data
    initial = plan.initial or default_initial(series.season_length, plan.horizon)
    fold_cutoffs = backtest.cutoffs(len(series), plan.horizon, plan.period, plan.folds, initial)
    if not fold_cutoffs:
        raise DataValidationError(
            f"series {prepared.label} has {len(series)} points: too few for one backtest fold of "
            f"{plan.horizon} steps after at least {initial} training steps",
            [
                FieldProblem(
                    "configuration.prediction_horizon",
                    f"series {prepared.label}: {len(series)} points cannot hold out {plan.horizon} "
                    f"steps after {initial}; shorten the horizon or set configuration.backtest.initial",
                )
            ],
        )
    backtests: dict[str, backtest.Backtest] = {}
    finals: dict[str, Any] = {}
    failures: dict[str, str] = {}
    for name in [*plan.algorithms, *([BASELINE] if BASELINE not in plan.algorithms else [])]:
        # A bad hyperparameter is the configuration's fault, not this series': it propagates.
        model = make_forecaster(name, plan.hyperparameters.get(name, {}), random_state=plan.seed)
        fit_on = series if getattr(model, "accepts_missing", False) else filled(series)
        try:
            model.fit(fit_on)
            backtests[name] = backtest.run(
                name,
                model.frozen_hyperparameters(),
                fit_on,
                series.y,
                fold_cutoffs,
                plan.horizon,
                plan.seed,
                plan.transform,
                plan.levels,
            )
            finals[name] = model
        except EngineError as exc:
            failures[name] = exc.message
        except (ValueError, ArithmeticError, np.linalg.LinAlgError, RuntimeError) as exc:
            failures[name] = f"{type(exc).__name__}: {exc}"
    candidates = [a for a in plan.algorithms if a in backtests]
    if not candidates:
        reasons = "; ".join(f"{a}: {failures.get(a, 'not fitted')}" for a in plan.algorithms)
        raise DataValidationError(
            f"series {prepared.label}: no algorithm could be fitted ({reasons})",
            [FieldProblem("configuration.algorithms", f"series {prepared.label}: {reasons}")],
        )
    best = min(candidates, key=lambda a: _rank(backtests[a].metrics[plan.selection_metric]))
    model = finals[best]
    mean = scale = None
    if series.regressors is None:
        path = model.forecast(plan.horizon)
        mean, scale = path.mean, path.scale
    return SeriesOutcome(
        key=prepared.key,
        label=prepared.label,
        algorithm=best,
        params=model.get_params(),
        summary=model.summary(),
        model_files=_saved(model),
        mean=mean,
        scale=scale,
        scores=backtests[best].scores,
        backtests=backtests,
        failures=failures,
        points=len(series),
        last_date=series.index[-1].isoformat(),
        filled_dates=prepared.filled_dates,
        filled_values=prepared.filled_values,
        seconds=time.perf_counter() - started,
    )


def _rank(value: float) -> float:
    return value if np.isfinite(value) else float("inf")


def _saved(model: Any) -> dict[str, bytes]:
    with tempfile.TemporaryDirectory() as directory:
        root = Path(directory)
        model.save(root)
        return {
            p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()
        }


def workers(series_count: int) -> int:
    """Processes to fit series in: one per core, none beyond the series there are (a single
    series is fitted in this process, sparing the start-up of a worker)."""
    return max(1, min(series_count, os.cpu_count() or 1))


def fit_all(
    frame: PreparedFrame, plan: SeriesPlan, progress: Progress = silent
) -> Iterator[SeriesOutcome]:
    """Outcomes in the order of `frame.series`, yielded as they finish (for progress)."""
    jobs = workers(len(frame.series))
    if jobs == 1:
        outcomes: Iterator[SeriesOutcome] = (fit_series(p, plan) for p in frame.series)
    else:
        # Idle workers leave after a few seconds: a serving or job process that trains now and
        # then should not keep two processes of loaded models around, nor wait minutes for them
        # on exit.
        parallel = Parallel(
            n_jobs=jobs,
            backend="loky",
            return_as="generator",
            idle_worker_timeout=IDLE_WORKER_SECONDS,
        )
        outcomes = parallel(delayed(fit_series)(p, plan) for p in frame.series)
    total = len(frame.series)
    for i, outcome in enumerate(outcomes):
        progress("training", (i + 1) / total, f"series {i + 1}/{total} fitted")
        yield outcome


def summarise(
    outcomes: list[SeriesOutcome], plan: SeriesPlan
) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """Asset-level metrics of the chosen models (means over series), and each algorithm's mean
    backtest metrics over the series it was fitted on."""
    chosen = [o.backtests[o.algorithm].metrics for o in outcomes]
    names = sorted({k for m in chosen for k in m})
    metrics = {name: _nanmean([m.get(name, np.nan) for m in chosen]) for name in names}
    by_algorithm: dict[str, dict[str, float]] = {}
    for algorithm in sorted({a for o in outcomes for a in o.backtests}):
        rows = [o.backtests[algorithm].metrics for o in outcomes if algorithm in o.backtests]
        keys = sorted({k for m in rows for k in m})
        by_algorithm[algorithm] = {k: _nanmean([m.get(k, np.nan) for m in rows]) for k in keys}
        by_algorithm[algorithm]["series"] = float(len(rows))
        by_algorithm[algorithm]["chosen_for"] = float(
            sum(o.algorithm == algorithm for o in outcomes)
        )
    metrics["series"] = float(len(outcomes))
    return metrics, by_algorithm


def _nanmean(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")
