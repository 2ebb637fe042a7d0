"""The entry point a training worker (a process of the pool, or a thread) runs for one job."""

from __future__ import annotations

from typing import Any

from engine.errors import EngineError
from engine.service.context import Context
from engine.settings import Settings

_contexts: dict[Settings, Context] = {}


def _context(settings: Settings) -> Context:
    """One engine per worker process, kept between jobs (models and connections stay warm)."""
    if settings not in _contexts:
        from engine.bootstrap import build_context

        _contexts[settings] = build_context(settings)
    return _contexts[settings]


def run_training_job(
    settings: Settings, company: str, asset_id: str, job_id: str, body: dict[str, Any] | None
) -> str:
    from engine.service import training

    ctx = _context(settings)
    try:
        training.train(ctx, company, asset_id, body, job_id=job_id)
    except EngineError:
        return "failed"  # recorded on the job by the trainer
    return "completed"
