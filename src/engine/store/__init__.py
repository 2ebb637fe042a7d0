"""The metadata store: data sources, assets, versions and the active pointer, jobs, executions."""

from engine.store.sql import SqlMetadataStore

__all__ = ["SqlMetadataStore"]
