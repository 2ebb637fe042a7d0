"""The HTTP face of the engine (FastAPI), a thin layer over `engine.api.Engine`."""

from engine.http.app import create_app

__all__ = ["create_app"]
