"""Checks an asset's `validation_rules` (and its configuration's columns) against training data
before anything is fitted; every failure names the rule and the column."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import pandas as pd

from engine.domain.asset_config import Configuration, ValidationRules
from engine.errors import DataValidationError, FieldProblem


def check_training_frame(
    frame: pd.DataFrame,
    table: str,
    config: Configuration,
    rules: ValidationRules,
    *,
    per_series: bool = False,
    also: Sequence[FieldProblem] = (),
) -> None:
    """`per_series`: a time-series asset's `min_data_points` holds for each series and is
    checked where the series are formed, not on the table's row count. `also`: problems the
    caller found, refused in the same answer."""
    problems: list[FieldProblem] = list(also)
    columns = set(frame.columns)
    for column in rules.required_columns:
        if column not in columns:
            problems.append(
                FieldProblem(
                    "validation_rules.required_columns",
                    f"column '{column}' is missing from table '{table}'",
                )
            )
    for position, feature in enumerate(config.features):
        if feature not in columns:
            problems.append(
                FieldProblem(
                    f"configuration.features[{position}]",
                    f"column '{feature}' is not in table '{table}'",
                )
            )
    target = config.target_variable
    if target and target not in columns:
        problems.append(
            FieldProblem(
                "configuration.target_variable", f"column '{target}' is not in table '{table}'"
            )
        )
    rows = int(frame[target].notna().sum()) if target and target in columns else len(frame)
    if rows < rules.min_data_points and not per_series:
        problems.append(
            FieldProblem(
                "validation_rules.min_data_points",
                f"table '{table}' has {rows} usable rows, fewer than the {rules.min_data_points} required",
            )
        )
    if rules.date_range_validation:
        problems.extend(_date_problems(frame, table, config.date_column))
    if problems:
        raise DataValidationError(
            "Training data failed validation: "
            + "; ".join(f"{p.field}: {p.problem}" for p in problems),
            problems,
        )


def _date_problems(frame: pd.DataFrame, table: str, date_column: str | None) -> list[FieldProblem]:
    rule = "validation_rules.date_range_validation"
    column = date_column or ("date" if "date" in frame.columns else None)
    if column is None:
        return [
            FieldProblem(rule, "needs configuration.date_column (no column named 'date' exists)")
        ]
    if column not in frame.columns:
        return [FieldProblem(rule, f"date column '{column}' is not in table '{table}'")]
    parsed = pd.to_datetime(frame[column], errors="coerce", utc=True)
    problems = []
    unparsed = int((parsed.isna() & frame[column].notna()).sum())
    if unparsed:
        problems.append(FieldProblem(rule, f"column '{column}': {unparsed} values are not dates"))
    if parsed.notna().sum() == 0:
        problems.append(FieldProblem(rule, f"column '{column}' holds no dates"))
    elif parsed.max() > pd.Timestamp(datetime.now(UTC)):
        problems.append(
            FieldProblem(
                rule, f"column '{column}' has dates in the future (latest {parsed.max():%Y-%m-%d})"
            )
        )
    return problems
