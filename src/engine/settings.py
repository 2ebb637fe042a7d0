"""Settings, read from an environment mapping in one place.

`ENGINE_HOME` holds all state (metadata database, artifacts under `models/`, keys); it defaults to
the working directory. `ENGINE_DATABASE_URL` overrides the SQLite file with any SQLAlchemy URL
(PostgreSQL for several workers sharing one store).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    models_dir: Path
    public_base_url: str = "http://127.0.0.1:8000"
    execution_log_flush_seconds: float = 0.5

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        home = Path(env.get("ENGINE_HOME") or Path.cwd()).resolve()
        return cls(
            home=home,
            database_url=env.get("ENGINE_DATABASE_URL") or f"sqlite:///{home / 'engine.db'}",
            models_dir=Path(env.get("ENGINE_MODELS_DIR") or home / "models"),
            public_base_url=env.get("ENGINE_PUBLIC_BASE_URL", cls.public_base_url).rstrip("/"),
        )

    @classmethod
    def for_home(cls, home: Path | str) -> Settings:
        return cls.from_environ({"ENGINE_HOME": str(home)})
