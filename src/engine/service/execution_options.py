"""The `parameters` and `output_options` of an execute request."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from engine.domain.asset_config import Strict, normalise_levels


class ExecuteParameters(Strict):
    prediction_horizon: int | None = Field(default=None, gt=0)
    include_confidence_interval: bool = True
    include_feature_importance: bool = True
    max_key_factors: int | None = Field(default=None, ge=1, le=50)
    parallel_processing: bool = False
    confidence_levels: list[float] | None = Field(
        default=None,
        min_length=1,
        max_length=5,
        description="Time series: interval levels (80 or 0.8); default the asset's own.",
    )

    @field_validator("confidence_levels")
    @classmethod
    def _levels(cls, value: list[float] | None) -> list[float] | None:
        return None if value is None else normalise_levels(value)


class OutputOptions(Strict):
    format: Literal["detailed", "summary"] = "detailed"
    include_metadata: bool = True


DEFAULT_PARAMETERS = ExecuteParameters()
DEFAULT_OUTPUT = OutputOptions()
