"""The `parameters` and `output_options` of an execute request."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from engine.domain.asset_config import Strict


class ExecuteParameters(Strict):
    prediction_horizon: int | None = Field(default=None, gt=0)
    include_confidence_interval: bool = True
    include_feature_importance: bool = True
    max_key_factors: int | None = Field(default=None, ge=1, le=50)
    parallel_processing: bool = False


class OutputOptions(Strict):
    format: Literal["detailed", "summary"] = "detailed"
    include_metadata: bool = True


DEFAULT_PARAMETERS = ExecuteParameters()
DEFAULT_OUTPUT = OutputOptions()
