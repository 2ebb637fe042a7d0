"""`uvicorn engine.http.asgi:app_from_environment --factory`: an app over the engine that the
environment's settings describe (what `python -m engine serve` runs in every worker)."""

from __future__ import annotations

from fastapi import FastAPI

from engine.api import Engine
from engine.http.app import create_app


def app_from_environment() -> FastAPI:
    return create_app(Engine.open())
