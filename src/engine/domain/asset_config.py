"""An asset's definition, as the REST contract spells it, validated.

Field names follow the contract (`configuration.algorithms`, `target_variable`,
`validation_split`, …). Everything the contract leaves open has a documented default here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

CLASSIFICATION_MODEL_TYPES = frozenset(
    {"classification", "binary_classification", "gradient_boosting"}
)
TIME_SERIES_MODEL_TYPES = frozenset({"time_series", "forecasting"})

DEFAULT_RISK_THRESHOLDS = {"medium": 0.3, "high": 0.6}
"""Probability at or above which a prediction is `medium` / `high` risk; below `medium` is `low`."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class EntityKey(Strict):
    """A request field whose value identifies a row of the source table (e.g. customer_id)."""

    field: str = Field(min_length=1)
    column: str = Field(min_length=1)


class DataSourceRef(Strict):
    source_id: str = Field(min_length=1, max_length=128)
    tables: list[str] = Field(default_factory=list)
    access_level: Literal["read_only"] = "read_only"


class Backtest(Strict):
    """Rolling-origin evaluation of a forecasting asset: `cross_validation_folds` cutoffs, the
    last one `prediction_horizon` steps before the end of each series, earlier ones `period`
    steps apart, none leaving fewer than `initial` steps to fit on."""

    period: int | None = Field(
        default=None, gt=0, description="Steps between cutoffs; default the horizon."
    )
    initial: int | None = Field(default=None, gt=0, description="Fewest steps a fold fits on.")


class Configuration(Strict):
    model_type: str = "classification"
    algorithms: list[str] = Field(default_factory=lambda: ["xgboost"], min_length=1)
    features: list[str] = Field(default_factory=list)
    target_variable: str | None = Field(default=None, validate_default=True)
    table: str | None = Field(
        default=None, description="Training table; defaults to the first table of the first source."
    )
    entity_key: EntityKey | None = None
    date_column: str | None = None
    prediction_horizon: int | None = Field(
        default=None,
        gt=0,
        description=(
            "Classification: days ahead the target looks; requests must ask for the same. "
            "Time series: steps of the series' frequency forecast and backtested, the longest "
            "horizon a request may ask for (default by frequency: 30 days, 13 weeks, 12 months…)."
        ),
    )
    series_keys: list[str] = Field(
        default_factory=list,
        description="Time series: columns whose values name one series each (product_category).",
    )
    frequency: str | None = Field(
        default=None, description="Time series: pandas offset alias; inferred from the dates."
    )
    season_length: int | None = Field(
        default=None, ge=1, description="Time series: steps per season; default by frequency."
    )
    value_transform: Literal["none", "log"] = "none"
    confidence_levels: list[float] = Field(
        default_factory=lambda: [0.8, 0.95],
        min_length=1,
        description="Time series: interval levels returned by default (0.8 or 80).",
    )
    selection_metric: Literal["mase", "smape", "mape", "rmse"] = "mase"
    backtest: Backtest = Field(default_factory=Backtest)
    validation_split: float = Field(default=0.2, ge=0.05, le=0.5)
    cross_validation_folds: int = Field(default=5, ge=2, le=20)
    performance_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    hyperparameters: dict[str, dict[str, Any]] = Field(default_factory=dict)
    risk_thresholds: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_RISK_THRESHOLDS))
    confidence_level: float = Field(default=0.9, ge=0.5, le=0.99)
    key_factors: int = Field(default=5, ge=1, le=50)
    random_state: int = 42
    output_format: Literal["json", "csv"] = "json"
    batch_processing: bool = True

    @field_validator("algorithms")
    @classmethod
    def _unique_algorithms(cls, value: list[str]) -> list[str]:
        return list(dict.fromkeys(a.strip() for a in value))

    @field_validator("features")
    @classmethod
    def _unique_features(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("features are listed more than once")
        return value

    @field_validator("target_variable")
    @classmethod
    def _target(cls, value: str | None, info: ValidationInfo) -> str | None:
        model_type = info.data.get("model_type", "classification")
        if model_type in CLASSIFICATION_MODEL_TYPES and not value:
            raise ValueError("required for classification")
        if value and value in info.data.get("features", []):
            raise ValueError("the target cannot also be a feature")
        return value

    @field_validator("confidence_levels")
    @classmethod
    def _levels(cls, value: list[float]) -> list[float]:
        return normalise_levels(value)

    @field_validator("series_keys")
    @classmethod
    def _unique_keys(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("series keys are listed more than once")
        return value

    @field_validator("risk_thresholds")
    @classmethod
    def _risk(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = set(value) - {"medium", "high"}
        if unknown:
            raise ValueError(f"only 'medium' and 'high' thresholds exist, not {sorted(unknown)}")
        merged = {**DEFAULT_RISK_THRESHOLDS, **value}
        if not 0.0 < merged["medium"] <= merged["high"] < 1.0:
            raise ValueError("need 0 < medium ≤ high < 1")
        return merged

    @property
    def is_classification(self) -> bool:
        return self.model_type in CLASSIFICATION_MODEL_TYPES

    @property
    def is_time_series(self) -> bool:
        return self.model_type in TIME_SERIES_MODEL_TYPES


def normalise_levels(levels: list[float]) -> list[float]:
    """Interval levels as fractions, sorted and unique; 80 and 0.8 mean the same."""
    fractions = []
    for level in levels:
        fraction = level / 100 if level > 1 else level
        if not 0.5 <= fraction <= 0.995:
            raise ValueError(f"a confidence level must lie in 50–99.5 (or 0.5–0.995), not {level}")
        fractions.append(round(float(fraction), 6))
    return sorted(set(fractions))


class ValidationRules(Strict):
    min_data_points: int = Field(default=100, ge=1)
    required_columns: list[str] = Field(default_factory=list)
    date_range_validation: bool = False


class FreeTier(Strict):
    requests: int = Field(default=0, ge=0)
    period: Literal["daily", "monthly", "yearly"] = "monthly"


class Pricing(Strict):
    model: Literal["per_request"] = "per_request"
    price: float = Field(default=0.0, ge=0.0)
    currency: str = Field(default="USD", min_length=3, max_length=3)
    free_tier: FreeTier = Field(default_factory=FreeTier)


class AssetSpec(Strict):
    """The body of "create analytics asset"."""

    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    category: str = "machine_learning"
    subcategory: str | None = None
    data_sources: list[DataSourceRef] = Field(min_length=1)
    configuration: Configuration
    validation_rules: ValidationRules = Field(default_factory=ValidationRules)
    pricing: Pricing = Field(default_factory=Pricing)
    webhooks: list[str] = Field(default_factory=list)
