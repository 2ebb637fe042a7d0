"""The ports every use case works through, assembled once by `bootstrap`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from engine.artifacts import FilesystemArtifactStore
from engine.clock import iso, now
from engine.credentials import CredentialCipher
from engine.ports import Connector, JobRunner
from engine.service.execution_log import ExecutionLog
from engine.service.model_cache import ModelCache
from engine.settings import Settings
from engine.store import SqlMetadataStore


@dataclass
class Context:
    settings: Settings
    store: SqlMetadataStore
    artifacts: FilesystemArtifactStore
    models: ModelCache
    executions: ExecutionLog
    runner: JobRunner
    cipher: CredentialCipher
    connectors: dict[tuple[str, str], Connector] = field(default_factory=dict)
    serving: dict[tuple[str, str, str], Any] = field(default_factory=dict)
    clock: Callable[[], datetime] = now  # what the ledger stamps and its windows are measured to

    def now_iso(self) -> str:
        return iso(self.clock())
