"""Opening a company's data sources: a fresh connector, or one kept open for the hot path."""

from __future__ import annotations

from typing import Any

from engine.connectors import CONNECTORS, open_connector
from engine.errors import FieldProblem, ValidationError
from engine.ports import Connector
from engine.service.context import Context


def check_paths(ctx: Context, source_type: str, config: dict[str, Any]) -> None:
    """Refuse files outside the configured data directories (when the settings confine them)."""
    allowed = ctx.settings.data_dirs
    file_paths = getattr(CONNECTORS.load(source_type), "file_paths", None)
    if allowed is None or file_paths is None:
        return
    problems = []
    for field, path in file_paths(config):
        resolved = path.expanduser().resolve()
        if not any(resolved.is_relative_to(d) for d in allowed):
            problems.append(FieldProblem(field, "outside the server's data directories"))
    if problems:
        raise ValidationError(
            "Files must lie inside the server's data directories: "
            + ", ".join(str(d) for d in allowed),
            problems,
        )


def open_source(ctx: Context, company: str, source_id: str) -> Connector:
    row = ctx.store.get_source(company, source_id)
    check_paths(ctx, row["type"], row["connection_config"])
    return open_connector(row["type"], ctx.cipher.open_config(row["connection_config"]))


def cached_connector(ctx: Context, company: str, source_id: str) -> Connector:
    """An open connector kept for the process's lifetime (entity look-ups on the hot path)."""
    key = (company, source_id)
    connector = ctx.connectors.get(key)
    if connector is None:
        connector = ctx.connectors[key] = open_source(ctx, company, source_id)
    return connector
