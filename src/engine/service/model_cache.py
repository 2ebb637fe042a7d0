"""Loaded models kept in memory, and the active-version pointer read through a short cache.

A model is loaded (checksums verified) once per (asset, version). The active pointer is re-read
from the metadata store at most every `pointer_ttl` seconds, so a deploy made by another process
is picked up without a restart; a deploy made through this process is seen at once.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from engine.artifacts import FilesystemArtifactStore
from engine.errors import ConflictError
from engine.store import SqlMetadataStore
from engine.trained_forecast import TrainedForecast
from engine.trained_model import TrainedModel


class ModelCache:
    def __init__(
        self, store: SqlMetadataStore, artifacts: FilesystemArtifactStore, pointer_ttl: float = 1.0
    ) -> None:
        self._store = store
        self._artifacts = artifacts
        self._ttl = pointer_ttl
        self._models: dict[
            tuple[str, str], tuple[TrainedModel | TrainedForecast, dict[str, object]]
        ] = {}
        self._pointers: dict[tuple[str, str], tuple[dict[str, Any], float]] = {}
        self._lock = threading.Lock()

    def asset(self, company: str, asset_id: str) -> dict[str, Any]:
        """The asset's row (active version, spec, status), re-read at most every `pointer_ttl`."""
        key = (company, asset_id)
        cached = self._pointers.get(key)
        if cached is None or time.monotonic() - cached[1] > self._ttl:
            cached = (self._store.get_asset(company, asset_id), time.monotonic())
            self._pointers[key] = cached
        return cached[0]

    def active_version(self, company: str, asset_id: str) -> str:
        version: str | None = self.asset(company, asset_id)["active_version"]
        if version is None:
            raise ConflictError(
                f"Asset '{asset_id}' has no active version yet; train it (and deploy a version) first."
            )
        return version

    def forget_pointer(self, company: str, asset_id: str) -> None:
        self._pointers.pop((company, asset_id), None)

    def classifier(self, asset_id: str, version: str) -> tuple[TrainedModel, dict[str, object]]:
        model, manifest = self.get(asset_id, version)
        if not isinstance(model, TrainedModel):
            raise ConflictError(f"Version {version} of '{asset_id}' is a forecasting model.")
        return model, manifest

    def forecaster(self, asset_id: str, version: str) -> tuple[TrainedForecast, dict[str, object]]:
        model, manifest = self.get(asset_id, version)
        if not isinstance(model, TrainedForecast):
            raise ConflictError(f"Version {version} of '{asset_id}' is a classification model.")
        return model, manifest

    def get(
        self, asset_id: str, version: str
    ) -> tuple[TrainedModel | TrainedForecast, dict[str, object]]:
        """The version's model (checksums verified on first load), classifier or forecast."""
        key = (asset_id, version)
        found = self._models.get(key)
        if found is not None:
            return found
        with self._lock:
            found = self._models.get(key)
            if found is None:
                stored = self._artifacts.read(asset_id, version)
                loader = (
                    TrainedForecast.load
                    if stored.manifest.get("model_type") == "time_series"
                    else TrainedModel.load
                )
                found = (loader(stored.directory, stored.manifest), stored.manifest)
                self._models[key] = found
        return found

    def evict_asset(self, asset_id: str) -> None:
        with self._lock:
            for key in [k for k in self._models if k[0] == asset_id]:
                del self._models[key]
            for key in [k for k in self._pointers if k[1] == asset_id]:
                del self._pointers[key]
