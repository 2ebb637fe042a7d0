"""A serving process's part in deployments: it announces itself with a heartbeat, and for each
deployment under way it warms the new version before the switch and drops its cached pointer
right after it, acknowledging both, so the coordinator can switch only once every process is
ready and report `active` only once every process serves the new version.

It also takes over deployments whose coordinating process died (see `deployments`).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time

import numpy as np

from engine.service import deployments, execution
from engine.service.context import Context
from engine.service.forecast_execution import ForecastServing
from engine.service.jobs import worker_name

log = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 1.0
ORPHAN_CHECK_SECONDS = 5.0


class DeploymentWatcher:
    def __init__(self, ctx: Context, poll_seconds: float = deployments.POLL_SECONDS) -> None:
        self.ctx = ctx
        # Unique per watcher: two engines in one process are two serving processes.
        self.worker = f"{worker_name()}/{secrets.token_hex(3)}"
        self._poll = poll_seconds
        self._stop = threading.Event()
        self._done: set[tuple[str, str]] = set()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self.ctx.store.deployments.heartbeat(self.worker, self.ctx.now_iso())
        self._thread = threading.Thread(target=self._run, name="deployment-watch", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.ctx.store.deployments.leave(self.worker)

    def _run(self) -> None:
        beat = orphans = 0.0
        while not self._stop.wait(self._poll):
            try:
                now = time.monotonic()
                if now - beat >= HEARTBEAT_SECONDS:
                    self.ctx.store.deployments.heartbeat(self.worker, self.ctx.now_iso())
                    beat = now
                if now - orphans >= ORPHAN_CHECK_SECONDS:
                    deployments.resume_orphans(self.ctx)
                    orphans = now
                self.step()
            except Exception:  # a store hiccup must not end the watch; try again next tick
                log.exception("deployment watch step failed")

    def step(self) -> None:
        for row in self.ctx.store.deployments.in_progress():
            key = (row["deployment_id"], row["phase"])
            if key in self._done:
                continue
            if row["phase"] == "warming":
                self._acknowledge(row, "warm", self._warm(row))
            elif row["phase"] == "switching":
                self.ctx.models.forget_pointer(row["company"], row["asset_id"])
                self._acknowledge(row, "switched", None)
            self._done.add(key)

    def _warm(self, row: dict[str, object]) -> str | None:
        """Load, verify and exercise the version once, so its first request is not the slow one."""
        try:
            serve = execution.any_serving(
                self.ctx, str(row["company"]), str(row["asset_id"]), str(row["version"])
            )
            if isinstance(serve, ForecastServing):
                first = serve.model.series[0]
                if first.mean is None:
                    serve.model.model(first)  # regressor forecasts call the model: load it now
                serve.model.forecast(first, 1, serve.model.levels)
            else:
                sample = np.zeros((1, len(serve.model.encoder.columns_)))
                serve.model.predict(sample)
                serve.model.predict_explained(sample)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    def _acknowledge(self, row: dict[str, object], phase: str, error: str | None) -> None:
        self.ctx.store.deployments.acknowledge(
            str(row["deployment_id"]), self.worker, phase, self.ctx.now_iso(), error
        )
