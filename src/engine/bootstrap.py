"""The composition root: the one place that names concrete adapters."""

from __future__ import annotations

from engine.artifacts import FilesystemArtifactStore
from engine.credentials import load_cipher
from engine.service.context import Context
from engine.service.execution_log import ExecutionLog
from engine.service.model_cache import ModelCache
from engine.service.runner import PoolJobRunner
from engine.settings import Settings
from engine.store import SqlMetadataStore


def build_context(settings: Settings) -> Context:
    settings.home.mkdir(parents=True, exist_ok=True)
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    store = SqlMetadataStore(settings.database_url)
    artifacts = FilesystemArtifactStore(settings.models_dir)
    return Context(
        settings=settings,
        store=store,
        artifacts=artifacts,
        models=ModelCache(store, artifacts),
        executions=ExecutionLog(store, settings.execution_log_flush_seconds),
        runner=PoolJobRunner(settings),
        cipher=load_cipher(settings.secret_keys, settings.secret_key_file),
    )
