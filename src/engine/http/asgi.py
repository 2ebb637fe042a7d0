"""`uvicorn engine.http.asgi:app_from_environment --factory`: an app over the engine that the
environment's settings describe (what `python -m engine serve` runs in every worker)."""

from __future__ import annotations

import gc

from fastapi import FastAPI

from engine.api import Engine
from engine.http.app import create_app


def app_from_environment() -> FastAPI:
    app = create_app(Engine.open(), owns_engine=True)
    # Everything imported so far (pandas, scikit-learn, xgboost, shap: millions of objects) lives
    # as long as the process; frozen, the collector stops re-scanning it, which otherwise stalls
    # requests for tens of milliseconds at every full collection.
    gc.collect()
    gc.freeze()
    return app
