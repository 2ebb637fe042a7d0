"""The body of "train analytics model": overrides of the asset's configuration for one run."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator

from engine.domain.asset_config import AssetSpec, Configuration, Strict
from engine.domain.parsing import parse
from engine.errors import ValidationError
from engine.ports import Between


class TrainingConfig(Strict):
    algorithm: str | None = None
    hyperparameters: dict[str, Any] = Field(default_factory=dict)
    validation_split: float | None = Field(default=None, ge=0.05, le=0.5)
    cross_validation_folds: int | None = Field(default=None, ge=2, le=20)


class TrainingPeriod(Strict):
    start_date: date | None = None
    end_date: date | None = None


class DataConfig(Strict):
    training_period: TrainingPeriod | None = None
    feature_selection: Literal["auto", "configured"] | list[str] = "configured"
    target_variable: str | None = None


class DeploymentConfig(Strict):
    auto_deploy: bool = True
    performance_threshold: float | None = Field(default=None, ge=0.0, le=1.0)
    rollback_on_failure: bool = True

    @field_validator("rollback_on_failure")
    @classmethod
    def _always(cls, value: bool) -> bool:
        if not value:
            raise ValueError(
                "a failed training never replaces the active version; false is not supported"
            )
        return value


class TrainRequest(Strict):
    training_config: TrainingConfig = Field(default_factory=TrainingConfig)
    data_config: DataConfig = Field(default_factory=DataConfig)
    deployment_config: DeploymentConfig = Field(default_factory=DeploymentConfig)


def effective_configuration(spec: AssetSpec, request: TrainRequest) -> Configuration:
    """The asset's configuration with this run's overrides applied (validated again)."""
    config = spec.configuration.model_dump()
    training = request.training_config
    if training.algorithm:
        config["algorithms"] = [training.algorithm]
    if training.hyperparameters:
        algorithms = config["algorithms"]
        if len(algorithms) != 1:
            raise ValidationError.for_field(
                "training_config.hyperparameters",
                "name training_config.algorithm when the asset lists several",
            )
        config["hyperparameters"] = {
            **config["hyperparameters"],
            algorithms[0]: training.hyperparameters,
        }
    for name in ("validation_split", "cross_validation_folds"):
        value = getattr(training, name)
        if value is not None:
            config[name] = value
    target = request.data_config.target_variable
    if target is not None and target != spec.configuration.target_variable:
        raise ValidationError.for_field(
            "data_config.target_variable",
            f"the asset predicts '{spec.configuration.target_variable}'; change the asset to train another target",
        )
    selection = request.data_config.feature_selection
    if selection == "auto":
        config["features"] = []
    elif isinstance(selection, list):
        config["features"] = selection
    if request.deployment_config.performance_threshold is not None:
        config["performance_threshold"] = request.deployment_config.performance_threshold
    return parse(Configuration, config, "training request", "configuration")


def period_filter(spec: AssetSpec, request: TrainRequest) -> dict[str, Between]:
    period = request.data_config.training_period
    if period is None or (period.start_date is None and period.end_date is None):
        return {}
    column = spec.configuration.date_column
    if column is None:
        raise ValidationError.for_field(
            "data_config.training_period", "the asset has no configuration.date_column to filter on"
        )
    if period.start_date and period.end_date and period.start_date > period.end_date:
        raise ValidationError.for_field(
            "data_config.training_period", "start_date is after end_date"
        )
    return {column: Between(period.start_date, period.end_date)}
