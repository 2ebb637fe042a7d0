"""Response models of the REST contract, for validation-free serving and an honest OpenAPI
document. Objects allow extra fields: the engine may report more than the contract lists."""

from __future__ import annotations

from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from engine.domain.asset_config import Strict
from engine.service.execution_options import ExecuteParameters, OutputOptions

T = TypeVar("T")
M = TypeVar("M")


class Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class Envelope(BaseModel, Generic[T]):
    data: T


class ListEnvelope(BaseModel, Generic[T, M]):
    data: list[T]
    meta: M


class ErrorDetail(BaseModel):
    field: str
    problem: str


class ErrorInfo(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail]


class ErrorBody(BaseModel):
    error: ErrorInfo


# assets ------------------------------------------------------------------------------------------
class Endpoint(Open):
    url: str
    methods: list[str]
    authentication: str


class SourceLink(Open):
    source_id: str
    connection_status: str
    last_validated: str | None


class AssetCreated(Open):
    asset_id: str
    name: str
    status: str
    version: str
    created_at: str
    data_sources: list[SourceLink]
    endpoint: Endpoint
    next_steps: list[str]


class RevenueMetrics(Open):
    monthly_revenue: float
    total_customers: int
    currency: str | None


class AssetSummary(Open):
    asset_id: str
    name: str
    description: str
    status: str
    category: str
    data_sources: list[str]
    created_at: str
    updated_at: str
    version: str
    performance_metrics: dict[str, float | int | None]
    revenue_metrics: RevenueMetrics


class AssetListMeta(Open):
    total: int
    draft: int
    published: int
    archived: int


class AssetDetails(Open):
    asset_id: str
    name: str
    description: str
    status: str
    category: str
    subcategory: str | None
    version: str
    created_at: str
    updated_at: str
    data_sources: list[dict[str, Any]]
    configuration: dict[str, Any]
    api_specification: dict[str, Any]
    performance_metrics: dict[str, float | int | None]
    usage_statistics: dict[str, float | int | None]
    revenue_metrics: RevenueMetrics


class AssetUpdated(Open):
    asset_id: str
    name: str
    version: str
    updated_at: str
    changes: list[str]
    requires_retraining: bool
    requires_retaining: bool = Field(
        description="The contract's original spelling of requires_retraining, kept for clients written against it."
    )
    estimated_retraining_time: str | None


# execution ---------------------------------------------------------------------------------------
class Interval(Open):
    lower: float
    upper: float


class KeyFactor(Open):
    factor: str
    importance: float
    direction: str


class ForecastPoint(Open):
    date: str
    value: float
    confidence_interval: dict[str, Interval] | None = Field(
        default=None, description='By level in percent: {"80": {lower, upper}, "95": {…}}.'
    )


class ExecutionResults(Open):
    """A classifier's results also hold `<target>_probability` (for example
    `churn_probability`); a forecast's hold `series` … `forecast` instead of the risk fields."""

    risk_level: str | None = None
    confidence_interval: Interval | None = None
    key_factors: list[KeyFactor] | None = None
    series: dict[str, Any] | None = Field(default=None, description="Forecast: the series' key.")
    algorithm: str | None = Field(default=None, description="Forecast: the series' model.")
    frequency: str | None = None
    horizon: int | None = None
    forecast: list[ForecastPoint] | None = None


class ExecutionMetadata(Open):
    model_version: str
    execution_time_ms: float
    data_points_used: int
    prediction_date: str
    forecast_origin: str | None = Field(default=None, description="Forecast: last trained date.")
    confidence_levels: list[float] | None = None


class Execution(Open):
    execution_id: str
    asset_id: str
    customer_id: str | None = None
    results: ExecutionResults
    metadata: ExecutionMetadata | None = None


class BatchAccepted(Open):
    batch_id: str
    asset_id: str
    status: str
    total_records: int
    estimated_completion: str | None
    callback_url: str | None
    progress_url: str


class BatchProgress(Open):
    total_records: int
    processed_records: int
    successful_records: int
    failed_records: int
    percentage_complete: float


class Delivery(Open):
    url: str
    event: str
    attempt: int
    status_code: int | None
    error: str | None
    delivered: bool
    at: str


class BatchStatus(Open):
    batch_id: str
    asset_id: str
    status: str
    progress: BatchProgress
    started_at: str
    completed_at: str | None
    estimated_completion: str | None
    results_url: str
    callbacks: list[Delivery]


class BatchResults(Open):
    batch_id: str
    asset_id: str
    model_version: str | None
    status: str
    results: list[dict[str, Any]]


# data sources ------------------------------------------------------------------------------------
class DataSource(Open):
    source_id: str
    name: str
    type: str
    status: str
    tables: list[str]
    connection_details: dict[str, Any]
    associated_assets: list[str]
    created_at: str


class DataSourceListMeta(Open):
    total: int
    connected: int
    disconnected: int


class SourceTest(Open):
    source_id: str
    test_results: dict[str, Any]
    recommendations: list[str]


# training and versions ---------------------------------------------------------------------------
class JobProgress(Open):
    current_step: str
    steps_total: int
    percentage_complete: float
    steps_completed: int | None = None


class TrainingStarted(Open):
    training_job_id: str
    asset_id: str
    status: str
    estimated_duration: str | None
    progress: JobProgress
    started_at: str
    estimated_completion: str | None


class TrainingJob(Open):
    training_job_id: str
    asset_id: str
    status: str
    progress: JobProgress
    started_at: str
    completed_at: str | None
    logs_url: str
    results: dict[str, Any] | None = None


class JobCancelled(Open):
    job_id: str
    kind: str
    status: str


class TrainingLogs(Open):
    training_job_id: str
    status: str
    logs: list[str]


class VersionItem(Open):
    version: str
    status: Literal["ready", "active", "deprecated", "failed", "archived"]
    created_at: str
    performance_metrics: dict[str, float | int | None]
    changes: list[str]
    deployment_date: str | None


class VersionsMeta(Open):
    current_version: str | None
    total_versions: int


class DeploymentWatch(Open):
    rollback_threshold: dict[str, float | None]
    window_seconds: float
    min_requests: int
    until: str | None
    watching: bool
    measurements: dict[str, float | int | None] | None


class Deployment(Open):
    deployment_id: str
    asset_id: str
    version: str
    previous_version: str | None
    status: Literal["deploying", "active", "rolled_back", "failed"]
    strategy: str
    started_at: str
    switched_at: str | None
    completed_at: str | None
    estimated_completion: str | None = None
    requested_by: str
    watch: DeploymentWatch | None = None
    reason: str | None = None
    contract_check: dict[str, Any] | None = None


class Total(Open):
    total: int


class PointerChange(Open):
    from_version: str | None
    to_version: str
    actor: str
    reason: str
    deployment_id: str | None
    at: str


class RolledBack(Open):
    asset_id: str
    version: str
    previous_version: str | None
    rolled_back_from: str
    status: str
    deployed_at: str
    reason: str


class UsageLine(Open):
    consumer: str
    period: str
    requests: int
    successful_requests: int
    free_requests: int
    billable_requests: int
    charges: float
    currency: str


class UsageReport(Open):
    asset_id: str
    pricing: dict[str, Any]
    usage: list[UsageLine]
    totals: dict[str, Any]


# request bodies the engine does not define itself ------------------------------------------------
class ExecuteRequest(Strict):
    input_data: dict[str, Any]
    parameters: ExecuteParameters | None = None
    output_options: OutputOptions | None = None


class AssetPatch(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    category: str | None = None
    subcategory: str | None = None
    status: str | None = None
    data_sources: list[dict[str, Any]] | None = None
    configuration: dict[str, Any] | None = None
    validation_rules: dict[str, Any] | None = None
    pricing: dict[str, Any] | None = None
    webhooks: list[str] | None = None
    version_notes: str | None = None
