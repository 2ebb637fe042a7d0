"""The app factory: `create_app(engine)` serves the REST contract over an engine."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from engine.api import Engine
from engine.http import errors
from engine.http.auth import KeyCache, RateLimiter
from engine.http.middleware import RequestLimits
from engine.http.models import ErrorBody
from engine.http.routes import assets, execution, sources, training, versions
from engine.service.recovery import recover
from engine.service.serving_watch import DeploymentWatcher

log = logging.getLogger("engine.http")

ERROR_RESPONSES: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorBody, "description": description}
    for status, description in {
        400: "Malformed request (not JSON)",
        401: "Missing, unknown or revoked API key",
        404: "No such resource for this company",
        409: "The resource's state forbids the operation",
        413: "Request body too large",
        422: "Invalid request; details name the fields",
        429: "Rate limit exceeded; see Retry-After",
        500: "Unexpected error (with an error id that is in the server log)",
        501: "Operation not available yet",
        502: "The data source's driver failed",
    }.items()
}


def create_app(engine: Engine, *, owns_engine: bool = False) -> FastAPI:
    """Serve `engine` over HTTP. File-based sources are confined to data directories from here
    on (see `Settings.serving_defaults`). At shutdown the execution records still buffered are
    written; an app that `owns_engine` also closes it."""
    settings = engine.context.settings = engine.context.settings.serving_defaults()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for line in recover(engine.context):
            log.warning("recovered job %s", line)
        watcher = DeploymentWatcher(engine.context)
        watcher.start()
        yield
        watcher.stop()
        if owns_engine:
            engine.close()
        else:
            engine.context.executions.flush()

    app = FastAPI(
        lifespan=lifespan,
        title="engine",
        version="0.1.0",
        description="Analytics execution engine: data sources, assets, training, versions, execution.",
        responses=ERROR_RESPONSES,
    )
    app.state.engine = engine
    app.state.key_cache = KeyCache()
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    errors.install(app)

    for module in (assets, execution, sources, training, versions):
        app.include_router(module.router)
    app.add_middleware(RequestLimits, max_body_bytes=settings.max_body_bytes)
    return app
