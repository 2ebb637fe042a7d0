"""ARIMA on statsmodels' SARIMAX, with orders chosen the way auto.arima chooses them (Hyndman &
Khandakar, 2008) unless the hyperparameters fix them.

The differences come first: D from the seasonal strength of an STL decomposition (≥ 0.64, the
rule of auto.arima's `nsdiffs`), then d from repeated KPSS tests. A stepwise search over p, q, P
and Q follows (and, for a once-differenced series, whether to add a drift), scored on
conditional sums of squares as auto.arima does for long or seasonal series (its
`approximation`): a candidate costs a few linear filters, not a likelihood optimisation.

The chosen model's CSS estimates start a maximum-likelihood fit on the differenced series (fewer
states than in levels) held to a fixed budget of likelihood evaluations: training refits every
series once per backtest fold, and near the invertibility boundary, where deterministic
seasonality puts the seasonal MA, the optimiser would otherwise crawl for seconds to gain a
little likelihood. One filtering pass over the series itself then gives forecasts and standard
errors in levels; that likelihood skips missing values, so gaps need no filling.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from engine.algorithms.base import require_fitted, validate_hyperparameters
from engine.errors import FieldProblem, ValidationError
from engine.forecasting.base import PointForecast, SeriesData, positive_scale

PAYLOAD_FILE = "arima.json"
CRITERIA = ("aic", "bic", "aicc")
TRENDS = ("n", "c", "t", "ct")
SEASONAL_STRENGTH_THRESHOLD = 0.64
MAX_D = 2
MAX_SEASONAL_ARMA_PERIOD = 52
MAX_CANDIDATES = 12
MAX_EVALUATIONS = 20
MIN_OBSERVATIONS = 4
FIT_FAILURES = (np.linalg.LinAlgError, ValueError, FloatingPointError)

Orders = tuple[int, ...]
"""(p, q, P, Q): what the search moves."""
Bounds = tuple[tuple[int, int], ...]


class ArimaForecaster:
    """Seasonal ARIMA; with regressors, a regression with seasonal ARIMA errors."""

    name: ClassVar[str] = "arima"
    task: ClassVar[str] = "forecasting"
    supports_regressors: ClassVar[bool] = True
    accepts_missing: ClassVar[bool] = True
    payload_files: ClassVar[tuple[str, ...]] = (PAYLOAD_FILE,)
    hyperparameter_types: ClassVar[dict[str, type | tuple[type, ...]]] = {
        "order": list,
        "seasonal_order": list,
        "max_p": int,
        "max_q": int,
        "max_P": int,
        "max_Q": int,
        "seasonal": bool,
        "information_criterion": str,
        "trend": str,
    }

    def __init__(self, random_state: int = 0, **hyperparameters: Any) -> None:
        validate_hyperparameters(type(self), self.name, hyperparameters)
        _check_values(hyperparameters)
        self.random_state = random_state
        self.hyperparameters = dict(hyperparameters)
        self.results_: Any = None
        self.trend_ = "n"
        self.candidates_tried_ = 0

    def get_params(self) -> dict[str, Any]:
        return dict(self.hyperparameters)

    def fit(self, series: SeriesData) -> ArimaForecaster:
        y = np.asarray(series.y, dtype=float)
        observed = np.isfinite(y)
        if observed.sum() < MIN_OBSERVATIONS:
            raise ValidationError(
                f"ARIMA needs at least {MIN_OBSERVATIONS} observed values, got {observed.sum()}."
            )
        exog = None if series.regressors is None else np.asarray(series.regressors, dtype=float)
        # The tests and the search need every step; the likelihood skips missing ones itself.
        filled = np.interp(np.arange(len(y)), np.flatnonzero(observed), y[observed])
        with _quiet_single_threaded():
            order, seasonal_order, start = self._choose(filled, exog, series.season_length)
            try:
                self.results_ = _fit_exact(y, exog, order, seasonal_order, self.trend_, start)
            except FIT_FAILURES:
                if start is None:
                    raise
                self.results_ = _fit_exact(y, exog, order, seasonal_order, self.trend_, None)
        return self

    def _choose(
        self, y: np.ndarray, exog: np.ndarray | None, season_length: int
    ) -> tuple[tuple[int, int, int], tuple[int, int, int, int], np.ndarray | None]:
        """The orders (searched where the hyperparameters leave them open) and trend, and
        conditional-sum-of-squares estimates to start the exact fit from."""
        hp = self.hyperparameters
        order, seasonal = hp.get("order"), hp.get("seasonal_order")
        s = _season(seasonal, season_length, hp.get("seasonal", True), len(y))
        big_d = seasonal[1] if seasonal else _seasonal_diffs(y, s)
        d = order[1] if order else _kpss_diffs(_difference(y, 0, big_d, s))
        w = _difference(y, d, big_d, s)
        x = None if exog is None else _difference(exog, d, big_d, s)
        bounds = _bounds(hp, s)
        criterion = hp.get("information_criterion", "aicc")
        trend = hp.get("trend", "c" if d + big_d == 0 else "n")
        search = _CssSearch(w, x, trend, d + big_d * s, s, bounds, criterion)
        best = search.run()
        tried = search.tried
        if best is not None and "trend" not in hp and d + big_d == 1:
            # auto.arima's drift: a constant in a once-differenced series, kept on the criterion.
            drifting = _CssSearch(w, x, "c", d + big_d * s, s, bounds, criterion)
            with_drift = drifting.score(best.orders)
            tried += 1
            if _better(best, with_drift) is with_drift:
                search, best, trend = drifting, with_drift, "c"
        self.trend_, self.candidates_tried_ = trend, tried
        if best is None:
            p, q, big_p, big_q = bounds[0][0], order[2] if order else 1, bounds[2][0], bounds[3][0]
            start = None
        else:
            p, q, big_p, big_q = best.orders
            # Conditioned on what these orders need, as a refit with them frozen would be,
            # so that the refit on the same series starts from, and ends at, the same place.
            fixed: Bounds = tuple((v, v) for v in best.orders)
            own = _CssSearch(w, x, trend, d + big_d * s, s, fixed, criterion)
            refined = own.score(best.orders) if own.n_condition != search.n_condition else None
            start = own.start_params(refined) if refined else search.start_params(best)
        return (p, d, q), (big_p, big_d, big_q, s if big_p or big_d or big_q else 0), start

    def forecast(self, horizon: int, future_regressors: np.ndarray | None = None) -> PointForecast:
        require_fitted(self, "results_")
        k_exog = int(self.results_.model.k_exog)
        exog = None
        if k_exog:
            if future_regressors is None:
                raise ValidationError(
                    "This ARIMA model was fitted with regressors; forecasting needs their "
                    f"future values, an array of shape ({horizon}, {k_exog})."
                )
            exog = np.asarray(future_regressors, dtype=float)
            if exog.shape != (horizon, k_exog):
                raise ValidationError(
                    f"Future regressors must have shape ({horizon}, {k_exog}), got {exog.shape}."
                )
        with _quiet_single_threaded():
            prediction = self.results_.get_forecast(steps=horizon, exog=exog)
        se = np.asarray(prediction.se_mean, dtype=float)
        floor = 1e-9 * max(1.0, float(np.nanmax(np.abs(self.results_.model.endog))))
        return PointForecast(
            mean=np.asarray(prediction.predicted_mean, dtype=float),
            scale=positive_scale(se, floor),
        )

    def summary(self) -> dict[str, Any]:
        require_fitted(self, "results_")
        results = self.results_
        coefficients = dict(zip(results.model.param_names, map(float, results.params), strict=True))
        coefficients["sigma2"] = float(results.scale)
        return {
            **self._orders(),
            "coefficients": coefficients,
            "aic": _finite_or_none(results.aic),
            "bic": _finite_or_none(results.bic),
            "aicc": _finite_or_none(results.aicc),
            "log_likelihood": _finite_or_none(results.llf),
            "candidates_tried": self.candidates_tried_,
        }

    def frozen_hyperparameters(self) -> dict[str, Any]:
        require_fitted(self, "results_")
        return {**self.hyperparameters, **self._orders()}

    def _orders(self) -> dict[str, Any]:
        model = self.results_.model
        return {
            "order": [int(v) for v in model.order],
            "seasonal_order": [int(v) for v in model.seasonal_order],
            "trend": self.trend_,
        }

    def save(self, directory: Path) -> None:
        require_fitted(self, "results_")
        model = self.results_.model
        payload = {
            **self._orders(),
            "params": [float(v) for v in self.results_.params],
            "y": [float(v) if np.isfinite(v) else None for v in np.asarray(model.endog).ravel()],
            "exog": None if model.exog is None else np.asarray(model.exog, dtype=float).tolist(),
            "candidates_tried": self.candidates_tried_,
        }
        (directory / PAYLOAD_FILE).write_text(json.dumps(payload))

    @classmethod
    def load(cls, directory: Path, params: dict[str, Any]) -> ArimaForecaster:
        params = dict(params)
        forecaster = cls(random_state=int(params.pop("random_state", 0)), **params)
        payload = json.loads((directory / PAYLOAD_FILE).read_text())
        exog = payload["exog"]
        forecaster.trend_ = payload["trend"]
        forecaster.candidates_tried_ = int(payload["candidates_tried"])
        with _quiet_single_threaded():
            forecaster.results_ = _sarimax(
                np.asarray(payload["y"], dtype=float),
                None if exog is None else np.asarray(exog, dtype=float),
                tuple(payload["order"]),
                tuple(payload["seasonal_order"]),
                payload["trend"],
            ).filter(np.asarray(payload["params"], dtype=float), cov_type="none")
        return forecaster


@dataclass(frozen=True)
class _Scored:
    orders: Orders
    criterion: float
    arma: np.ndarray
    """AR, MA, seasonal AR and seasonal MA coefficients, in SARIMAX's parameter order."""


class _CssSearch:
    """Hyndman–Khandakar's stepwise search, scored on conditional sums of squares of the
    differenced series less its trend and regressors (fitted once, by least squares).

    Every candidate conditions on the same first observations, enough for the largest orders
    in the bounds, so that criteria compare likelihoods of the same data."""

    def __init__(
        self,
        w: np.ndarray,
        x: np.ndarray | None,
        trend: str,
        k_diff: int,
        s: int,
        bounds: Bounds,
        criterion: str,
    ) -> None:
        self.trend = trend
        self.u, self.beta = _regress_out(w, trend, x, k_diff)
        self.s = s
        self.bounds = bounds
        self.criterion = criterion
        self.n_condition = bounds[0][1] + s * bounds[2][1]
        self.seen: dict[Orders, _Scored | None] = {}
        self.tried = 0

    def run(self) -> _Scored | None:
        best: _Scored | None = None
        for orders in self._clipped([(2, 2, 1, 1), (0, 0, 0, 0), (1, 0, 1, 0), (0, 1, 0, 1)]):
            best = _better(best, self.score(orders))
        moved = best is not None
        while best is not None and moved and self.tried < MAX_CANDIDATES:
            moved = False
            for orders in self._neighbours(best.orders):
                if self.tried >= MAX_CANDIDATES:
                    break
                scored = self.score(orders)
                if _better(best, scored) is scored:
                    best, moved = scored, True
                    break
        return best

    def _clipped(self, candidates: list[Orders]) -> list[Orders]:
        clipped = (
            tuple(min(max(v, low), high) for v, (low, high) in zip(o, self.bounds, strict=True))
            for o in candidates
        )
        return list(dict.fromkeys(clipped))

    def _neighbours(self, orders: Orders) -> Iterator[Orders]:
        for position, (low, high) in enumerate(self.bounds):
            for value in (orders[position] - 1, orders[position] + 1):
                candidate = (*orders[:position], value, *orders[position + 1 :])
                if low <= value <= high and candidate not in self.seen:
                    yield candidate

    def start_params(self, best: _Scored) -> np.ndarray:
        """SARIMAX's parameter vector: trend, regressors, then the ARMA coefficients. SARIMAX
        puts the trend inside the ARMA equation, φ(L)Φ(Lˢ)wₜ = A(t) + …, so a mean μ of the
        differenced series is an intercept μ·φ(1)Φ(1)."""
        p, q, big_p, _ = best.orders
        ar, seasonal_ar = best.arma[:p], best.arma[p + q : p + q + big_p]
        k_trend = _k_trend(self.trend)
        trend = self.beta[:k_trend] * (1 - ar.sum()) * (1 - seasonal_ar.sum())
        return np.concatenate([trend, self.beta[k_trend:], best.arma])

    def score(self, orders: Orders) -> _Scored | None:
        if orders in self.seen:
            return self.seen[orders]
        self.tried += 1
        try:
            scored = self._fit(orders)
        except FIT_FAILURES:
            scored = None
        self.seen[orders] = scored
        return scored

    def _fit(self, orders: Orders) -> _Scored | None:
        from scipy.optimize import least_squares

        n = len(self.u) - self.n_condition
        k = sum(orders)
        if n <= k + len(self.beta) + 2:
            return None
        if k:
            solution = least_squares(
                self._residuals, np.zeros(k), args=(orders,), method="lm", xtol=1e-6, ftol=1e-6
            )
            unconstrained = solution.x
        else:
            unconstrained = np.zeros(0)
        residuals = self._residuals(unconstrained, orders)
        sigma2 = max(float(residuals @ residuals) / n, 1e-300)
        log_likelihood = -0.5 * n * (np.log(2 * np.pi * sigma2) + 1)
        return _Scored(
            orders,
            _criterion(self.criterion, log_likelihood, k + len(self.beta) + 1, n),
            _constrain(unconstrained, orders),
        )

    def _residuals(self, unconstrained: np.ndarray, orders: Orders) -> np.ndarray:
        from scipy.signal import lfilter

        p, q, big_p, _ = orders
        arma = _constrain(unconstrained, orders)
        ar, ma = arma[:p], arma[p : p + q]
        seasonal_ar, seasonal_ma = arma[p + q : p + q + big_p], arma[p + q + big_p :]
        ar_polynomial = np.convolve(np.r_[1.0, -ar], _seasonal(-seasonal_ar, self.s))
        ma_polynomial = np.convolve(np.r_[1.0, ma], _seasonal(seasonal_ma, self.s))
        innovations = lfilter(ar_polynomial, ma_polynomial, self.u)
        return np.asarray(innovations[self.n_condition :], dtype=float)


def _bounds(hp: dict[str, Any], s: int) -> Bounds:
    """The range of each of p, q, P and Q; a single value where the hyperparameters fix it."""
    order, seasonal = hp.get("order"), hp.get("seasonal_order")
    # Each seasonal ARMA order adds s states to the likelihood's filter: beyond a year of weeks
    # they are left out unless asked for (a seasonal difference still models the cycle).
    seasonal_arma = int(s <= MAX_SEASONAL_ARMA_PERIOD) if s > 1 else 0
    return (
        (order[0], order[0]) if order else (0, hp.get("max_p", 2)),
        (order[2], order[2]) if order else (0, hp.get("max_q", 2)),
        (seasonal[0], seasonal[0]) if seasonal else (0, hp.get("max_P", seasonal_arma) * (s > 1)),
        (seasonal[2], seasonal[2]) if seasonal else (0, hp.get("max_Q", seasonal_arma) * (s > 1)),
    )


def _better(best: _Scored | None, candidate: _Scored | None) -> _Scored | None:
    if candidate is None or not np.isfinite(candidate.criterion):
        return best
    if best is None or candidate.criterion < best.criterion:
        return candidate
    return best


def _criterion(name: str, log_likelihood: float, k: int, n: int) -> float:
    aic = -2 * log_likelihood + 2 * k
    if name == "aic":
        return aic
    if name == "bic":
        return -2 * log_likelihood + k * float(np.log(n))
    return aic + 2 * k * (k + 1) / (n - k - 1)


def _constrain(unconstrained: np.ndarray, orders: Orders) -> np.ndarray:
    """Stationary AR and invertible MA coefficients, mapped from unbounded values as SARIMAX
    maps its own (partial autocorrelations x/√(1+x²), then the Durbin–Levinson recursion)."""
    partial = unconstrained / np.sqrt(1.0 + unconstrained * unconstrained)
    parts: list[float] = []
    start = 0
    for size, sign in zip(orders, (1.0, -1.0, 1.0, -1.0), strict=True):
        coefficients: list[float] = []
        for r in map(float, partial[start : start + size]):
            backwards = coefficients[::-1]
            coefficients = [c + r * b for c, b in zip(coefficients, backwards, strict=True)]
            coefficients.append(-r)
        parts.extend(sign * c for c in coefficients)
        start += size
    return np.array(parts, dtype=float)


def _seasonal(coefficients: np.ndarray, s: int) -> np.ndarray:
    """1 + c₁Lˢ + c₂L²ˢ + … as a dense polynomial in L."""
    polynomial = np.zeros(len(coefficients) * s + 1)
    polynomial[0] = 1.0
    if len(coefficients):
        polynomial[s::s] = coefficients
    return polynomial


def _season(given: list[int] | None, season_length: int, seasonal: bool, n: int) -> int:
    if given is not None and len(given) == 4:
        return int(given[3])
    if given is not None and any(given):
        if season_length < 2:
            raise ValidationError.for_field(
                "hyperparameters.arima.seasonal_order",
                "the series has no seasonal cycle; give the season length as a fourth value",
            )
        return season_length
    # Seasonal terms need more than two cycles to leave data after conditioning on them.
    return season_length if seasonal and season_length > 1 and n > 2 * season_length else 0


def _seasonal_diffs(y: np.ndarray, s: int) -> int:
    """1 when the seasonal strength 1 − var(remainder)/var(seasonal + remainder) of an STL
    decomposition reaches 0.64 (auto.arima's `nsdiffs`), which needs three full seasons."""
    if s < 2 or len(y) < 3 * s:
        return 0
    from statsmodels.tsa.seasonal import STL

    decomposition = STL(y, period=s, seasonal=11).fit()
    remainder = np.asarray(decomposition.resid)
    detrended = remainder + np.asarray(decomposition.seasonal)
    spread = float(np.var(detrended))
    strength = 1 - float(np.var(remainder)) / spread if spread > 0 else 0.0
    return int(strength >= SEASONAL_STRENGTH_THRESHOLD)


def _kpss_diffs(x: np.ndarray) -> int:
    """Differences until a KPSS test no longer rejects level stationarity at 5%."""
    from statsmodels.tsa.stattools import kpss

    d = 0
    while d < MAX_D and len(x) >= MIN_OBSERVATIONS and np.ptp(x) > 0:
        # The lag truncation of auto.arima's ndiffs.
        lags = max(1, int(3 * np.sqrt(len(x)) / 13))
        result = kpss(x, regression="c", nlags=lags)
        if result[0] <= result[3]["5%"]:
            break
        x = np.diff(x)
        d += 1
    return d


def _difference(x: np.ndarray, d: int, big_d: int, s: int) -> np.ndarray:
    for _ in range(big_d):
        x = x[s:] - x[:-s]
    return np.diff(x, n=d, axis=0) if d else x


def _k_trend(trend: str) -> int:
    return len(trend) if trend != "n" else 0


def _regress_out(
    w: np.ndarray, trend: str, x: np.ndarray | None, k_diff: int
) -> tuple[np.ndarray, np.ndarray]:
    """The differenced series less its trend and regressors (by least squares), and the
    coefficients: a start for the exact fit, whose trend is on the same time index."""
    columns = []
    if "c" in trend:
        columns.append(np.ones(len(w)))
    if "t" in trend:
        columns.append(np.arange(k_diff + 1, k_diff + 1 + len(w), dtype=float))
    if x is not None:
        columns.extend(x.T)
    if not columns:
        return w, np.zeros(0)
    design = np.column_stack(columns)
    beta = np.linalg.lstsq(design, w, rcond=None)[0]
    return w - design @ beta, beta


def _sarimax(
    y: np.ndarray,
    exog: np.ndarray | None,
    order: tuple[int, ...],
    seasonal_order: tuple[int, ...],
    trend: str,
    **options: Any,
) -> Any:
    from statsmodels.tsa.statespace.sarimax import SARIMAX

    return SARIMAX(
        y,
        exog=exog,
        order=order,
        seasonal_order=seasonal_order,
        trend=trend,
        concentrate_scale=True,
        **options,
    )


def _fit_exact(
    y: np.ndarray,
    exog: np.ndarray | None,
    order: tuple[int, int, int],
    seasonal_order: tuple[int, int, int, int],
    trend: str,
    start: np.ndarray | None,
) -> Any:
    """Maximum likelihood on the differenced series, then one filtering pass in levels."""
    k_diff = order[1] + seasonal_order[1] * seasonal_order[3]
    differenced = _sarimax(
        y, exog, order, seasonal_order, trend, simple_differencing=True, trend_offset=1 + k_diff
    )
    if differenced.param_names:
        fitted = differenced.fit(
            start_params=start,
            method="lbfgs",
            maxfun=MAX_EVALUATIONS,
            disp=False,
            cov_type="none",
        )
        params = np.asarray(fitted.params, dtype=float)
        # Stopped by the evaluation budget, the optimiser may end below where it started.
        if start is not None and differenced.loglike(start) > fitted.llf:
            params = start
    else:
        params = np.zeros(0)
    levels = _sarimax(y, exog, order, seasonal_order, trend)
    return levels.filter(params, cov_type="none")


_BLAS: Any = None


def _blas_controller() -> Any:
    """One scan of the loaded BLAS libraries per process: scanning on every call cost ~5 ms,
    more than a forecast itself."""
    global _BLAS
    if _BLAS is None:
        from threadpoolctl import ThreadpoolController  # type: ignore[import-untyped]

        _BLAS = ThreadpoolController()
    return _BLAS


@contextmanager
def _quiet_single_threaded() -> Iterator[None]:
    """statsmodels' convergence and estimation warnings are expected during a search; and its
    Kalman filter multiplies matrices of a dozen states, for which BLAS threads cost several
    times what they save."""
    from statsmodels.tools.sm_exceptions import ModelWarning

    with warnings.catch_warnings(), _blas_controller().limit(limits=1, user_api="blas"):
        warnings.simplefilter("ignore", ModelWarning)
        warnings.simplefilter("ignore", RuntimeWarning)
        warnings.filterwarnings("ignore", message="kpss currently returns", category=FutureWarning)
        yield


def _finite_or_none(value: Any) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None


def _check_values(hp: dict[str, Any]) -> None:
    problems: list[FieldProblem] = []

    def problem(key: str, text: str) -> None:
        problems.append(FieldProblem(f"hyperparameters.arima.{key}", text))

    for key, lengths in (("order", (3,)), ("seasonal_order", (3, 4))):
        value = hp.get(key)
        if value is None:
            continue
        if len(value) not in lengths or not all(
            isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value
        ):
            sizes = " or ".join(map(str, lengths))
            problem(key, f"must be {sizes} non-negative integers, got {value!r}")
        elif value[1] > (limit := MAX_D if key == "order" else 1):
            problem(key, f"the differences (second value) must be at most {limit}, got {value!r}")
        elif key == "seasonal_order" and len(value) == 4 and value[3] < 2 and any(value[:3]):
            problem(key, f"a seasonal model needs a season length of at least 2, got {value!r}")
    if hp.get("information_criterion", "aicc") not in CRITERIA:
        problem("information_criterion", f"must be one of {', '.join(CRITERIA)}")
    if hp.get("trend", "n") not in TRENDS:
        problem("trend", f"must be one of {', '.join(TRENDS)}")
    if problems:
        raise ValidationError(
            "Invalid hyperparameters for arima: "
            + "; ".join(f"{p.field}: {p.problem}" for p in problems),
            problems,
        )
