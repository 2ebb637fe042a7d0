"""From a training table to regular series: dates parsed and checked, one series per key,
frequency inferred (and checked against the configuration), gaps filled and reported.

Every refusal names the configuration field at fault and, for a multi-series asset, the series.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from engine.domain.asset_config import Configuration, ValidationRules
from engine.errors import DataValidationError, FieldProblem
from engine.forecasting import frequency as frequencies
from engine.forecasting.base import SeriesData

MAX_SERIES = 10_000


@dataclass(frozen=True)
class PreparedSeries:
    key: dict[str, Any]
    """Series key column → value ({} for a single-series asset)."""
    data: SeriesData
    """Values in model space (log-transformed when the asset asks for it)."""
    filled_dates: int = 0
    """Missing timestamps inside the series (nan in `data.y`)."""
    filled_values: int = 0
    """Present timestamps with no value (nan in `data.y`)."""

    @property
    def label(self) -> str:
        return ", ".join(f"{k}={v}" for k, v in self.key.items()) or "all"


@dataclass(frozen=True)
class PreparedFrame:
    series: list[PreparedSeries]
    frequency: str
    season_length: int
    horizon: int
    notes: list[str] = field(default_factory=list)


def key_of(values: Sequence[Any], names: Sequence[str]) -> dict[str, Any]:
    return {name: _plain(value) for name, value in zip(names, values, strict=True)}


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _problem(field_name: str, message: str) -> DataValidationError:
    return DataValidationError(f"{field_name}: {message}", [FieldProblem(field_name, message)])


def unset_columns(config: Configuration) -> list[FieldProblem]:
    """What a time-series configuration must name and does not: the date and value columns."""
    problems = []
    if not config.date_column:
        problems.append(FieldProblem("configuration.date_column", "required for time_series"))
    if not config.target_variable:
        problems.append(
            FieldProblem(
                "configuration.target_variable",
                "required for time_series: the column whose values are forecast",
            )
        )
    return problems


def _required_columns(frame: pd.DataFrame, table: str, config: Configuration) -> None:
    problems = unset_columns(config)
    if config.date_column and config.date_column not in frame.columns:
        problems.append(
            FieldProblem(
                "configuration.date_column",
                f"column '{config.date_column}' is not in table '{table}'",
            )
        )
    named = (
        [("configuration.target_variable", config.target_variable)]
        if config.target_variable
        else []
    )
    named += [(f"configuration.series_keys[{i}]", c) for i, c in enumerate(config.series_keys)]
    named += [(f"configuration.features[{i}]", c) for i, c in enumerate(config.features)]
    for field_name, column in named:
        if column not in frame.columns:
            problems.append(
                FieldProblem(field_name, f"column '{column}' is not in table '{table}'")
            )
    if problems:
        raise DataValidationError(
            "Training data failed validation: "
            + "; ".join(f"{p.field}: {p.problem}" for p in problems),
            problems,
        )


def parse_dates(values: pd.Series, field_name: str) -> pd.DatetimeIndex:
    """Dates as naive timestamps (a time zone, when present, is converted to UTC first)."""
    parsed = pd.to_datetime(values, errors="coerce", utc=True)
    bad = parsed.isna()
    if bad.any():
        first = values[bad].iloc[0]
        raise _problem(
            field_name, f"{int(bad.sum())} values are not dates (the first is {first!r})"
        )
    return pd.DatetimeIndex(parsed).tz_convert(None)


def prepare(
    frame: pd.DataFrame, table: str, config: Configuration, rules: ValidationRules
) -> PreparedFrame:
    _required_columns(frame, table, config)
    assert config.date_column
    assert config.target_variable
    dates = parse_dates(frame[config.date_column], "configuration.date_column")
    values = pd.to_numeric(frame[config.target_variable], errors="coerce")
    unreadable = values.isna() & frame[config.target_variable].notna()
    if unreadable.any():
        raise _problem(
            "configuration.target_variable",
            f"{int(unreadable.sum())} values of '{config.target_variable}' are not numbers",
        )
    if config.value_transform == "log" and (values.dropna() <= 0).any():
        raise _problem(
            "configuration.value_transform",
            f"'log' needs positive values; '{config.target_variable}' has "
            f"{int((values <= 0).sum())} values ≤ 0",
        )
    regressors = _regressor_frame(frame, config)
    data = pd.DataFrame({"__date": dates, "__y": values.to_numpy(dtype=float)}, index=frame.index)
    data = pd.concat([data, regressors, frame[config.series_keys]], axis=1)
    groups = (
        list(data.groupby(config.series_keys, sort=True, dropna=False))
        if config.series_keys
        else [((), data)]
    )
    if len(groups) > MAX_SERIES:
        raise _problem(
            "configuration.series_keys", f"{len(groups)} series; at most {MAX_SERIES} are supported"
        )
    frequency = _frequency(groups, config)
    season = config.season_length or frequencies.season_length(frequency)
    horizon = config.prediction_horizon or frequencies.default_horizon(frequency)
    prepared = [
        _regular(
            key_of(k if isinstance(k, tuple) else (k,), config.series_keys),
            group,
            frequency,
            season,
            config,
            rules,
        )
        for k, group in groups
    ]
    notes = [
        f"series {p.label}: {p.filled_dates} missing dates and {p.filled_values} missing values "
        "(left missing for ARIMA and Prophet, interpolated for the others, never scored)"
        for p in prepared
        if p.filled_dates or p.filled_values
    ]
    return PreparedFrame(prepared, frequency, season, horizon, notes)


def filled(series: SeriesData) -> SeriesData:
    """The series with missing values interpolated, for models that need every step."""
    if not np.isnan(series.y).any():
        return series
    y = pd.Series(series.y).interpolate(limit_direction="both").to_numpy(dtype=float)
    return SeriesData(
        y=y,
        index=series.index,
        frequency=series.frequency,
        season_length=series.season_length,
        regressors=series.regressors,
        regressor_names=series.regressor_names,
    )


def _regressor_frame(frame: pd.DataFrame, config: Configuration) -> pd.DataFrame:
    columns = {}
    for i, name in enumerate(config.features):
        numbers = pd.to_numeric(frame[name], errors="coerce")
        if numbers.isna().any():
            raise _problem(
                f"configuration.features[{i}]",
                f"regressor '{name}' must be a number on every row; "
                f"{int(numbers.isna().sum())} rows are missing or not numbers",
            )
        columns[name] = numbers.astype(float)
    return pd.DataFrame(columns, index=frame.index)


def _frequency(groups: list[tuple[Any, pd.DataFrame]], config: Configuration) -> str:
    field_name = "configuration.date_column"
    found: dict[str, str] = {}
    for key, group in groups:
        label = _label(key, config.series_keys)
        dates = pd.DatetimeIndex(group["__date"]).sort_values()
        duplicated = dates[dates.duplicated()]
        if len(duplicated):
            raise _problem(
                field_name,
                f"series {label}: {len(duplicated)} dates occur more than once "
                f"(the first is {duplicated[0]:%Y-%m-%d %H:%M}); dates must be unique per series"
                + (
                    ""
                    if config.series_keys
                    else " — name the series keys in configuration.series_keys if the table holds several series"
                ),
            )
        inferred = frequencies.infer(dates)
        if inferred is not None:
            found.setdefault(inferred, label)
    if config.frequency:
        try:
            wanted = frequencies.normalise(config.frequency)
        except ValueError as exc:
            raise _problem("configuration.frequency", str(exc)) from None
        others = {f: s for f, s in found.items() if f != wanted}
        if others:
            frequency, label = next(iter(others.items()))
            raise _problem(
                "configuration.frequency",
                f"configured as {wanted}, but the dates of series {label} are {frequency} apart",
            )
        return wanted
    if not found:
        raise _problem(field_name, "the frequency cannot be inferred: give configuration.frequency")
    if len(found) > 1:
        described = ", ".join(f"{label}: {f}" for f, label in found.items())
        raise _problem(
            "configuration.frequency",
            f"the series have different frequencies ({described}); give configuration.frequency",
        )
    return next(iter(found))


def _label(key: Any, names: Sequence[str]) -> str:
    if not names:
        return "all"
    values = key if isinstance(key, tuple) else (key,)
    return ", ".join(f"{n}={v}" for n, v in zip(names, values, strict=True))


def _regular(
    key: dict[str, Any],
    group: pd.DataFrame,
    frequency: str,
    season: int,
    config: Configuration,
    rules: ValidationRules,
) -> PreparedSeries:
    label = ", ".join(f"{k}={v}" for k, v in key.items()) or "all"
    ordered = group.sort_values("__date").set_index("__date")
    grid = pd.date_range(ordered.index[0], ordered.index[-1], freq=frequency)
    off_grid = ordered.index.difference(grid)
    if len(off_grid):
        raise _problem(
            "configuration.date_column",
            f"series {label}: {len(off_grid)} dates are off the {frequency} grid "
            f"(the first is {off_grid[0]:%Y-%m-%d %H:%M})",
        )
    regular = ordered.reindex(grid)
    filled_dates = len(grid) - len(ordered)
    filled_values = int(ordered["__y"].isna().sum())
    if len(grid) < rules.min_data_points:
        raise _problem(
            "validation_rules.min_data_points",
            f"series {label} has {len(grid)} points, fewer than the {rules.min_data_points} required",
        )
    y = regular["__y"].to_numpy(dtype=float)
    if np.isnan(y).all():
        raise _problem("configuration.target_variable", f"series {label} has no values")
    if config.value_transform == "log":
        y = np.log(y)
    names = tuple(config.features)
    regressors = None
    if names:
        regressors = regular[list(names)].interpolate(limit_direction="both").to_numpy(dtype=float)
    return PreparedSeries(
        key=key,
        data=SeriesData(
            y=y,
            index=pd.DatetimeIndex(grid),
            frequency=frequency,
            season_length=season,
            regressors=regressors,
            regressor_names=names,
        ),
        filled_dates=filled_dates,
        filled_values=filled_values,
    )
