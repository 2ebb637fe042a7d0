"""The engine's Python API: every operation, scoped by company. HTTP and the CLI call these."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from engine.bootstrap import build_context
from engine.service import (
    assets,
    batches,
    execution,
    jobs,
    sources,
    training,
    training_jobs,
    versions,
)
from engine.service.context import Context
from engine.settings import Settings
from engine.training import Progress
from engine.training.progress import silent


class Engine:
    """One engine over one ENGINE_HOME (metadata store + artifact root).

    >>> engine = Engine.open()                       # settings from the environment
    >>> engine.connect_source("acme", {...})          # doctest: +SKIP
    """

    def __init__(self, context: Context) -> None:
        self.context = context

    @classmethod
    def open(cls, settings: Settings | None = None) -> Engine:
        return cls(build_context(settings or Settings.from_environ()))

    def close(self) -> None:
        self.context.runner.shutdown()
        self.context.executions.close()
        for connector in self.context.connectors.values():
            connector.close()
        self.context.store.close()

    def __enter__(self) -> Engine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # data sources
    def connect_source(self, company: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return sources.connect(self.context, company, dict(body))

    def list_sources(
        self, company: str, **filters: Any
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        return sources.list_sources(self.context, company, **filters)

    def get_source(self, company: str, source_id: str) -> dict[str, Any]:
        return sources.describe(self.context, company, source_id, include_test=True)

    def test_source(self, company: str, source_id: str) -> dict[str, Any]:
        return sources.test(self.context, company, source_id)

    # assets
    def create_asset(self, company: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return assets.create(self.context, company, dict(body))

    def list_assets(
        self, company: str, **filters: Any
    ) -> tuple[list[dict[str, Any]], dict[str, int]]:
        return assets.list_assets(self.context, company, **filters)

    def get_asset(self, company: str, asset_id: str) -> dict[str, Any]:
        return assets.get(self.context, company, asset_id)

    def update_asset(self, company: str, asset_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        result = assets.update(self.context, company, asset_id, dict(body))
        self.context.models.forget_pointer(company, asset_id)
        return result

    def delete_asset(self, company: str, asset_id: str, permanent: bool = False) -> None:
        assets.delete(self.context, company, asset_id, permanent)
        self.context.models.forget_pointer(company, asset_id)

    # training and versions
    def train(
        self,
        company: str,
        asset_id: str,
        progress: Progress = silent,
        activate: bool = True,
        request: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Train synchronously; `request` is the contract's train body (overrides for this run)."""
        return training.train(self.context, company, asset_id, request, progress, activate)

    def submit_training(
        self, company: str, asset_id: str, request: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        """Queue a training job and return at once; follow it with `training_job`."""
        return training_jobs.submit(
            self.context, company, asset_id, dict(request) if request else None
        )

    def training_job(self, company: str, job_id: str) -> dict[str, Any]:
        return training_jobs.view(self.context, company, job_id)

    def training_report(self, company: str, asset_id: str, version: str | None = None) -> str:
        """The HTML training report of a version (the active one by default)."""
        return versions.report(self.context, company, asset_id, version)

    def list_jobs(self, company: str, kind: str | None = None) -> list[dict[str, Any]]:
        return jobs.list_jobs(self.context, company, kind)

    def cancel_job(self, company: str, job_id: str) -> dict[str, Any]:
        return jobs.cancel(self.context, company, job_id)

    def recover_jobs(self) -> list[str]:
        """Resume or fail jobs whose worker process is gone (run at server start)."""
        from engine.service.recovery import recover

        return recover(self.context)

    def training_logs(self, company: str, job_id: str) -> dict[str, Any]:
        return jobs.training_logs(self.context, company, job_id)

    def list_versions(
        self, company: str, asset_id: str
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        return versions.list_versions(self.context, company, asset_id)

    def deploy(
        self, company: str, asset_id: str, version: str, request: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        return versions.deploy(self.context, company, asset_id, version, dict(request or {}))

    # execution
    def execute(
        self,
        company: str,
        asset_id: str,
        request: Mapping[str, Any],
        timings: dict[str, float] | None = None,
    ) -> dict[str, Any]:
        return execution.execute(self.context, company, asset_id, request, timings)

    def execute_batch(
        self,
        company: str,
        asset_id: str,
        records: Sequence[Mapping[str, Any]],
        parameters: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        return execution.execute_batch(self.context, company, asset_id, records, parameters)

    def run_batch(self, company: str, asset_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """The contract's batch-execute: queued at once, scored chunk by chunk in the background."""
        return batches.run(self.context, company, asset_id, dict(body))

    def batch_status(self, company: str, batch_id: str) -> dict[str, Any]:
        return batches.status(self.context, company, batch_id)

    def batch_results(
        self, company: str, batch_id: str, fmt: str = "json"
    ) -> tuple[bytes | dict[str, Any], str]:
        """(content, media type): a JSON document, or CSV or Parquet bytes."""
        return batches.results(self.context, company, batch_id, fmt)

    def score_frame(self, company: str, asset_id: str, frame: pd.DataFrame) -> pd.DataFrame:
        return execution.score_frame(self.context, company, asset_id, frame)
