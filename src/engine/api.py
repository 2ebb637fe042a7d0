"""The engine's Python API: every operation, scoped by company. HTTP and the CLI call these."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from engine.bootstrap import build_context
from engine.service import (
    assets,
    batches,
    deployments,
    execution,
    jobs,
    metering,
    sources,
    training,
    training_jobs,
    versions,
)
from engine.service.context import Context
from engine.service.metering import LOCAL_CALLER
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
        self,
        company: str,
        asset_id: str,
        version: str,
        request: Mapping[str, Any] | None = None,
        *,
        actor: str = LOCAL_CALLER,
        wait: bool = True,
    ) -> dict[str, Any]:
        """Blue/green deployment of `version`. With `wait` (the default) this returns once the
        pointer has switched (status active) or the deployment failed; a watch for automatic
        rollback goes on in the background (see `deployment` and `wait_for_deployment`)."""
        accepted = deployments.deploy(
            self.context, company, asset_id, version, dict(request or {}), actor
        )
        if not wait:
            return accepted
        return deployments.wait(self.context, company, accepted["deployment_id"])

    def deployment(self, company: str, deployment_id: str) -> dict[str, Any]:
        return deployments.view(self.context, company, deployment_id)

    def wait_for_deployment(
        self, company: str, deployment_id: str, until_done: bool = True, timeout: float = 600
    ) -> dict[str, Any]:
        """Block until the deployment has switched, or with `until_done` until its watch ended."""
        return deployments.wait(self.context, company, deployment_id, until_done, timeout)

    def list_deployments(self, company: str, asset_id: str) -> list[dict[str, Any]]:
        return deployments.list_deployments(self.context, company, asset_id)

    def version_history(self, company: str, asset_id: str) -> list[dict[str, Any]]:
        """Every change of the active pointer: who, when, from which version to which, why."""
        return versions.history(self.context, company, asset_id)

    def rollback(
        self, company: str, asset_id: str, reason: str | None = None, actor: str = LOCAL_CALLER
    ) -> dict[str, Any]:
        """Point the asset back at the version active before the current one."""
        return versions.rollback(self.context, company, asset_id, actor, reason)

    # usage
    def usage(
        self,
        company: str,
        asset_id: str,
        consumer: str | None = None,
        since: str | None = None,
        until: str | None = None,
    ) -> dict[str, Any]:
        """Requests and charges per consumer and pricing period, from the usage ledger."""
        self.context.executions.flush()
        return metering.usage_report(self.context, company, asset_id, consumer, since, until)

    # execution
    def execute(
        self,
        company: str,
        asset_id: str,
        request: Mapping[str, Any],
        timings: dict[str, float] | None = None,
        caller: str = LOCAL_CALLER,
    ) -> dict[str, Any]:
        return execution.execute(self.context, company, asset_id, request, timings, caller)

    def execute_batch(
        self,
        company: str,
        asset_id: str,
        records: Sequence[Mapping[str, Any]],
        parameters: Mapping[str, Any] | None = None,
        caller: str = LOCAL_CALLER,
    ) -> dict[str, Any]:
        return execution.execute_batch(
            self.context, company, asset_id, records, parameters, caller=caller
        )

    def run_batch(
        self,
        company: str,
        asset_id: str,
        body: Mapping[str, Any],
        caller: str = LOCAL_CALLER,
    ) -> dict[str, Any]:
        """The contract's batch-execute: queued at once, scored chunk by chunk in the background."""
        return batches.run(self.context, company, asset_id, dict(body), caller)

    def batch_status(self, company: str, batch_id: str) -> dict[str, Any]:
        return batches.status(self.context, company, batch_id)

    def batch_results(
        self, company: str, batch_id: str, fmt: str = "json"
    ) -> tuple[bytes | dict[str, Any], str]:
        """(content, media type): a JSON document, or CSV or Parquet bytes."""
        return batches.results(self.context, company, batch_id, fmt)

    def score_frame(self, company: str, asset_id: str, frame: pd.DataFrame) -> pd.DataFrame:
        return execution.score_frame(self.context, company, asset_id, frame)
